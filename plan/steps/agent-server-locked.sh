requirements=$(mktemp)
"$OH_UV" export --no-config --frozen --python "$OH_AGENT_PY" --all-packages --no-dev --no-editable --no-emit-workspace \
	@EXPORT_HASHES@--no-header --format requirements-txt --output-file "$requirements" >/dev/null
oh_retry "$OH_UV" pip install @UV_PIP_INSTALL@ @HASHES@--requirement "$requirements"
rm -f "$requirements"
