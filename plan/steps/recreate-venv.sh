if [ -x "$OH_AGENT_PY" ] && [ "$("$OH_AGENT_PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$OH_PYTHON_VERSION" ]; then
	rm -rf "$OH_AGENT_VENV"
fi
