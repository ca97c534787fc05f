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

	"github.com/openhands-runtime/packer-plugin-openhands/internal/rig"
)

// secretMarkers are distinct passwords of this test process in the three mirror options.
func secretMarkers() (body string, markers []string) {
	id := fmt.Sprintf("%d%d", os.Getpid(), time.Now().UnixNano()%1e6)
	markers = []string{"pwIndex" + id, "pwExtra" + id, "pwAlias" + id}
	body = fmt.Sprintf(`    index_url        = "https://ci:%s@pypi.internal/simple"
    extra_index_urls = ["https://pypi.internal/public", "https://ci:%s@wheels.internal/simple"]
    channel_alias    = "https://ci:%s@conda.internal/api"
`, markers[0], markers[1], markers[2])
	return body, markers
}

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
// credentials, commits it, and searches, not trusts: every layer and the config of `docker
// save`, `docker history --no-trunc`, and the Packer log (PACKER_LOG=1) hold none of the
// passwords.
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
	save := exec.Command("docker", "save", image)
	out, err := save.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := save.Start(); err != nil {
		t.Fatal(err)
	}
	found := scanForMarkers(t, out, markers)
	if err := save.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Errorf("the saved image (layers, config) holds %v", found)
	}
	history, err := rig.Docker("history", "--no-trunc", image)
	if err != nil {
		t.Fatal(err)
	}
	if found := markersIn([]byte(history), markers); len(found) > 0 {
		t.Errorf("docker history holds %v", found)
	}
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

// TestAccSecretsNeverOnTheMachine runs the provisioner over SSH with the same mirrors, once
// through and once failing in the dependency step, and after each greps the machine's whole
// filesystem (outside /proc, /sys, /dev) and the Packer log; while the plan runs, the process
// list is sampled: no command line shows a password.
func TestAccSecretsNeverOnTheMachine(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	target := startSSHTarget(t)
	standins := standinAttributes(t)
	for _, run := range []struct {
		name, extra string
		fails       bool
	}{
		{"provisioner_secrets_ssh", "", false},
		// A requirement the lock contradicts fails the dependency step, secrets loaded.
		{"provisioner_secrets_ssh_failed", "    extra_pip_packages = [\"pydantic>=999\"]\n", true},
	} {
		body, markers := secretMarkers()
		template := target.template(copyFixture(t), standins+body+run.extra)
		stop := make(chan struct{})
		var mu sync.Mutex
		var onCommandLine []string
		var sampler sync.WaitGroup
		sampler.Add(1)
		go func() {
			defer sampler.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
				out, _ := exec.Command("docker", "exec", target.container, "ps", "-eo", "args").Output()
				if found := markersIn(out, markers); len(found) > 0 {
					mu.Lock()
					onCommandLine = append(onCommandLine, string(out))
					mu.Unlock()
				}
			}
		}()
		acctest.TestPlugin(t, &acctest.PluginTestCase{
			Name:     run.name,
			Template: template,
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
				if found := markersIn([]byte(log), markers); len(found) > 0 {
					return fmt.Errorf("the Packer log holds %v", found)
				}
				return nil
			},
		})
		close(stop)
		sampler.Wait()
		if len(onCommandLine) > 0 {
			t.Errorf("%s: a password was on a command line:\n%s", run.name, onCommandLine[0])
		}
		// grep's own command line holds the markers, in /proc only.
		grep := "grep -rlF --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev -e " + strings.Join(markers, " -e ") + " / 2>/dev/null || true"
		if hits := target.exec(t, grep); hits != "" {
			t.Errorf("%s: files on the machine hold a password:\n%s", run.name, hits)
		}
		if left := target.exec(t, "ls /tmp | grep openhands-plan || true"); left != "" {
			t.Errorf("%s: the plan left %s in /tmp", run.name, left)
		}
	}
}
