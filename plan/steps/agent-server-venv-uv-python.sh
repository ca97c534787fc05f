export UV_PYTHON_DOWNLOADS=manual UV_PYTHON_INSTALL_DIR="$OH_UV_PYTHON"
if [ -n "$OH_PYTHON_INSTALL_MIRROR" ]; then export UV_PYTHON_INSTALL_MIRROR="$OH_PYTHON_INSTALL_MIRROR"; fi
if [ -n "$OH_PYTHON_DOWNLOADS_JSON_URL" ]; then export UV_PYTHON_DOWNLOADS_JSON_URL="$OH_PYTHON_DOWNLOADS_JSON_URL"; fi
# --no-bin: the interpreter is the venv's, not a command of the user's PATH.
oh_retry "$OH_UV" python install --no-config --no-bin "$OH_PYTHON_VERSION"
@RECREATE_VENV@
if [ ! -x "$OH_AGENT_PY" ]; then
	"$OH_UV" venv --no-config --managed-python --python "$OH_PYTHON_VERSION" "$OH_AGENT_VENV"
fi
