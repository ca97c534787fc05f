key=$("$OH_AGENT_PY" -c 'import secrets; print(secrets.token_hex(16))') || exit 1
