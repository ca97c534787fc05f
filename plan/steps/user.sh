if ! id -u "$OH_USER" >/dev/null 2>&1; then
	id_=$(oh_pick_id)
	getent group "$OH_USER" >/dev/null || groupadd -g "$id_" "$OH_USER"
	useradd -m -d "/home/$OH_USER" -s /bin/bash -u "$id_" -g "$OH_USER" "$OH_USER"
	oh_say "created user $OH_USER with uid $(id -u "$OH_USER") and gid $(id -g "$OH_USER")"
fi
usermod -aG "$OH_ADMIN_GROUP" "$OH_USER"
@SUDOERS@
