@LAUNCH_ENVIRONMENT@
oh_no_links /workspace /workspace/project
install -d -o "$OH_USER" -g "$OH_USER" /workspace /workspace/project
