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
func agentServerUnitStep(o Options, _ Inputs) Step {
	unit := agentServerUnit(o)
	return Step{
		User:     RootUser,
		Check:    stepShell("service.check", map[string]string{"UNIT": AgentServerUnit, "UNIT_FILE": unit}),
		Commands: []Command{{Shell: stepShell("service", map[string]string{"UNIT": AgentServerUnit, "UNIT_FILE": unit, "ENV_FILE": AgentServerEnvFile})}},
	}
}

// agentServerUnitCheck starts the unit with a session key for this check alone (a runtime
// drop-in, gone at the next boot and removed after) and probes it as the launch check does;
// it stops the unit after. Without systemd it says so.
func agentServerUnitCheck(o Options) Check {
	return Check{
		Name: "agent-server unit",
		Root: true,
		Shell: checkFile("agent-server-unit.sh", map[string]string{
			"SESSION_KEY": checkFile("session-key.sh", nil),
			"UNIT":        AgentServerUnit,
			"PORT":        fmt.Sprint(*o.AgentServerPort),
			"PROBE":       agentServerProbeShell(fmt.Sprint(*o.AgentServerPort), *o.Verify.StartServerTimeout),
		}),
	}
}
