rm -rf "$OH_UV_PYTHON/.temp"
