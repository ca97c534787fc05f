@UV_INDEX@
export UV_PYTHON_DOWNLOADS=never
oh_retry "$OH_UV" pip install @UV_PIP_INSTALL@ --no-deps \
	@REINSTALL@ \
	@PACKAGE_DIRS@
