@ETC_ENVIRONMENT@
for rc in "$OH_BASHRC" /root/.bashrc "/home/$OH_USER/.bashrc"; do
	grep -qxF '# >>> openhands runtime >>>' "$rc"
done
