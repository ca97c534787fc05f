package rig

import (
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
)

// agentClientScript drives an agent-server image the way an SDK user does: DockerWorkspace
// starts the image (docker run ... IMAGE --host 0.0.0.0 --port 8000), waits for /health, and
// runs a command through the server's API. The server shares the host's network, so the test
// reaches nothing but loopback: host_port is then the port the server itself listens on.
const agentClientScript = `import sys
from openhands.workspace import DockerWorkspace

image, platform = sys.argv[1], sys.argv[2]
with DockerWorkspace(server_image=image, network="host", host_port=8000, platform=platform,
                     detach_logs=False, health_check_timeout=180) as workspace:
    result = workspace.execute_command("echo ok; id -un; pwd")
    print("exit_code=%s" % result.exit_code)
    print(result.stdout)
`

// DriveAgentServer runs OpenHands' own client (openhands-workspace at version, the real
// packages from the rig's index) against image and returns what the command printed: "ok",
// the user and the working directory. The client needs Python 3.12 or later, which the host
// (Debian 12) lacks: it runs in a container of the Debian 13 base with the host's docker CLI
// and engine socket, and its venv and uv's cache stay in the rig's cache.
func DriveAgentServer(t *testing.T, env *Env, image, version string) string {
	t.Helper()
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Fatal(err)
	}
	if docker, err = filepath.EvalSymlinks(docker); err != nil {
		t.Fatal(err)
	}
	client := filepath.Join(env.Cache, "agent-client", version)
	cache := filepath.Join(env.Cache, "agent-client", "uv-cache")
	for _, dir := range []string{client, cache} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(t.TempDir(), "client.py")
	if err := os.WriteFile(script, []byte(agentClientScript), 0o644); err != nil {
		t.Fatal(err)
	}
	setup := `set -e
if [ ! -x /client/venv/bin/python ]; then
	/uv venv --python /usr/bin/python3 /client/venv.tmp
	/uv pip install --python /client/venv.tmp/bin/python --index-url "$INDEX" "openhands-workspace==$VERSION" "openhands-sdk==$VERSION"
	mv /client/venv.tmp /client/venv
fi
exec /client/venv/bin/python /client.py "$IMAGE" "$PLATFORM"`
	out, err := exec.Command("docker", "run", "--rm", "--network=host",
		"-v", "/var/run/docker.sock:/var/run/docker.sock",
		"-v", docker+":/usr/local/bin/docker:ro",
		"-v", env.UV+":/uv:ro",
		"-v", client+":/client",
		"-v", cache+":/uv-cache",
		"-v", script+":/client.py:ro",
		"-e", "UV_CACHE_DIR=/uv-cache", "-e", "INDEX="+env.IndexURL, "-e", "VERSION="+version,
		"-e", "IMAGE="+image, "-e", "PLATFORM=linux/"+goruntime.GOARCH,
		"-e", "http_proxy="+ClosedProxy, "-e", "https_proxy="+ClosedProxy, "-e", "no_proxy=127.0.0.1,localhost",
		env.TrixieImage, "bash", "-c", setup).CombinedOutput()
	if err != nil {
		t.Fatalf("OpenHands' DockerWorkspace against %s: %v\n%s", image, err, tail(string(out), 40))
	}
	return string(out)
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
