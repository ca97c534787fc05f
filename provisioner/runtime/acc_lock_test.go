package runtimeprovisioner

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
)

// fixtureLocked are the fixture lock's packages of the main and runtime groups that apply to
// Linux, as `uv pip list --format freeze` prints them (pywin32 is for Windows, ruff is dev).
var fixtureLocked = []string{"flake8==7.3.0", "jupyterlab==4.4.5", "litellm==1.77.7", "notebook==7.4.4", "openai==1.99.9", "pydantic==2.11.7"}

// TestAccProvisionerLockPinned: with the fixture's poetry.lock (use_lock defaults to true) the
// image holds exactly the locked versions, the verification says so, and no Poetry was started
// (the Poetry stand-in records every call). Between two clean builds from the same lock, the
// stand-in's index publishes newer releases of locked packages that the project's requirements
// allow (which an unpinned install takes: TestStandinsConstraints); the second build freezes to
// the same list as the first (the reproducibility measurement).
func TestAccProvisionerLockPinned(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	// The index's extra releases, mounted into the build container for the uv stand-in.
	index := t.TempDir()
	published := filepath.Join(index, "published.txt")
	publish := func(releases string) {
		if err := os.WriteFile(published, []byte(releases), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(index, 0o755); err != nil {
		t.Fatal(err)
	}
	publish("")
	runArgs := fmt.Sprintf(`%s, "-v", "%s:/opt/standin-index:ro"`, offlineRun, index)
	first := lockPinnedBuild(t, "openhands-acc-lock", runArgs)
	publish("pydantic==2.12.3\nlitellm==1.78.0\n")
	if second := lockPinnedBuild(t, "openhands-acc-lock-again", runArgs); second != first {
		t.Errorf("two clean builds from the same lock differ:\n%s\n---\n%s", first, second)
	}
}

// lockPinnedBuild builds an image from the base with the fixture, checks it holds the locked
// versions and that no Poetry was started, and returns its `uv pip list --format freeze`.
func lockPinnedBuild(t *testing.T, tag, runArgs string) string {
	t.Helper()
	t.Cleanup(func() { rig.RemoveImages(tag + ":acc") })
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "provisioner_lock_pinned",
		Template: accTemplate(t, rigEnv.BaseImage, runArgs, "    environment_vars = [\"UV_STANDIN_INDEX=/opt/standin-index/published.txt\"]\n", tag),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			log := rig.ReadLog(t, logfile)
			for _, want := range []string{"[10/15] lock: done in", "[11/15] dependencies: done in",
				"check locked versions: ok (6 locked packages at their locked versions)", "verification passed"} {
				if !strings.Contains(log, want) {
					return fmt.Errorf("the build output lacks %q", want)
				}
			}
			return nil
		},
	})
	rig.NoPoetryCalls(t, tag+":acc")
	freeze := rig.InImage(t, tag+":acc", "openhands", "/openhands/bin/uv pip list --python /openhands/micromamba/envs/openhands/bin/python3.12 --format freeze")
	installed := map[string]bool{}
	for _, line := range strings.Split(freeze, "\n") {
		installed[line] = true
	}
	for _, want := range fixtureLocked {
		if !installed[want] {
			t.Errorf("the image lacks %s:\n%s", want, freeze)
		}
	}
	if strings.Contains(freeze, "pywin32") || strings.Contains(freeze, "ruff") {
		t.Errorf("the image holds a package of another platform or group:\n%s", freeze)
	}
	return freeze
}

// TestAccProvisionerLockVersionMissing: a lock that pins a version the index does not serve
// fails the dependency step with uv's message, which names the package.
func TestAccProvisionerLockVersionMissing(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	src := copyFixture(t)
	lock := filepath.Join(src, "poetry.lock")
	data, err := os.ReadFile(lock)
	if err != nil {
		t.Fatal(err)
	}
	// The content-hash covers pyproject.toml only: the edited lock still matches it.
	edited := strings.Replace(string(data), "name = \"pydantic\"\nversion = \"2.11.7\"", "name = \"pydantic\"\nversion = \"2.11.9\"", 1)
	if edited == string(data) {
		t.Fatal("the fixture lock has no pydantic 2.11.7 to edit")
	}
	if err := os.WriteFile(lock, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	tag := "openhands-acc-lock-missing"
	t.Cleanup(func() { rig.RemoveImages(tag + ":acc") })
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "provisioner_lock_version_missing",
		Template: accTemplateFrom(t, src, rigEnv.BaseImage, offlineRun, "    network_retries = 0\n", tag),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildFailed(cmd, logfile); err != nil {
				return err
			}
			log := rig.ReadLog(t, logfile)
			for _, want := range []string{"No solution found when resolving dependencies",
				"there is no version of pydantic==2.11.9", `step "dependencies" failed`} {
				if !strings.Contains(log, want) {
					return fmt.Errorf("the build output lacks %q", want)
				}
			}
			return nil
		},
	})
}
