package rig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// LaunchTimeout is how long a launched runtime may take to answer /alive.
const LaunchTimeout = 60 * time.Second

// realLaunchTimeout is LaunchTimeout for OpenHands' real server, which imports its whole
// dependency tree and starts a Jupyter kernel gateway first (about 20 s on an idle machine;
// the tests share two cores).
const realLaunchTimeout = 3 * time.Minute

// LauncherCommand is the command OpenHands' DockerRuntime starts a runtime with (the default
// python prefix of openhands/runtime/utils/command.py and the server module, all plugins, the
// openhands user with its id: 1000 unless the runtime's RUNTIME_UID says otherwise), unmodified.
// Without browser, it ends in --no-enable-browser, as command.py renders it for a config with
// enable_browser = false.
func LauncherCommand(port, userID int, browser bool) []string {
	cmd := []string{
		"/openhands/micromamba/bin/micromamba", "run", "-n", "openhands", "poetry", "run",
		"python", "-u", "-m", "openhands.runtime.action_execution_server", fmt.Sprint(port),
		"--working-dir", "/workspace", "--plugins", "agent_skills", "jupyter", "vscode",
		"--username", "openhands", "--user-id", fmt.Sprint(userID),
	}
	if !browser {
		cmd = append(cmd, "--no-enable-browser")
	}
	return cmd
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

// launched is a runtime container started as OpenHands' DockerRuntime starts one.
type launched struct {
	id, image        string
	port, vscodePort int
}

// launch starts image exactly as OpenHands' DockerRuntime does (no entrypoint, working
// directory /openhands/code, the launcher command, its environment and env added to the
// image's) and requires GET /alive to answer 200 within timeout. The container shares the
// host's network so the test reaches it on loopback; it is removed when the test ends.
func launch(t *testing.T, image string, browser bool, timeout time.Duration, env ...string) launched {
	t.Helper()
	l := launched{image: image, port: FreeLoopbackPort(t), vscodePort: FreeLoopbackPort(t)}
	args := []string{"run", "-d", "--network=host", "--entrypoint", "", "-w", plan.DefaultPrefix + "/" + plan.CodeDir}
	for _, kv := range append(LauncherEnv(l.port, l.vscodePort), env...) {
		args = append(args, "-e", kv)
	}
	id, err := Docker(append(append(args, image), LauncherCommand(l.port, 1000, browser)...)...)
	if err != nil {
		t.Fatalf("starting %s as OpenHands does: %v", image, err)
	}
	l.id = strings.TrimSpace(id)
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", l.id).Run() })
	if err := WaitAlive(l.port, timeout); err != nil {
		l.fatal(t, "%v", err)
	}
	return l
}

// stop removes the container (launch also has it removed when the test ends).
func (l launched) stop() { exec.Command("docker", "rm", "-f", l.id).Run() }

// fatal fails the test with what the launched container printed last.
func (l launched) fatal(t *testing.T, format string, args ...any) {
	t.Helper()
	logs, _ := Docker("logs", "--tail", "40", l.id)
	t.Fatalf("%s under OpenHands' launcher: %s\ncontainer output:\n%s", l.image, fmt.Sprintf(format, args...), logs)
}

// LaunchImage starts image as OpenHands' DockerRuntime does (see launch) and requires GET
// /alive to answer 200 within LaunchTimeout.
func LaunchImage(t *testing.T, image string) {
	t.Helper()
	launch(t, image, true, LaunchTimeout).stop()
	poetryFails(t, image)
}

// poetryFails requires the image's own Poetry to fail: it does on this rig, as on an Amazon
// Linux 2023 host, so a launch that answered never depended on Poetry.
func poetryFails(t *testing.T, image string) {
	t.Helper()
	out, err := Docker("run", "--rm", "--network=none", "--entrypoint", "", "-w", plan.DefaultPrefix+"/"+plan.CodeDir, image,
		"/openhands/micromamba/bin/micromamba", "run", "-n", "openhands", "poetry", "--version")
	if err == nil || !strings.Contains(out, "Could not parse version constraint: 6.1.159-182.297.amzn2023.x86_64") {
		t.Errorf("poetry --version in %s should reach the (failing) real Poetry: %v\n%s", image, err, out)
	}
}

// LaunchRealImage is the launch check for an image holding OpenHands' real server: started by
// the unmodified launcher line for a config without a browser (Playwright's browser download
// host is out of reach here, so no image of the rig has Chromium), it must answer /alive, its
// vscode plugin must have started openvscode-server on VSCODE_PORT, and POST /execute_action
// with a run action, under the session API key, must return the command's output as run by
// the openhands user. The same request without the key must be refused.
func LaunchRealImage(t *testing.T, image string) {
	t.Helper()
	const apiKey = "acceptance-session-key"
	l := launch(t, image, false, realLaunchTimeout, "SESSION_API_KEY="+apiKey)
	defer l.stop()
	client := &http.Client{Timeout: 2 * time.Minute}
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/", l.vscodePort))
	if err != nil {
		l.fatal(t, "openvscode-server (the vscode plugin) does not answer on VSCODE_PORT %d: %v", l.vscodePort, err)
	}
	resp.Body.Close()

	action := `{"action": {"action": "run", "args": {"command": "echo launched-$((6 * 7)) as $(whoami)", "blocking": true}}}`
	post := func(key string) (int, []byte) {
		req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/execute_action", l.port), strings.NewReader(action))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("X-Session-API-Key", key)
		}
		resp, err := client.Do(req)
		if err != nil {
			l.fatal(t, "POST /execute_action: %v", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	if status, body := post(""); status != http.StatusForbidden {
		l.fatal(t, "POST /execute_action without X-Session-API-Key answered %d, want 403 (the real server checks SESSION_API_KEY): %s", status, body)
	}
	status, body := post(apiKey)
	var obs struct {
		Observation string `json:"observation"`
		Content     string `json:"content"`
		Extras      struct {
			Metadata struct {
				ExitCode int    `json:"exit_code"`
				Username string `json:"username"`
			} `json:"metadata"`
		} `json:"extras"`
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&obs); status != http.StatusOK || err != nil {
		l.fatal(t, "POST /execute_action answered %d (%v): %s", status, err, body)
	}
	if obs.Observation != "run" || strings.TrimSpace(obs.Content) != "launched-42 as openhands" || obs.Extras.Metadata.ExitCode != 0 {
		l.fatal(t, "POST /execute_action ran the command wrongly: want a run observation with \"launched-42 as openhands\" and exit code 0, got %s", body)
	}
	// No poetryFails here: OpenHands' lock pins Poetry itself, so the real uv replaced the
	// stand-in's failing one; LaunchImage shows the launcher does not need Poetry.
}
