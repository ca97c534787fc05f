# On a second run these belong to the runtime user: install -d would follow a planted link.
oh_no_links "$OH_PREFIX" "$OH_PREFIX/bin" "$OH_PREFIX/logs" "$OH_CODE" "$OH_PREFIX/workspace" "$OH_PREFIX/poetry"
install -d -o "$OH_USER" -g "$OH_USER" "$OH_PREFIX" "$OH_PREFIX/bin" "$OH_PREFIX/logs" "$OH_CODE" "$OH_PREFIX/workspace" "$OH_PREFIX/poetry"
chmod g+rws "$OH_PREFIX/workspace"
# uv was installed before the user existed.
chown -R "$OH_USER:$OH_USER" "$OH_PREFIX/bin"
@RECORD@
