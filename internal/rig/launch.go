package rig

import (
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// LaunchTimeout is how long a launched runtime may take to answer /alive.
const LaunchTimeout = 60 * time.Second

// LauncherCommand is the command OpenHands' DockerRuntime starts a runtime with (the default
// python prefix of openhands/runtime/utils/command.py and the server module, all plugins, the
// openhands user with its id: 1000 unless the runtime's RUNTIME_UID says otherwise), unmodified.
func LauncherCommand(port, userID int) []string {
	return []string{
		"/openhands/micromamba/bin/micromamba", "run", "-n", "openhands", "poetry", "run",
		"python", "-u", "-m", "openhands.runtime.action_execution_server", fmt.Sprint(port),
		"--working-dir", "/workspace", "--plugins", "agent_skills", "jupyter", "vscode",
		"--username", "openhands", "--user-id", fmt.Sprint(userID),
	}
}

// LauncherEnv is the environment DockerRuntime adds to the image's own.
func LauncherEnv(port, vscodePort int) []string {
	return []string{
		"port=" + fmt.Sprint(port), "PYTHONUNBUFFERED=1", "VSCODE_PORT=" + fmt.Sprint(vscodePort),
		"OPENHANDS_SESSION_ID=acceptance", "PIP_BREAK_SYSTEM_PACKAGES=1",
	}
}

// FreeLoopbackPort is a TCP port free on 127.0.0.1 when asked.
func FreeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// WaitAlive polls GET http://127.0.0.1:port/alive until it answers 200 or timeout passes.
func WaitAlive(port int, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	last := fmt.Errorf("no answer")
	for time.Now().Before(deadline) {
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/alive", port))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("status %s", resp.Status)
		} else {
			last = err
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("GET /alive on 127.0.0.1:%d did not answer 200 within %s: %v", port, timeout, last)
}

// LaunchImage starts image exactly as OpenHands' DockerRuntime does (no entrypoint, working
// directory /openhands/code, the launcher command, its environment added to the image's) and
// requires GET /alive to answer 200 within LaunchTimeout. The container shares the host's
// network so the test reaches it on loopback.
func LaunchImage(t *testing.T, image string) {
	t.Helper()
	port, vscodePort := FreeLoopbackPort(t), FreeLoopbackPort(t)
	args := []string{"run", "-d", "--network=host", "--entrypoint", "", "-w", "/openhands/code"}
	for _, kv := range LauncherEnv(port, vscodePort) {
		args = append(args, "-e", kv)
	}
	id, err := Docker(append(append(args, image), LauncherCommand(port, 1000)...)...)
	if err != nil {
		t.Fatalf("starting %s as OpenHands does: %v", image, err)
	}
	id = strings.TrimSpace(id)
	defer exec.Command("docker", "rm", "-f", id).Run()
	if err := WaitAlive(port, LaunchTimeout); err != nil {
		logs, _ := Docker("logs", "--tail", "30", id)
		t.Fatalf("%s under OpenHands' launcher: %v\ncontainer output:\n%s", image, err, logs)
	}
	// The launcher never depended on Poetry: the image's own Poetry fails every command on
	// this rig, as on an Amazon Linux 2023 host.
	out, err := Docker("run", "--rm", "--network=none", "--entrypoint", "", "-w", "/openhands/code", image,
		"/openhands/micromamba/bin/micromamba", "run", "-n", "openhands", "poetry", "--version")
	if err == nil || !strings.Contains(out, "Could not parse version constraint: 6.1.159-182.297.amzn2023.x86_64") {
		t.Errorf("poetry --version in %s should reach the (failing) real Poetry: %v\n%s", image, err, out)
	}
}
