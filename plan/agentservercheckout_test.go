package plan

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/plan/projectfile"
)

// sdkCheckout is a software-agent-sdk checkout in small, its uv.lock written by the real uv.
const sdkCheckout = "testdata/sdk-checkout"

// copySDKCheckout copies the checkout to a temporary directory a test may change.
func copySDKCheckout(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "sdk")
	if out, err := exec.Command("cp", "-r", sdkCheckout, dir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	return dir
}

// editFile replaces old with new in a file of dir, failing when old is not there.
func editFile(t *testing.T, dir, rel, old, new string) {
	t.Helper()
	path := filepath.Join(dir, rel)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s holds no %q", rel, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAgentServerCheckout: from a checkout, the version is the checkout's, the plan copies
// it, installs the locked dependencies and then the checkout's packages, and ships the
// workspace's members with their pyproject.toml files as dependency files.
func TestAgentServerCheckout(t *testing.T) {
	o := Options{SourceDir: sdkCheckout, Layout: Layout{Runtime: RuntimeAgentServer}}
	withVSCodeServerSHA256(&o)
	if errs := o.Prepare(); len(errs) != 0 {
		t.Fatalf("Prepare: %v", errs)
	}
	if o.AgentServerVersion != "1.58.2" || !o.InstallsCheckout() || o.lockInUse() {
		t.Errorf("version %q, installs the checkout %t, Poetry's lock in use %t; want 1.58.2, true, false", o.AgentServerVersion, o.InstallsCheckout(), o.lockInUse())
	}
	want := []StepID{"preflight", "system-packages", "uv", "user", "directories", "micromamba", "python-env",
		"vscode-server", "tini", "code", "agent-server", "checkout-packages", "environment", "service", "cleanup", "verify"}
	p := New(o, Inputs{})
	if got := p.StepNames(); !slices.Equal(got, want) {
		t.Errorf("steps %v, want %v", got, want)
	}
	files, err := ListSource(sdkCheckout)
	if err != nil {
		t.Fatal(err)
	}
	var deps, all []string
	for _, f := range files {
		all = append(all, f.Rel)
		if f.Dependency {
			deps = append(deps, f.Rel)
		}
	}
	wantDeps := []string{"openhands-agent-server/pyproject.toml", "openhands-sdk/pyproject.toml", "openhands-tools/pyproject.toml",
		"openhands-workspace/pyproject.toml", "pyproject.toml", "uv.lock"}
	if !slices.Equal(deps, wantDeps) {
		t.Errorf("dependency files %v, want %v", deps, wantDeps)
	}
	if !slices.Contains(all, "openhands-sdk/openhands/sdk/__init__.py") {
		t.Errorf("the members' sources are not shipped: %v", all)
	}
	// A change to a member's source is a new source tree, not new dependency files.
	dir := copySDKCheckout(t)
	before := checkoutInputs(t, o, dir)
	editFile(t, dir, "openhands-sdk/openhands/sdk/__init__.py", "in small", "in small, changed")
	after := checkoutInputs(t, o, dir)
	if before.DependencyFiles != after.DependencyFiles || before.SourceTree == after.SourceTree {
		t.Errorf("a source change: dependency files %s -> %s, tree %s -> %s; want the same and new", before.DependencyFiles, after.DependencyFiles, before.SourceTree, after.SourceTree)
	}
	editFile(t, dir, "openhands-sdk/pyproject.toml", `"packaging>=24"`, `"packaging>=25"`)
	if changed := checkoutInputs(t, o, dir); changed.DependencyFiles == after.DependencyFiles {
		t.Error("a member's pyproject.toml changed, its dependency files digest did not")
	}
}

func checkoutInputs(t *testing.T, o Options, dir string) Inputs {
	t.Helper()
	files, err := ListSource(dir)
	if err != nil {
		t.Fatal(err)
	}
	o.SourceDir = dir
	in, err := ComputeInputs(o, files)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestAgentServerCheckoutErrors: a lock that no longer describes the checkout, a directory that
// is not the SDK's, and the options a checkout does not take are refused at validate, each
// error naming its option and the fix; what uv writes differently (spacing, order) is no
// difference.
func TestAgentServerCheckoutErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, dir string)
		o      Options
		want   []string // "" when the checkout is accepted
	}{
		{name: "as locked"},
		{name: "a specifier written otherwise", change: func(t *testing.T, dir string) {
			editFile(t, dir, "openhands-sdk/pyproject.toml", `"idna >= 3.4, <4"`, `"IDNA<4,>=3.4"`)
		}},
		{name: "a specifier changed", change: func(t *testing.T, dir string) {
			editFile(t, dir, "openhands-sdk/pyproject.toml", `"packaging>=24"`, `"packaging>=25"`)
		}, want: []string{"source_dir: uv.lock does not match the checkout (openhands-sdk/pyproject.toml: requires packaging>=25, which the lock does not record; the lock records packaging>=24, which it no longer requires); run `uv lock` in"}},
		{name: "a dependency added to an extra", change: func(t *testing.T, dir string) {
			editFile(t, dir, "openhands-sdk/pyproject.toml", `boto3 = ["six>=1.16"]`, `boto3 = ["six>=1.16", "jmespath"]`)
		}, want: []string{"requires jmespath (extra boto3), which the lock does not record"}},
		{name: "a dependency removed", change: func(t *testing.T, dir string) {
			editFile(t, dir, "openhands-agent-server/pyproject.toml", `, "h11>=0.14"`, ``)
		}, want: []string{"openhands-agent-server/pyproject.toml: the lock records h11>=0.14, which it no longer requires"}},
		{name: "a version bumped", change: func(t *testing.T, dir string) {
			for _, name := range agentServerPackages {
				editFile(t, dir, name+"/pyproject.toml", `version = "1.58.2"`, `version = "1.59.0"`)
			}
		}, want: []string{"openhands-sdk/pyproject.toml is version 1.59.0, the lock has 1.58.2"}},
		{name: "the dev group changed", change: func(t *testing.T, dir string) {
			editFile(t, dir, "pyproject.toml", `dev = ["pytest>=8"]`, `dev = ["pytest>=9"]`)
		}, want: []string{"pyproject.toml's dependency group dev: requires pytest>=9"}},
		{name: "no uv.lock", change: func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, projectfile.UVLockFile)); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"holds no uv.lock; the agent-server is installed from a checkout at its lock's versions: run `uv lock` there first"}},
		{name: "a broken uv.lock", change: func(t *testing.T, dir string) {
			editFile(t, dir, projectfile.UVLockFile, "[[package]]", "[[package")
		}, want: []string{"source_dir: uv.lock cannot be read"}},
		{name: "not the SDK", change: func(t *testing.T, dir string) {
			editFile(t, dir, "pyproject.toml", `, "openhands-workspace"`, ``)
		}, want: []string{"is not a software-agent-sdk checkout: its pyproject.toml's [tool.uv.workspace] members do not include the directory openhands-workspace"}},
		{name: "packages at two versions", change: func(t *testing.T, dir string) {
			editFile(t, dir, "openhands-tools/pyproject.toml", `version = "1.58.2"`, `version = "1.58.3"`)
		}, want: []string{"the checkout's packages are at different versions (openhands-agent-server 1.58.2, openhands-tools 1.58.3)"}},
		{name: "another agent_server_version", o: Options{Layout: Layout{AgentServerVersion: "1.43.1"}},
			want: []string{`agent_server_version: "1.43.1", but the checkout in source_dir is version 1.58.2; remove agent_server_version`}},
		{name: "Poetry's lock options and unpinned packages", o: Options{UseLock: boolPtr(true), LockGroups: []string{"main"}, ExtraPipPackages: []string{"boto3"}},
			want: []string{"use_lock: not used with runtime", "lock_groups: not used with runtime", "extra_pip_packages: not used with runtime"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copySDKCheckout(t)
			if tc.change != nil {
				tc.change(t, dir)
			}
			o := tc.o
			o.SourceDir, o.Runtime = dir, RuntimeAgentServer
			withVSCodeServerSHA256(&o)
			got := fmt.Sprint(o.Prepare())
			if len(tc.want) == 0 && got != "[]" {
				t.Fatalf("Prepare: %s", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("Prepare: %s\nwant an error with %q", got, w)
				}
			}
		})
	}
}
