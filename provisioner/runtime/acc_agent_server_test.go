package runtimeprovisioner

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/acctest"
	"golang.org/x/sys/unix"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// TestAccProvisionerAgentServer: the docker builder and this provisioner make the V1 runtime
// with the `changes` the docs print (plan.DockerChanges of the agent-server's layout), the
// real agent-server packages installed from the rig's index, released or from the rig's SDK
// checkout at its uv.lock's versions; OpenHands' own DockerWorkspace then starts the
// committed image as SDK users do and runs a command in it.
func TestAccProvisionerAgentServer(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	const version = "1.58.2"
	for _, tc := range []struct{ name, installs string }{
		{"release", rig.AgentServerRelease(version)},
		{"checkout", rig.AgentServerCheckout(rigEnv.SDKSrc)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			image := "openhands-acc-agent-server-" + tc.name
			real, err := rig.RealInstallAttributes(rigEnv, "    ")
			if err != nil {
				t.Fatal(err)
			}
			real = strings.ReplaceAll(real, "    install_browser    = false\n", "")
			changes := rig.DockerChangesFor(plan.Layout{Runtime: plan.RuntimeAgentServer, AgentServerVersion: version})
			body := fmt.Sprintf("    runtime              = \"agent-server\"\n    %s\n%s", tc.installs, real)
			tmpl := dockerTemplate(rigEnv.TrixieImage, `"--network=host"`, changes, body, image)
			t.Cleanup(func() { rig.RemoveImages(image + ":acc") })
			acctest.TestPlugin(t, &acctest.PluginTestCase{
				Name:     "provisioner_agent_server_" + tc.name,
				Template: tmpl,
				Check:    rig.AgentServerBuilt(t, "check agent-server versions: ok"),
			})
			rig.RequireWorkspaceCommand(t, rigEnv, image+":acc", version)
		})
	}
}

// startSystemdTarget is an AMI host's stand-in: a container of the Debian 13 base whose PID 1 is
// systemd, with the AMI's login user and sshd (a systemd service) on a free loopback port.
// This sandbox grants no CAP_SYS_RESOURCE, so no --privileged: CAP_SYS_ADMIN and the cgroup
// tree are what systemd needs; on cgroups v1 (this machine's), Debian 13's systemd boots only
// when told on its command line. For the same reason no unit may raise its
// open-files limit above this machine's: a drop-in, as an operator would write, sets it.
func startSystemdTarget(t *testing.T) *sshTarget {
	t.Helper()
	keyFile, login := ec2Login(t)
	port := rig.FreeLoopbackPort(t)
	image := fmt.Sprintf("openhands-acc-systemd:%d", port)
	setup := login + fmt.Sprintf(`
install -d /etc/ssh/sshd_config.d
printf 'Port %%d\nListenAddress 127.0.0.1\nPasswordAuthentication no\nUsePAM no\n' %d >/etc/ssh/sshd_config.d/50-openhands-test.conf
systemctl enable ssh.service
install -d /etc/systemd/system/openhands-agent-server.service.d
printf '[Service]\nLimitNOFILE=%%s\n' "$(ulimit -Hn)" >/etc/systemd/system/openhands-agent-server.service.d/50-sandbox-limit.conf`, port)
	if err := rig.DeriveImage(rigEnv.TrixieImage, image, setup); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rig.RemoveImages(image) })
	name := fmt.Sprintf("openhands-acc-systemd-%d", port)
	args := []string{"run", "-d", "--name", name, "--network=host", "--cap-add", "SYS_ADMIN",
		"--security-opt", "seccomp=unconfined", "--tmpfs", "/run", "--tmpfs", "/run/lock"}
	init := []string{image, "/sbin/init"}
	var fs syscall.Statfs_t
	if err := syscall.Statfs("/sys/fs/cgroup", &fs); err == nil && fs.Type == unix.CGROUP2_SUPER_MAGIC {
		args = append(args, "--cgroupns=private")
	} else {
		args = append(args, "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro")
		init = append(init, "SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1", "systemd.unified_cgroup_hierarchy=0")
	}
	if _, err := rig.Docker(append(args, init...)...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", name).Run() })
	waitListening(t, name, port)
	return &sshTarget{container: name, port: port, keyFile: keyFile}
}

// TestAccProvisionerAgentServerUnit: over SSH as ec2-user, on a host whose PID 1 is systemd,
// the provisioner installs the V1 runtime (the real packages from the rig's index) and its
// unit; the verification starts the unit with a session key and probes it. Then the host
// serves the agent-server as an AMI would after boot: the operator's key file, the unit
// started by systemd, a command run through the API as the runtime user, 401 without the key.
// The login user is never touched.
func TestAccProvisionerAgentServerUnit(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	target := startSystemdTarget(t)
	login := "getent passwd ec2-user; id ec2-user; cat /etc/sudoers.d/90-cloud-init-users"
	before := target.exec(t, login)
	real, err := rig.RealInstallAttributes(rigEnv, "    ")
	if err != nil {
		t.Fatal(err)
	}
	real = strings.ReplaceAll(real, "    install_browser    = false\n", "")
	body := "    runtime              = \"agent-server\"\n    agent_server_version = \"1.58.2\"\n    agent_server_port    = 8123\n" + real
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "provisioner_agent_server_unit",
		Template: target.template("", body),
		Check:    rig.AgentServerBuilt(t, "check agent-server unit: ok (openhands-agent-server.service on port 8123"),
	})
	if after := target.exec(t, login); after != before {
		t.Errorf("the login user changed:\n%s\nwas:\n%s", after, before)
	}
	got := target.exec(t, `set -e
systemctl is-enabled openhands-agent-server.service
systemctl is-active openhands-agent-server.service || true
stat -c '%U %a' /etc/openhands
printf 'OH_SESSION_API_KEYS_0=%s\n' operator-key >/etc/openhands/agent-server.env
chmod 0600 /etc/openhands/agent-server.env
systemctl start openhands-agent-server.service
for i in $(seq 60); do curl -fs -o /dev/null http://127.0.0.1:8123/health && break; sleep 1; done
curl -sS -H 'X-Session-API-Key: operator-key' -H 'Content-Type: application/json' -d '{"command": "id -un", "timeout": 30}' http://127.0.0.1:8123/api/bash/execute_bash_command
echo
curl -sS -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' -d '{"command": "id -un", "timeout": 30}' http://127.0.0.1:8123/api/bash/execute_bash_command
systemctl stop openhands-agent-server.service`)
	lines := strings.Split(got, "\n")
	if len(lines) != 5 || lines[0] != "enabled" || lines[1] != "inactive" || lines[2] != "root 700" ||
		!strings.Contains(lines[3], "openhands") || lines[4] != "401" {
		t.Errorf("the host after provisioning:\n%s\nwant the unit enabled and stopped, /etc/openhands root's alone, a command run as openhands with the operator's key and 401 without", got)
	}
}
