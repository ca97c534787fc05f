# OpenHands runtime image, rendered by packer-plugin-openhands test from its install plan.
FROM ubuntu:24.04
USER root
COPY openhands-plan/plan.sh /opt/openhands-plan/
COPY openhands-plan/bin/ /opt/openhands-plan/bin/
RUN bash /opt/openhands-plan/plan.sh --steps preflight,system-packages,uv,user,directories,micromamba,python-env,vscode-server,tini
COPY --chown=openhands:openhands openhands-plan/deps/ /openhands/code/
RUN bash /opt/openhands-plan/plan.sh --steps code,agent-server
COPY --chown=openhands:openhands openhands-plan/code/ /openhands/code/
RUN bash /opt/openhands-plan/plan.sh --steps code,checkout-packages,environment,service,cleanup,verify
ENV LANG=C.UTF-8 LC_ALL=C.UTF-8 LOG_JSON=true OH_ENABLE_VNC=false EDITOR=code VISUAL=code GIT_EDITOR="code --wait" OPENVSCODE_SERVER_ROOT=/openhands/.openvscode-server PATH=/openhands/agent-server/bin:/openhands/bin:${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}
USER openhands
WORKDIR /
EXPOSE 8000 8001
ENTRYPOINT ["tini", "--", "/openhands/agent-server/bin/python", "-m", "openhands.agent_server"]
CMD []
