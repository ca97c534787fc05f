@CHANNEL_ALIAS@
"$OH_MM" create -n "$OH_ENV" -y
# The action server's Poetry is installed for tools that expect it, never used to install:
# it cannot parse the Amazon Linux 2023 kernel release.
oh_retry "$OH_MM" install -n "$OH_ENV" -c "$OH_CONDA_CHANNEL" @CONDA_PACKAGES@"python=$OH_PYTHON_VERSION" -y
# The env is created as root but the dependency install runs as the runtime user.
chown -R "$OH_USER:$OH_USER" "$MAMBA_ROOT_PREFIX"
