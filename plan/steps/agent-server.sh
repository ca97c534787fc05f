@UV_INDEX@
# Python comes from the micromamba environment alone: uv never downloads one.
export UV_PYTHON_DOWNLOADS=never
# A venv of another Python (python_version changed) is made anew: uv would keep its interpreter.
if [ -x "$OH_AGENT_PY" ] && [ "$("$OH_AGENT_PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$OH_PYTHON_VERSION" ]; then
	rm -rf "$OH_AGENT_VENV"
fi
if [ ! -x "$OH_AGENT_PY" ]; then
	"$OH_UV" venv --no-config --python "$OH_ENV_PY" "$OH_AGENT_VENV"
fi
@INSTALL@
