@ETC_ENVIRONMENT@
for rc in "$OH_BASHRC" /root/.bashrc "/home/$OH_USER/.bashrc"; do
	oh_set_block "$rc" <<-'BLOCK'
@RC_BLOCK@
	BLOCK
done
chown -h "$OH_USER:$OH_USER" "/home/$OH_USER/.bashrc"
