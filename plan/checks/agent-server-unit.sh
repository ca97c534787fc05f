if [ ! -d /run/systemd/system ]; then echo "no systemd: the image's entry point starts the server"; exit 0; fi
@SESSION_KEY@
dropin=/run/systemd/system/@UNIT@.d
install -d -m 0700 "$dropin"
printf '[Service]
Environment=OH_SESSION_API_KEYS_0=%s
Environment=OH_ENABLE_VSCODE=false
' "$key" >"$dropin/50-openhands-check.conf"
chmod 0600 "$dropin/50-openhands-check.conf"
systemctl daemon-reload && systemctl restart @UNIT@ || { systemctl status --no-pager @UNIT@ | tail -n 5; exit 1; }
@PROBE@
systemctl stop @UNIT@
rm -rf "$dropin"
systemctl daemon-reload
if [ "$rc" -ne 0 ]; then printf '%s
' "$out"; journalctl -u @UNIT@ --no-pager -n 5 2>/dev/null; exit 1; fi
echo "@UNIT@ on port @PORT@: $out"
