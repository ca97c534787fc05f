# OpenHands runtime image, rendered by packer-plugin-openhands test from its install plan.
FROM registry.internal:5000/base/ubuntu:24.04
USER root
COPY openhands-plan/plan.sh /opt/openhands-plan/
COPY openhands-plan/bin/ /opt/openhands-plan/bin/
RUN bash /opt/openhands-plan/plan.sh --steps preflight,system-packages,uv,user,directories,micromamba,python-env,vscode-server
COPY --chown=agent:agent openhands-plan/deps/ /srv/openhands/code/
RUN bash /opt/openhands-plan/plan.sh --steps code
RUN bash /opt/openhands-plan/plan.sh --steps dependencies
RUN bash /opt/openhands-plan/plan.sh --steps browser
COPY --chown=agent:agent openhands-plan/code/ /srv/openhands/code/
RUN bash /opt/openhands-plan/plan.sh --steps code,environment,cleanup,verify
ENV LANG=C.UTF-8 LC_ALL=C.UTF-8 EDITOR=code VISUAL=code GIT_EDITOR="code --wait" OPENVSCODE_SERVER_ROOT=/srv/openhands/.openvscode-server POETRY_VIRTUALENVS_PATH=/srv/openhands/poetry MAMBA_ROOT_PREFIX=/srv/openhands/micromamba OH_INTERPRETER_PATH=/srv/openhands/micromamba/envs/openhands/bin/python PLAYWRIGHT_BROWSERS_PATH=/opt/playwright-browsers PATH=/srv/openhands/bin:/srv/openhands/micromamba/bin:${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}
WORKDIR /srv/openhands/code
