package plan

import (
	"fmt"
	"strings"
)

// agentServerChecks are the agent-server's verification checks: its imports and packages, its
// four distributions at one version, its venv on the Python the plan installed and, with
// verify.launch, tini, the tools and the server started as the image and the unit start it.
func agentServerChecks(o Options) []Check {
	out := append(importChecks(o), packageCountCheck(o))
	if !o.usesUVPython() {
		out = append(out, micromambaOwnershipCheck)
	}
	out = append(out,
		Check{
			Name: "agent-server versions",
			Python: checkFile("agent-server-versions.py", map[string]string{
				"VERSION": fmt.Sprintf("%q", o.AgentServerVersion), "PACKAGES": pythonList(agentServerPackages),
			}),
		},
		selfContainedVenvCheck(o),
	)
	if *o.Verify.Launch {
		out = append(out, Check{
			Name: "tini",
			// The package's, or the tini step's under the prefix (on the image's PATH).
			Shell: checkFile("tini.sh", nil),
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
		Shell: checkFile("agent-server-launch.sh", map[string]string{
			"SESSION_KEY": checkFile("session-key.sh", nil),
			"LAUNCH_ENV":  strings.Join(launchAssignments(o), " "),
			"COMMAND":     strings.Join(shellQuoteAll(agentServerCommand(o.Layout)), " "),
			"PROBE":       agentServerProbeShell(`"$port"`, *o.Verify.StartServerTimeout),
		}),
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

// agentServerProbeShell runs agentServerProbe against the server on port (a shell word) with
// $key, setting out to what it printed and rc to its status: the launch check's and the unit
// check's probe.
func agentServerProbeShell(port string, timeout int) string {
	return checkFile("agent-server-probe.sh", map[string]string{"PORT": port, "TIMEOUT": fmt.Sprint(timeout), "PROBE": agentServerProbe})
}

// agentServerProbe is the launch check's client, in the venv's Python (the standard library
// only): arguments port, key, user, version, timeout in seconds.
var agentServerProbe = checkFile("agent-server-probe.py", nil)
