# OpenHands runtime image, rendered by packer-plugin-openhands test from its install plan.
FROM openhands-runtime:oh_vtest_0123456789abcdef
COPY openhands-plan/plan.sh /opt/openhands-plan/
USER root
RUN rm -rf /openhands/code/*
COPY --chown=openhands:openhands openhands-plan/code/ /openhands/code/
RUN bash /opt/openhands-plan/plan.sh --steps code,checkout-packages,environment,service,cleanup,verify
USER openhands
WORKDIR /
EXPOSE 8000 8001
ENTRYPOINT ["tini", "--", "/openhands/agent-server/bin/python", "-m", "openhands.agent_server"]
CMD []
