package plan

import (
	"fmt"
	"strings"
)

// AgentServerUnit is the systemd unit that serves the agent-server on a machine (an AMI), and
// AgentServerEnvFile the root-only file it reads its session keys (OH_SESSION_API_KEYS_0, ...)
// and other settings from, written by operators or user data; it may be missing.
const (
	AgentServerUnit    = "openhands-agent-server.service"
	AgentServerEnvFile = "/etc/openhands/agent-server.env"
)

// agentServerUnit renders the unit: the image's command without tini (systemd reaps), as the
// runtime user, with the launch environment and then the operator's file over it.
func agentServerUnit(o Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[Unit]\nDescription=OpenHands agent-server %s (packer-plugin-openhands)\n", o.AgentServerVersion)
	b.WriteString("Wants=network-online.target\nAfter=network-online.target\n\n[Service]\nType=simple\n")
	fmt.Fprintf(&b, "User=%s\nGroup=%s\nWorkingDirectory=/\n", o.User, o.User)
	for _, v := range completeLaunchEnv(o) {
		fmt.Fprintf(&b, "Environment=%s\n", systemdQuote(v.Name+"="+v.Value))
	}
	fmt.Fprintf(&b, "EnvironmentFile=-%s\n", AgentServerEnvFile)
	fmt.Fprintf(&b, "ExecStart=%s -m openhands.agent_server --host 0.0.0.0 --port %d\n", o.agentServerPython(), *o.AgentServerPort)
	b.WriteString("Restart=on-failure\nRestartSec=5\nLimitNOFILE=65536\n\n[Install]\nWantedBy=multi-user.target\n")
	return b.String()
}

// systemdQuote quotes a unit setting's word: double quotes, with \\ and \" escaped and % doubled.
func systemdQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "%", "%%").Replace(s) + `"`
}

// agentServerUnitStep installs and enables the unit where systemd runs (an EC2 instance); in a
// container there is none, and the image's entry point starts the server. The login user is
// never touched.
func agentServerUnitStep(o Options) Step {
	unit := agentServerUnit(o)
	return Step{
		Name: "service",
		User: RootUser,
		Check: `[ ! -d /run/systemd/system ] || { cmp -s /etc/systemd/system/` + AgentServerUnit + ` - <<-'UNIT' && systemctl is-enabled --quiet ` + AgentServerUnit + `
` + unit + `UNIT
}`,
		Commands: []Command{{Shell: `if [ ! -d /run/systemd/system ]; then
	oh_say "no systemd here: the image's entry point starts the server"
	return 0
fi
install -d -m 0700 "$(dirname ` + AgentServerEnvFile + `)"
tmp=$(mktemp)
cat >"$tmp" <<-'UNIT'
` + unit + `UNIT
install -m 0644 "$tmp" /etc/systemd/system/` + AgentServerUnit + `
rm -f "$tmp"
systemctl daemon-reload
systemctl enable --quiet ` + AgentServerUnit + `
oh_say "` + AgentServerUnit + ` enabled: put OH_SESSION_API_KEYS_0 in ` + AgentServerEnvFile + ` (root only) before it serves"`}},
	}
}

// agentServerUnitCheck starts the unit with a session key for this check alone (a runtime
// drop-in, gone at the next boot and removed after) and probes it as the launch check does;
// it stops the unit after. Without systemd it says so.
func agentServerUnitCheck(o Options) Check {
	return Check{
		Name: "agent-server unit",
		Root: true,
		Shell: fmt.Sprintf(`if [ ! -d /run/systemd/system ]; then echo "no systemd: the image's entry point starts the server"; exit 0; fi
`+sessionKeyShell+`
dropin=/run/systemd/system/%[1]s.d
install -d -m 0700 "$dropin"
printf '[Service]
Environment=OH_SESSION_API_KEYS_0=%%s
Environment=OH_ENABLE_VSCODE=false
' "$key" >"$dropin/50-openhands-check.conf"
chmod 0600 "$dropin/50-openhands-check.conf"
systemctl daemon-reload && systemctl restart %[1]s || { systemctl status --no-pager %[1]s | tail -n 5; exit 1; }
%[3]s
systemctl stop %[1]s
rm -rf "$dropin"
systemctl daemon-reload
if [ "$rc" -ne 0 ]; then printf '%%s
' "$out"; journalctl -u %[1]s --no-pager -n 5 2>/dev/null; exit 1; fi
echo "%[1]s on port %[2]d: $out"`, AgentServerUnit, *o.AgentServerPort,
			agentServerProbeShell(fmt.Sprint(*o.AgentServerPort), *o.Verify.StartServerTimeout)),
	}
}
