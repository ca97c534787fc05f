package rig

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
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

// dockerLimitShim stands in front of the docker CLI in the client's container. DockerWorkspace
// runs the server with --ulimit nofile=65536:65536; a machine whose hard limit of open files is
// lower (this sandbox allows 20000, and no process may raise it) cannot start such a
// container, so the shim asks for the machine's limit instead. Nothing else changes.
const dockerLimitShim = `#!/bin/sh
for arg; do
	shift
	[ "$arg" != nofile=65536:65536 ] || arg="nofile=$NOFILE:$NOFILE"
	set -- "$@" "$arg"
done
exec /usr/local/lib/docker-cli "$@"
`

// DriveAgentServer runs OpenHands' own client (openhands-workspace at version, the real
// packages from the rig's index) against image and returns what the command printed: "ok", the user and the working directory. The client
// needs Python 3.12 or later, which the host (Debian 12) lacks: it runs in a container of the
// Debian 13 base with the host's docker CLI and engine socket, and its venv and uv's cache
// stay in the rig's cache.
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
	// On the host network the server always binds port 8000 (and the client checks 8001 and
	// 8002): the last client's container may hold them a moment after it returned.
	waitPortsFree(t, 8000, 8001, 8002)
	dir := t.TempDir()
	script, shim := filepath.Join(dir, "client.py"), filepath.Join(dir, "docker")
	if err := os.WriteFile(script, []byte(agentClientScript), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(shim, []byte(dockerLimitShim), 0o755); err != nil {
		t.Fatal(err)
	}
	var nofile syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &nofile); err != nil {
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
		"-v", docker+":/usr/local/lib/docker-cli:ro",
		"-v", shim+":/usr/local/bin/docker:ro",
		"-e", fmt.Sprintf("NOFILE=%d", min(nofile.Max, 65536)),
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

// waitPortsFree waits up to a minute until each port can be bound on every interface.
func waitPortsFree(t *testing.T, ports ...int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for _, port := range ports {
		for {
			l, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
			if err == nil {
				l.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("port %d is still taken after a minute: %v", port, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// AgentServerBuilt is the check of a packer build that made an agent-server runtime: it
// succeeded and its log holds the launch check's pass and each of the other lines wanted.
func AgentServerBuilt(t *testing.T, want ...string) func(*exec.Cmd, string) error {
	return func(cmd *exec.Cmd, logfile string) error {
		if err := BuildSucceeded(cmd, logfile); err != nil {
			return err
		}
		log := ReadLog(t, logfile)
		for _, line := range append([]string{"check agent-server launch: ok"}, want...) {
			if !strings.Contains(log, line) {
				return fmt.Errorf("the build log lacks %q", line)
			}
		}
		return nil
	}
}

// RequireWorkspaceCommand drives image with OpenHands' DockerWorkspace (DriveAgentServer) and
// fails unless the command ran as the runtime user openhands and exited 0.
func RequireWorkspaceCommand(t *testing.T, env *Env, image, version string) {
	t.Helper()
	out := DriveAgentServer(t, env, image, version)
	if !strings.Contains(out, "exit_code=0\nok\nopenhands\n") {
		t.Errorf("DockerWorkspace's execute_command printed:\n%s\nwant exit code 0, ok and the user openhands", out)
	}
}

// AgentServerRelease and AgentServerCheckout say what a template's agent-server installs: a
// release from the index, or a checkout.
func AgentServerRelease(version string) string {
	return fmt.Sprintf("agent_server_version = %q", version)
}
func AgentServerCheckout(dir string) string { return fmt.Sprintf("source_dir           = %q", dir) }

// AgentServerUVPython is more of a template's installs: Python from uv, from the downloads
// JSON at url (PythonDownloads), and no micromamba.
func AgentServerUVPython(url string) string {
	return fmt.Sprintf("\n  %s = %q\n  python_downloads_json_url = %q", uvPythonOption, plan.PythonSourceUV, url)
}

const uvPythonOption = "python_source"

// AgentServerBuilderTemplate is an HCL template whose `source "openhands-runtime" "image"`
// builds the agent-server (installs: AgentServerRelease or AgentServerCheckout) on the Debian
// 13 base from the rig's index (the real-install attributes, host network reaching only
// loopback), naming its images repository:acc. withArm64 builds linux/arm64 too, on the arm64
// base with the arm64 uv (uv_path_by_platform; emulated), tagging acc-amd64 and acc-arm64.
// build holds more lines of the build block (post-processors).
func AgentServerBuilderTemplate(env *Env, repository, installs string, withArm64 bool, build string) (string, error) {
	attrs, err := RealInstallAttributes(env, "  ")
	if err != nil {
		return "", err
	}
	// The action server's browser switch, which the agent-server refuses.
	attrs = strings.ReplaceAll(attrs, "  install_browser    = false\n", "")
	if strings.Contains(installs, uvPythonOption) {
		// Python from uv: no micromamba to supply.
		attrs = regexp.MustCompile(`(?m)^ *micromamba_path .*\n`).ReplaceAllString(attrs, "")
	}
	if withArm64 {
		// The arm64 base carries what the checks use, not every system package. Measured
		// emulated on two cores: byte-compiling the venv took over ten minutes, importing the
		// server's modules without bytecode six, and the server did not answer /health within
		// six more; so no bytecode, no imports, no launch (the other tests check those).
		attrs += fmt.Sprintf(`  platforms          = ["linux/amd64", "linux/arm64"]
  base_images        = { "linux/arm64" = %q }
  uv_path_by_platform = { "linux/arm64" = %q }
  system_packages    = false
  agent_server_compile_bytecode = false
  verify {
    launch  = false
    imports = []
  }
`, env.Arm64Image, env.UVArm64)
	}
	return fmt.Sprintf(`
source "openhands-runtime" "image" {
  runtime              = "agent-server"
  %s
  base_image           = %q
  pull                 = false
  network_mode         = "host"
  image_repository     = %q
  tags                 = ["acc"]
%s}

build {
  sources = ["source.openhands-runtime.image"]
%s
}
`, installs, env.TrixieImage, repository, attrs, build), nil
}
