package runtimeprovisioner

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
)

// secretMarkers are distinct passwords of this test process in the three mirror options, a
// proxy URL of environment_vars (with env, more entries of it) and secret_environment_vars.
// Its verify command proves that the secret environment variable reaches the steps, and that
// the plan's own secrets do not reach a step that does not read them.
func secretMarkers(env ...string) (body string, markers []string) {
	id := fmt.Sprintf("%d%d", os.Getpid(), time.Now().UnixNano()%1e6)
	markers = []string{"pwIndex" + id, "pwExtra" + id, "pwAlias" + id, "pwProxy" + id, "pwToken" + id}
	env = append([]string{fmt.Sprintf("ACC_PROXY=http://ci:%s@proxy.internal:3128", markers[3])}, env...)
	body = fmt.Sprintf(`    index_url               = "https://ci:%s@pypi.internal/simple"
    extra_index_urls        = ["https://pypi.internal/public", "https://ci:%s@wheels.internal/simple"]
    channel_alias           = "https://ci:%s@conda.internal/api"
    environment_vars        = ["%s"]
    secret_environment_vars = ["ACC_TOKEN=%s"]
    verify {
      commands = ["test -n \"$ACC_TOKEN\" && test -z \"$(printenv OH_INDEX_URL OH_EXTRA_INDEX_URLS OH_CHANNEL_ALIAS MAMBA_CHANNEL_ALIAS)\""]
    }
`, markers[0], markers[1], markers[2], strings.Join(env, `", "`), markers[4])
	return body, markers
}

// failingDependencies makes the dependency step fail, its secrets loaded: a requirement the
// lock contradicts.
const failingDependencies = "    extra_pip_packages = [\"pydantic>=999\"]\n"

// markersIn returns the markers found in data.
func markersIn(data []byte, markers []string) []string {
	var found []string
	for _, m := range markers {
		if bytes.Contains(data, []byte(m)) {
			found = append(found, m)
		}
	}
	return found
}

// TestAccSecretsNeverInTheImage provisions a docker container with mirrors whose URLs carry
// credentials, a proxy with a password and a secret environment variable, commits it, and
// searches, not trusts: every layer and the config of `docker save`, `docker history
// --no-trunc`, and the Packer log (PACKER_LOG=1) hold none of the passwords. A second build
// fails in the dependency step and leaves its container (-on-error=abort): its whole
// filesystem (`docker export`) and the Packer log hold none either.
func TestAccSecretsNeverInTheImage(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	body, markers := secretMarkers()
	tag := fmt.Sprintf("openhands-acc-secrets-%d", os.Getpid())
	t.Cleanup(func() { rig.RemoveImages(tag + ":acc") })
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "provisioner_secrets_docker",
		Template: accTemplate(t, rigEnv.BaseImage, offlineRun, body, tag),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			if found := markersIn([]byte(rig.ReadLog(t, logfile)), markers); len(found) > 0 {
				return fmt.Errorf("the Packer log holds %v", found)
			}
			return nil
		},
	})
	image := tag + ":acc"
	// docker save writes every layer uncompressed, the config and the manifest.
	if found := scanCommand(t, exec.Command("docker", "save", image), markers); len(found) > 0 {
		t.Errorf("the saved image (layers, config) holds %v", found)
	}
	history, err := rig.Docker("history", "--no-trunc", image)
	if err != nil {
		t.Fatal(err)
	}
	if found := markersIn([]byte(history), markers); len(found) > 0 {
		t.Errorf("docker history holds %v", found)
	}

	body, markers = secretMarkers()
	run := rig.StartPacker(t, rigEnv.Packer, accTemplate(t, rigEnv.BaseImage, offlineRun, body+failingDependencies, tag+"-failed"), "-on-error=abort")
	if code := run.Wait(t, 10*time.Minute); code == 0 {
		t.Fatalf("a build failing in the dependency step exited 0:\n%s", run.Output())
	}
	m := containerID.FindStringSubmatch(run.Output())
	if m == nil {
		t.Fatalf("no container in the build's output:\n%s", run.Output())
	}
	t.Cleanup(func() { rig.Docker("rm", "-f", m[1]) })
	if !strings.Contains(run.Output(), `step "dependencies" failed`) {
		t.Errorf("the build did not fail in the dependency step:\n%s", run.Output())
	}
	// docker export writes the container's whole filesystem.
	if found := scanCommand(t, exec.Command("docker", "export", m[1]), markers); len(found) > 0 {
		t.Errorf("the failed build's container holds %v", found)
	}
	if found := markersIn([]byte(run.Output()+run.Log(t)), markers); len(found) > 0 {
		t.Errorf("the failed build's output or Packer log holds %v", found)
	}
}

// scanCommand runs cmd and returns the markers its standard output holds.
func scanCommand(t *testing.T, cmd *exec.Cmd, markers []string) []string {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := scanForMarkers(t, out, markers)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	return found
}

// scanForMarkers reads r to its end and returns the markers it holds, also across reads.
func scanForMarkers(t *testing.T, r io.Reader, markers []string) []string {
	t.Helper()
	seen := map[string]bool{}
	var tail []byte
	buf := make([]byte, 1<<20)
	for {
		n, err := r.Read(buf)
		chunk := append(tail, buf[:n]...)
		for _, m := range markersIn(chunk, markers) {
			seen[m] = true
		}
		if len(chunk) > 64 {
			tail = append([]byte(nil), chunk[len(chunk)-64:]...)
		} else {
			tail = chunk
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	var found []string
	for _, m := range markers {
		if seen[m] {
			found = append(found, m)
		}
	}
	return found
}

// sampleCommandLines lists the container's process command lines every 100 ms until the
// returned stop is called, which returns the listings that showed a marker.
func sampleCommandLines(container string, markers []string) (stop func() []string) {
	done := make(chan struct{})
	var mu sync.Mutex
	var seen []string
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		for {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
			out, _ := exec.Command("docker", "exec", container, "ps", "-eo", "args").Output()
			if len(markersIn(out, markers)) > 0 {
				mu.Lock()
				seen = append(seen, string(out))
				mu.Unlock()
			}
		}
	}()
	return func() []string {
		close(done)
		sampler.Wait()
		return seen
	}
}

// checkMachineClean fails the test when a sampled command line showed a marker, or a file on
// the machine (outside /proc, /sys, /dev) holds one, or the plan left files in /tmp.
func checkMachineClean(t *testing.T, name string, target *sshTarget, onCommandLine, markers []string) {
	t.Helper()
	if len(onCommandLine) > 0 {
		t.Errorf("%s: a password was on a command line:\n%s", name, onCommandLine[0])
	}
	// grep's own command line holds the markers, in /proc only.
	grep := "grep -rlF --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev -e " + strings.Join(markers, " -e ") + " / 2>/dev/null || true"
	if hits := target.exec(t, grep); hits != "" {
		t.Errorf("%s: files on the machine hold a password:\n%s", name, hits)
	}
	if left := target.exec(t, "ls /tmp | grep openhands-plan || true"); left != "" {
		t.Errorf("%s: the plan left %s in /tmp", name, left)
	}
	// micromamba recorded the channel under the alias: the search above saw where its
	// credentials were, and they were taken out.
	if got := target.exec(t, "grep -rlF https://conda.internal/api/conda-forge/ /openhands/micromamba || true"); got == "" {
		t.Errorf("%s: no record of micromamba names the channel alias's URL", name)
	}
}

// uploadCopies is where keepUploads's stand-in for sh keeps the bundles it is run on, outside
// /tmp, which checkMachineClean expects the plan to leave clean.
const uploadCopies = "/var/lib/openhands-acc-uploads"

// keepUploads puts a stand-in for sh first in the target's PATH (and sudo's secure_path), which
// copies a bundle it is asked to run before the real sh runs it: the launcher removes the
// bundle at once, and the test must see what was uploaded.
func keepUploads(t *testing.T, target *sshTarget) {
	t.Helper()
	target.exec(t, `set -e
install -d -m 0700 `+uploadCopies+`
cat >/usr/local/bin/sh <<'EOF'
#!/bin/sh
case ${1:-} in
/tmp/openhands-plan-*.run) cp "$1" `+uploadCopies+`/ ;;
esac
exec /bin/sh "$@"
EOF
chmod 0755 /usr/local/bin/sh`)
}

// checkUploads fails the test unless the target ran exactly one bundle since the last check
// (keepUploads), and that bundle holds none of markers: neither in its bytes nor in any file
// of its gzip-compressed payload. The copies are then removed.
func checkUploads(t *testing.T, name string, target *sshTarget, markers []string) {
	t.Helper()
	list := target.exec(t, "ls "+uploadCopies)
	copies := strings.Fields(list)
	if len(copies) != 1 {
		t.Errorf("%s: the target ran %d bundles (%q), want 1", name, len(copies), list)
	}
	for _, c := range copies {
		data, err := exec.Command("docker", "exec", target.container, "cat", uploadCopies+"/"+c).Output()
		if err != nil {
			t.Fatalf("%s: reading the copy of %s: %v", name, c, err)
		}
		if found := markersIn(data, markers); len(found) > 0 {
			t.Errorf("%s: the uploaded bundle %s holds %v", name, c, found)
		}
		for file, content := range readBundle(t, data).files {
			if found := markersIn(content, markers); len(found) > 0 {
				t.Errorf("%s: %s in the uploaded bundle %s holds %v", name, file, c, found)
			}
		}
	}
	target.exec(t, "rm -f "+uploadCopies+"/*")
}

// TestAccSecretsNeverOnTheMachine runs the provisioner over SSH with the same secrets, once
// through, once failing in the dependency step, and once cancelled (Ctrl-C) during it, and
// after each greps the machine's whole filesystem (outside /proc, /sys, /dev), where the
// micromamba stand-in records the channel's URL with its credentials as the real one can, and
// the Packer log; while the plan runs, the process list is sampled: no command line shows a
// password. The bundle each run uploaded (with sftp, which leaves it readable by others, and
// with scp) is kept as the target got it and holds none either: the secrets came on the run
// command's standard input.
func TestAccSecretsNeverOnTheMachine(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	target := startSSHTarget(t)
	keepUploads(t, target)
	standins := standinAttributes(t)
	for _, run := range []struct {
		name, extra, transfer string
		fails                 bool
	}{
		{"provisioner_secrets_ssh", "", "sftp", false},
		{"provisioner_secrets_ssh_failed", failingDependencies, "", true},
	} {
		target.fileTransfer = run.transfer
		body, markers := secretMarkers()
		stop := sampleCommandLines(target.container, markers)
		acctest.TestPlugin(t, &acctest.PluginTestCase{
			Name:     run.name,
			Template: target.template(copyFixture(t), standins+body+run.extra),
			Check: func(cmd *exec.Cmd, logfile string) error {
				check := rig.BuildSucceeded
				if run.fails {
					check = rig.BuildFailed
				}
				if err := check(cmd, logfile); err != nil {
					return err
				}
				log := rig.ReadLog(t, logfile)
				if run.fails && !strings.Contains(log, `step "dependencies" failed`) {
					return fmt.Errorf("the build did not fail in the dependency step")
				}
				// The secrets reached uv all the same: the index and both extra indexes.
				if !strings.Contains(log, "Using 3 package indexes") {
					return fmt.Errorf("uv did not get the three indexes")
				}
				if !run.fails && !strings.Contains(log, "check command 1: ok") {
					return fmt.Errorf("the verify command did not pass")
				}
				if found := markersIn([]byte(log), markers); len(found) > 0 {
					return fmt.Errorf("the Packer log holds %v", found)
				}
				// The SSH communicator's own log line for an sftp upload.
				if run.transfer == "sftp" && !strings.Contains(log, "sftp: uploading") {
					return fmt.Errorf("the bundle was not uploaded over sftp")
				}
				return nil
			},
		})
		checkMachineClean(t, run.name, target, stop(), markers)
		checkUploads(t, run.name, target, markers)
	}

	// Cancelled while uv installs, on a machine of its own (the one above has the
	// dependencies installed, so they would be skipped).
	target = startSSHTarget(t)
	keepUploads(t, target)
	body, markers := secretMarkers("UV_STANDIN_SLOW=600")
	stop := sampleCommandLines(target.container, markers)
	run := interruptDuringDependencies(t, target.template(copyFixture(t), standins+body), func(string) string { return target.container })
	checkSSHPlanStopped(t, run, target)
	if found := markersIn([]byte(run.Output()+run.Log(t)), markers); len(found) > 0 {
		t.Errorf("the cancelled build's output or Packer log holds %v", found)
	}
	checkMachineClean(t, "provisioner_secrets_ssh_cancelled", target, stop(), markers)
	checkUploads(t, "provisioner_secrets_ssh_cancelled", target, markers)
}
