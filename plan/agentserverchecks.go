package plan

import (
	"fmt"
	"strings"
)

// agentServerChecks are the agent-server's verification checks: its imports and packages, its
// four distributions at one version, its venv on the Python the plan installed and, with
// verify.launch, tini, the tools and the server started as the image and the unit start it.
func agentServerChecks(o Options) []Check {
	out := importChecks(o)
	out = append(out,
		packageCountCheck(o),
	)
	if !o.usesUVPython() {
		out = append(out, micromambaOwnershipCheck)
	}
	out = append(out,
		Check{
			Name: "agent-server versions",
			Python: fmt.Sprintf(`import importlib.metadata
want = %q
found = {name: importlib.metadata.version(name) for name in %s}
wrong = ["%%s %%s" %% (name, v) for name, v in found.items() if v != want]
if wrong:
    raise CheckFailed("want %%s for all four, found %%s" %% (want, ", ".join(wrong)))
return "%%s at %%s" %% (", ".join(found), want)`, o.AgentServerVersion, pythonList(agentServerPackages)),
		},
		selfContainedVenvCheck(o),
	)
	if *o.Verify.Launch {
		out = append(out, Check{
			Name: "tini",
			// The package's, or the tini step's under the prefix (on the image's PATH).
			Shell: `tini=$(command -v tini || echo "$OH_TINI")
"$tini" --version`,
		})
		out = append(out, runtimeToolChecks(o)...)
		out = append(out, agentServerLaunchCheck(o), agentServerUnitCheck(o))
	}
	return append(out, commandChecks(o)...)
}

// pythonList renders names as a Python list literal.
func pythonList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// agentServerLaunchCheck starts the server as the image's entry point does, as the runtime
// user with only the launch environment and a random session key, on a free loopback port;
// waits for /health; and checks /server_info's versions and that a bash command runs as the
// runtime user with the key and is refused without it.
func agentServerLaunchCheck(o Options) Check {
	return Check{
		Name: "agent-server launch",
		Root: true,
		Shell: fmt.Sprintf(`port=$("$OH_AGENT_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') || exit 1
`+sessionKeyShell+`
work=$(mktemp -d) log=$(mktemp)
chown "$OH_USER:$OH_USER" "$work"
# A session of its own, so the server and what it starts stop together. VS Code is checked on
# its own: the server would start it on a fixed port.
# The probe's here-document is indented with the script: <<- strips the tabs.
(cd "$work" && exec setsid env -i HOME="/home/$OH_USER" %s OH_SESSION_API_KEYS_0="$key" OH_ENABLE_VSCODE=false \
	runuser -u "$OH_USER" -- %s --host 127.0.0.1 --port "$port") >"$log" 2>&1 &
pid=$!
%s
kill -TERM -- -"$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
if [ "$rc" -ne 0 ]; then printf '%%s\n' "$out" "server log:"; tail -n 5 "$log"; fi
rm -rf "$work" "$log"
[ "$rc" -eq 0 ] && printf '%%s\n' "$out"`,
			strings.Join(launchAssignments(o), " "), strings.Join(shellQuoteAll(agentServerCommand(o.Layout)), " "),
			agentServerProbeShell(`"$port"`, *o.Verify.StartServerTimeout)),
	}
}

// shellQuoteAll quotes each word.
func shellQuoteAll(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = shellQuote(w)
	}
	return out
}

// sessionKeyShell sets key to a random session key for one check's server.
const sessionKeyShell = `key=$("$OH_AGENT_PY" -c 'import secrets; print(secrets.token_hex(16))') || exit 1`

// agentServerProbeShell runs agentServerProbe against the server on port (a shell word) with
// $key, setting out to what it printed and rc to its status: the launch check's and the unit
// check's probe.
func agentServerProbeShell(port string, timeout int) string {
	return fmt.Sprintf(`rc=0
out=$("$OH_AGENT_PY" - %s "$key" "$OH_USER" "$OH_AGENT_SERVER_VERSION" %d <<-'OH_AGENT_PROBE' 2>&1) || rc=$?
%s
OH_AGENT_PROBE`, port, timeout, agentServerProbe)
}

// agentServerProbe is the launch check's client, in the venv's Python (the standard library
// only): arguments port, key, user, version, timeout in seconds.
const agentServerProbe = `import json, sys, time, urllib.error, urllib.request
port, key, user, version, timeout = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
base = "http://127.0.0.1:%s" % port

def call(path, body=None, key=None):
    req = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode())
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("X-Session-API-Key", key)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()

deadline = time.time() + timeout
while True:
    try:
        if call("/health")[0] == 200:
            break
    except OSError:
        pass
    if time.time() > deadline:
        sys.exit("GET /health did not answer 200 within %ds" % timeout)
    time.sleep(0.5)
started = timeout - (deadline - time.time())
status, body = call("/server_info", key=key)
if status != 200:
    sys.exit("GET /server_info answered %d: %s" % (status, body[:200]))
info = json.loads(body)
for field in ("version", "sdk_version", "tools_version", "workspace_version"):
    if info.get(field) != version:
        sys.exit("/server_info %s is %r, want %s" % (field, info.get(field), version))
command = {"command": "echo ok; id -un", "timeout": 30}
status, body = call("/api/bash/execute_bash_command", command, key=key)
if status != 200:
    sys.exit("POST /api/bash/execute_bash_command with the session key answered %d: %s" % (status, body[:200]))
output = json.loads(body)
words = str(output.get("stdout", output)).split()
if words[:2] != ["ok", user]:
    sys.exit("the bash command printed %r, want ok and %s" % (" ".join(words[:4]), user))
status, body = call("/api/bash/execute_bash_command", command)
if status != 401:
    sys.exit("POST /api/bash/execute_bash_command without the session key answered %d, want 401" % status)
print("healthy after %.1fs, versions %s, a bash command ran as %s with the session key and was refused (401) without it" % (started, version, user))`
