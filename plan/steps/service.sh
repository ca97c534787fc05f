if [ ! -d /run/systemd/system ]; then
	oh_say "no systemd here: the image's entry point starts the server"
	return 0
fi
install -d -m 0700 "$(dirname @ENV_FILE@)"
tmp=$(mktemp)
cat >"$tmp" <<-'UNIT'
@UNIT_FILE@
UNIT
install -m 0644 "$tmp" /etc/systemd/system/@UNIT@
rm -f "$tmp"
systemctl daemon-reload
systemctl enable --quiet @UNIT@
oh_say "@UNIT@ enabled: put OH_SESSION_API_KEYS_0 in @ENV_FILE@ (root only) before it serves"
