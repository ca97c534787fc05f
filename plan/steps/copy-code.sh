for entry in "$OH_BUNDLE/code"/* "$OH_BUNDLE/code"/.[!.]*; do
	[ -e "$entry" ] || continue
	rm -rf "${OH_CODE:?}/$(basename "$entry")"
	cp -R "$entry" "$OH_CODE/"
done
