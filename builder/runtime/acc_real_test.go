package runtimebuilder

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/rig"
	"github.com/openhands-runtime/packer-plugin-openhands/plan/projectfile"
)

// TestAccBuilderRealOpenHands is the launch check, for real: the builder makes a runtime of
// OpenHands 0.62.0's own source tree (its sdist, with the release's poetry.lock) on Debian 13,
// every distribution pinned by that lock and installed by the real uv from PyPI through the
// rig's local index; then the unmodified launcher line starts OpenHands' real
// action_execution_server with the agent_skills, jupyter and vscode plugins, which answers
// /alive and runs a command for POST /execute_action (rig.LaunchRealImage).
func TestAccBuilderRealOpenHands(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	repo := accImageRepository(t, "real")
	src := filepath.Join(t.TempDir(), "openhands-src")
	if out, err := exec.Command("cp", "-r", rigEnv.OpenHandsSrc, src).CombinedOutput(); err != nil {
		t.Fatalf("copying OpenHands' source tree (scripts/rig.sh openhands-src): %v: %s", err, out)
	}
	attrs, err := rig.RealInstallAttributes(rigEnv, "  ")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := fmt.Sprintf(`
source "openhands-runtime" "image" {
  base_image       = %q
  pull             = false
  network_mode     = "host"
  source_dir       = %q
  image_repository = %q
  tags             = ["acc"]
%s}

build {
  sources = ["source.openhands-runtime.image"]
}
`, rigEnv.TrixieImage, src, repo, attrs)
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "builder_real_openhands",
		Template: tmpl,
		Check:    func(cmd *exec.Cmd, logfile string) error { return builtWithVerifyLayer(t, cmd, logfile) },
	})
	image := repo + ":acc"
	// What the lock pins, read from the lock itself; what the image holds, from the real uv
	// in it: every locked distribution the install chose is at its lock version, and there
	// are at least 300 of them.
	got := rig.InImage(t, image, "openhands", `set -e
/openhands/bin/uv --version
py=/openhands/micromamba/envs/openhands/bin/python
"$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])'
/openhands/bin/uv pip list --python "$py" --format freeze 2>/dev/null`)
	lines := strings.Split(got, "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "uv 0.12.16 ") || lines[1] != "3.13" {
		t.Fatalf("the image holds:\n%s\nwant the real uv 0.12.16 and Python 3.13", got)
	}
	locked := lockVersions(t, filepath.Join(src, "poetry.lock"))
	atLock := 0
	for _, l := range lines[2:] {
		name, version, ok := strings.Cut(l, "==")
		if !ok {
			continue
		}
		want, isLocked := locked[normalize(name)]
		if !isLocked && normalize(name) == "openhands-ai" {
			continue // the project itself
		}
		if !isLocked {
			t.Errorf("%s is installed but not in the lock", l)
			continue
		}
		if want != version {
			t.Errorf("%s is installed, the lock pins %s", l, want)
			continue
		}
		atLock++
	}
	if atLock < 300 {
		t.Errorf("%d distributions at their lock versions, want at least 300", atLock)
	}
	t.Logf("%d distributions installed, each at its lock version", atLock)
	rig.LaunchRealImage(t, image)
}

// lockVersions maps each package of a poetry.lock (normalized name) to its version, as the
// plan reads the lock.
func lockVersions(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lock, err := projectfile.ParsePoetryLock(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	versions := map[string]string{}
	for _, p := range lock.Packages {
		versions[normalize(p.Name)] = p.Version
	}
	return versions
}

// normalize is a distribution name as PEP 503 compares them.
func normalize(name string) string {
	return strings.NewReplacer("_", "-", ".", "-").Replace(strings.ToLower(name))
}
