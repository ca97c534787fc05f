chmod -R a+rX "$PLAYWRIGHT_BROWSERS_PATH"
oh_no_links "/home/$OH_USER/.cache"
for home in /root "/home/$OH_USER"; do
	install -d "$home/.cache"
	[ -L "$home/.cache/ms-playwright" ] || rm -rf "$home/.cache/ms-playwright"
	ln -sfn "$PLAYWRIGHT_BROWSERS_PATH" "$home/.cache/ms-playwright"
done
chown -h "$OH_USER:$OH_USER" "/home/$OH_USER/.cache"
chown -h "$OH_USER:$OH_USER" "/home/$OH_USER/.cache/ms-playwright"
