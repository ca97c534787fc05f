# OpenHands runtime image, rendered by packer-plugin-openhands test from its install plan.
FROM registry.internal:5000/base/ubuntu:24.04
USER root
COPY openhands-plan/plan.sh /opt/openhands-plan/
COPY openhands-plan/bin/ /opt/openhands-plan/bin/
RUN bash /opt/openhands-plan/plan.sh --steps preflight,system-packages,uv,user,directories,micromamba,python-env
COPY --chown=agent:agent openhands-plan/deps/ /srv/openhands/code/
RUN bash /opt/openhands-plan/plan.sh --steps code
RUN bash /opt/openhands-plan/plan.sh --steps dependencies
RUN bash /opt/openhands-plan/plan.sh --steps browser
COPY --chown=agent:agent openhands-plan/code/ /srv/openhands/code/
RUN bash /opt/openhands-plan/plan.sh --steps code,environment,cleanup,verify
ENV MAMBA_ROOT_PREFIX=/srv/openhands/micromamba PATH=/srv/openhands/bin:/srv/openhands/micromamba/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin OH_INTERPRETER_PATH=/srv/openhands/micromamba/envs/openhands/bin/python PLAYWRIGHT_BROWSERS_PATH=/opt/playwright-browsers
WORKDIR /srv/openhands/code
