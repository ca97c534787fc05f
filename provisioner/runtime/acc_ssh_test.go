package runtimeprovisioner

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/acctest"
	"golang.org/x/crypto/ssh"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
)

// sshTarget is an sshd in a container of the base image, listening on 127.0.0.1 only (host
// network), with the login user of an Amazon Linux 2023 AMI: ec2-user, UID/GID 1000,
// passwordless sudo, key authentication. startSSHTarget's runArgs are more `docker run`
// options of the container (a filesystem of its own for the prefix).
type sshTarget struct {
	container string
	port      int
	keyFile   string
	// fileTransfer, when set, is the build's ssh_file_transfer_method (Packer's default is scp).
	fileTransfer string
}

func startSSHTarget(t *testing.T, runArgs ...string) *sshTarget {
	t.Helper()
	keyFile, login := ec2Login(t)
	image := "openhands-acc-sshd:latest"
	if err := rig.DeriveImage(rigEnv.BaseImage, image, login+"\nmkdir -p /run/sshd"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rig.RemoveImages(image) })

	port := rig.FreeLoopbackPort(t)
	name := fmt.Sprintf("openhands-acc-sshd-%d", port)
	args := append([]string{"run", "-d", "--name", name, "--network=host"}, runArgs...)
	if _, err := rig.Docker(append(args, image,
		"/usr/sbin/sshd", "-D", "-e", "-p", fmt.Sprint(port), "-o", "ListenAddress=127.0.0.1",
		"-o", "PasswordAuthentication=no", "-o", "UsePAM=no")...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", name).Run() })
	waitListening(t, name, port)
	return &sshTarget{container: name, port: port, keyFile: keyFile}
}

// ec2Login makes a key pair and returns the private key's file and the shell that gives an
// image the login user of an Amazon Linux 2023 AMI with the public key authorized.
func ec2Login(t *testing.T) (keyFile, script string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "openhands acceptance test")
	if err != nil {
		t.Fatal(err)
	}
	keyFile = filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return keyFile, fmt.Sprintf(`set -e
groupadd -g 1000 ec2-user
useradd -m -u 1000 -g 1000 -s /bin/bash ec2-user
# no password, but not locked: sshd without PAM refuses keys of a locked account
usermod -p '*' ec2-user
echo 'ec2-user ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/90-cloud-init-users
chmod 0440 /etc/sudoers.d/90-cloud-init-users
install -d -m 0700 -o ec2-user -g ec2-user /home/ec2-user/.ssh
echo '%s' > /home/ec2-user/.ssh/authorized_keys
chown ec2-user:ec2-user /home/ec2-user/.ssh/authorized_keys
chmod 0600 /home/ec2-user/.ssh/authorized_keys`, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))))
}

// waitListening waits for the target's sshd to accept connections on 127.0.0.1:port.
func waitListening(t *testing.T, container string, port int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			logs, _ := rig.Docker("logs", container)
			t.Fatalf("sshd did not listen on 127.0.0.1:%d: %v\n%s", port, err, logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// template is a build of the provisioner on the target as ec2-user, with the provisioner's
// attributes body (and source_dir set to src, unless empty).
func (s *sshTarget) template(src, body string) string {
	if src != "" {
		body = fmt.Sprintf("    source_dir      = %q\n", src) + body
	}
	transfer := ""
	if s.fileTransfer != "" {
		transfer = fmt.Sprintf("  ssh_file_transfer_method = %q\n", s.fileTransfer)
	}
	return fmt.Sprintf(`
source "null" "ec2" {
  communicator         = "ssh"
  ssh_host             = "127.0.0.1"
  ssh_port             = %d
  ssh_username         = "ec2-user"
  ssh_private_key_file = %q
  ssh_timeout          = "30s"
%s}

build {
  sources = ["source.null.ec2"]

  provisioner "openhands-runtime" {
%s  }
}
`, s.port, s.keyFile, transfer, body)
}

// exec runs a command in the target as root.
func (s *sshTarget) exec(t *testing.T, script string) string {
	t.Helper()
	out, err := rig.Docker("exec", s.container, "/bin/bash", "-c", script)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

func TestAccProvisionerOverSSHAsEC2User(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	target := startSSHTarget(t)
	// The listing leaves out "..": /home changes when the plan creates /home/openhands.
	loginUser := "getent passwd ec2-user; id ec2-user; cat /etc/sudoers.d/90-cloud-init-users; ls -la --time-style=full-iso /home/ec2-user | grep -v ' [.][.]$'"
	before := target.exec(t, loginUser)

	standins := standinAttributes(t)
	sbomPath := filepath.Join(t.TempDir(), "ec2.sbom.cdx.json")
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "provisioner_ssh_ec2_user",
		Template: target.template(copyFixture(t), standins+fmt.Sprintf("    sbom_path       = %q\n", sbomPath)),
		Check:    rig.VerifiedBuild(t),
	})

	if after := target.exec(t, loginUser); after != before {
		t.Errorf("the login user changed:\nbefore\n%s\nafter\n%s", before, after)
	}
	if got := target.exec(t, "id -u openhands; id -g openhands; id -nG openhands"); got != "1001\n1001\nopenhands sudo" {
		t.Errorf("openhands should take the next free ids after ec2-user's 1000 and join sudo, got %q", got)
	}
	if got := target.exec(t, "find /openhands /home/openhands ! -user openhands | head -n 3"); got != "" {
		t.Errorf("files not owned by openhands: %s", got)
	}
	if got := target.exec(t, "ls /tmp | grep -c openhands-plan || true"); got != "0" {
		t.Errorf("the plan left files in /tmp: %s", target.exec(t, "ls /tmp"))
	}
	// The SBOM of a machine over SSH: its dpkg packages, as many as dpkg-query -W lists there.
	sbom := readSBOM(t, sbomPath)
	if debs := target.exec(t, "dpkg-query -W | wc -l"); strconv.Itoa(len(sbom["deb"])) != debs || len(sbom["pypi"]) == 0 {
		t.Errorf("the SBOM lists %d deb packages (the machine %s) and %d distributions", len(sbom["deb"]), debs, len(sbom["pypi"]))
	}
	target.launch(t)
}

// launch starts the runtime on the machine as OpenHands' launcher does, as root from the code
// directory with the machine's environment (/etc/environment, what a session there gets) and
// DockerRuntime's variables, and requires GET /alive to answer 200. The user id is the runtime
// user's (the login user holds 1000), as the docs tell users to pass it (RUNTIME_UID).
func (s *sshTarget) launch(t *testing.T) {
	t.Helper()
	port, vscodePort := rig.FreeLoopbackPort(t), rig.FreeLoopbackPort(t)
	args := []string{"exec", "-d", "-w", "/openhands/code"}
	for _, line := range strings.Split(s.exec(t, "cat /etc/environment"), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			args = append(args, "-e", k+"="+strings.Trim(v, `"`))
		}
	}
	for _, kv := range rig.LauncherEnv(port, vscodePort) {
		args = append(args, "-e", kv)
	}
	uid, err := strconv.Atoi(s.exec(t, "id -u openhands"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rig.Docker(append(append(args, s.container), rig.LauncherCommand(port, uid, true)...)...); err != nil {
		t.Fatal(err)
	}
	// Bracketed patterns: pkill -f would match this shell's own command line otherwise.
	defer s.exec(t, "pkill -f 'openhands[.]runtime[.]action_execution_server'; pkill -f '[o]penvscode-server'; true")
	if err := rig.WaitAlive(port, rig.LaunchTimeout); err != nil {
		t.Fatalf("the provisioned machine under OpenHands' launcher: %v", err)
	}
}
