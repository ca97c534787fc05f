@LAUNCH_ENVIRONMENT@
# A fresh file beside the shim (the env's bin belongs to the runtime user), renamed over it.
shim=$(mktemp "$OH_ENV_BIN/.poetry.XXXXXX")
cat >"$shim" <<-'POETRY'
@POETRY_SHIM@
	POETRY
chmod 0755 "$shim"
chown -h "$OH_USER:$OH_USER" "$shim"
mv -f "$shim" "$OH_ENV_BIN/poetry"
oh_as_user "$OH_MM" config set changeps1 False >/dev/null
