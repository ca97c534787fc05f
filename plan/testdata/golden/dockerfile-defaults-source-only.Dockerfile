# OpenHands runtime image, rendered by packer-plugin-openhands test from its install plan.
FROM openhands-runtime:oh_vtest_0123456789abcdef
COPY openhands-plan/plan.sh /opt/openhands-plan/
RUN rm -rf /openhands/code/pyproject.toml /openhands/code/poetry.lock /openhands/code/uv.lock /openhands/code/README.md /openhands/code/LICENSE /openhands/code/openhands /openhands/code/skills /openhands/code/microagents
COPY --chown=openhands:openhands openhands-plan/code/ /openhands/code/
RUN bash /opt/openhands-plan/plan.sh --steps code,environment,cleanup,verify
