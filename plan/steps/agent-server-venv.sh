export UV_PYTHON_DOWNLOADS=never
@RECREATE_VENV@
if [ ! -x "$OH_AGENT_PY" ]; then
	"$OH_UV" venv --no-config --python "$OH_ENV_PY" "$OH_AGENT_VENV"
fi
