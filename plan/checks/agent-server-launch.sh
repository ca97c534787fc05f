port=$("$OH_AGENT_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') || exit 1
@SESSION_KEY@
work=$(mktemp -d) log=$(mktemp)
chown "$OH_USER:$OH_USER" "$work"
# A session of its own, so the server and what it starts stop together. VS Code is checked on
# its own: the server would start it on a fixed port.
# The probe's here-document is indented with the script: <<- strips the tabs.
(cd "$work" && exec setsid env -i HOME="/home/$OH_USER" @LAUNCH_ENV@ OH_SESSION_API_KEYS_0="$key" OH_ENABLE_VSCODE=false \
	runuser -u "$OH_USER" -- @COMMAND@ --host 127.0.0.1 --port "$port") >"$log" 2>&1 &
pid=$!
@PROBE@
kill -TERM -- -"$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
if [ "$rc" -ne 0 ]; then printf '%s\n' "$out" "server log:"; tail -n 5 "$log"; fi
rm -rf "$work" "$log"
[ "$rc" -eq 0 ] && printf '%s\n' "$out"
