# OpenHands runtime image, rendered by packer-plugin-openhands test from its install plan.
FROM nikolaik/python-nodejs:python3.12-nodejs22
USER root
COPY openhands-plan/plan.sh /opt/openhands-plan/
COPY openhands-plan/bin/ /opt/openhands-plan/bin/
RUN bash /opt/openhands-plan/plan.sh --steps preflight,system-packages,uv,user,directories,micromamba,python-env,vscode-server
COPY --chown=openhands:openhands openhands-plan/deps/ /openhands/code/
RUN bash /opt/openhands-plan/plan.sh --steps code
RUN bash /opt/openhands-plan/plan.sh --steps dependencies
RUN bash /opt/openhands-plan/plan.sh --steps browser
COPY --chown=openhands:openhands openhands-plan/code/ /openhands/code/
RUN bash /opt/openhands-plan/plan.sh --steps code,environment,cleanup,verify
ENV LANG=C.UTF-8 LC_ALL=C.UTF-8 EDITOR=code VISUAL=code GIT_EDITOR="code --wait" OPENVSCODE_SERVER_ROOT=/openhands/.openvscode-server POETRY_VIRTUALENVS_PATH=/openhands/poetry MAMBA_ROOT_PREFIX=/openhands/micromamba OH_INTERPRETER_PATH=/openhands/micromamba/envs/openhands/bin/python PLAYWRIGHT_BROWSERS_PATH=/opt/playwright-browsers PATH=/openhands/bin:/openhands/micromamba/bin:${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}
WORKDIR /openhands/code
