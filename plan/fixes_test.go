package plan

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
)

// The design document's fixes, each proved by what the rendered step does, not by how its
// text looks: the step functions of the Debian 12 plan run against recording stand-ins for
// micromamba, uv, poetry, chown and uname that append their argv to $LOG.

// fixHarness points the plan's tools at recorders and stubs what would touch the machine.
const fixHarness = `LOG=$PWD/calls
mkdir -p bin "$OH_PREFIX/micromamba/envs/openhands/bin" code bundle/code
for tool in micromamba uv poetry; do
	printf '#!/bin/sh\necho "%s SKIP_VSCODE_BUILD=${SKIP_VSCODE_BUILD:-} PYTHONDONTWRITEBYTECODE=${PYTHONDONTWRITEBYTECODE:-} $*" >>%s\n' "$tool" "$LOG" >"bin/$tool"
	chmod +x "bin/$tool"
done
PATH=$PWD/bin:$PATH
chown() { echo "chown $*" >>"$LOG"; }
uname() { echo "uname $*" >>"$LOG"; command uname "$@"; }
export OH_MM=$PWD/bin/micromamba OH_UV=$PWD/bin/uv OH_ENV=openhands OH_USER=openhands
export OH_ENV_PY=$OH_PREFIX/micromamba/envs/openhands/bin/python3.12 OH_CODE=$PWD/code OH_BUNDLE=$PWD/bundle
export OH_CONDA_CHANNEL=conda-forge OH_PYTHON_VERSION=3.12 OH_EXTRA_PIP_PACKAGES='jupyterlab notebook flake8'
touch "$OH_ENV_PY"
`

func runFixSteps(t *testing.T, body string) []string {
	t.Helper()
	res := runHelper(t, libFunctions(t), fixHarness+body+"\ncat \"$LOG\"")
	if res.code != 0 {
		t.Fatalf("exit %d:\n%s", res.code, res.out)
	}
	return strings.Split(strings.TrimSpace(res.out), "\n")
}

func TestFixDependenciesWithUV(t *testing.T) {
	calls := runFixSteps(t, `(set -euo pipefail; oh_step_dependencies_run)`)
	// uv, not pip: pip install -e . skips a poetry-core project's dependencies (fix 1); with
	// the environment's Python and no cache left in the image; as the env's own process
	// through micromamba run, in the code directory, with the VS Code build skipped.
	want := regexp.MustCompile(`^micromamba SKIP_VSCODE_BUILD=1 PYTHONDONTWRITEBYTECODE=1 run -n openhands \S+/bin/uv pip install --python \S+/micromamba/envs/openhands/bin/python3\.12 --no-cache -e \. jupyterlab notebook flake8$`)
	if len(calls) != 1 || !want.MatchString(calls[0]) {
		t.Errorf("the dependency step ran\n%q\nwant one call matching %s", calls, want)
	}
}

func TestFixPythonEnvOwnedByRuntimeUser(t *testing.T) {
	calls := runFixSteps(t, `(set -euo pipefail; oh_step_python_env_run)`)
	// The env is created as root, the install runs as the runtime user: chown -R after the
	// env exists (fix 2). Poetry is installed from conda-forge, never run.
	want := []*regexp.Regexp{
		regexp.MustCompile(`^micromamba .* create -n openhands -y$`),
		regexp.MustCompile(`^micromamba .* install -n openhands -c conda-forge poetry python=3\.12 -y$`),
		regexp.MustCompile(`^chown -R openhands:openhands \S+/micromamba$`),
	}
	if len(calls) != len(want) {
		t.Fatalf("the python-env step ran %q, want %d calls", calls, len(want))
	}
	for i, re := range want {
		if !re.MatchString(calls[i]) {
			t.Errorf("call %d is %q, want %s", i+1, calls[i], re)
		}
	}
}

func TestFixCodeDummyFiles(t *testing.T) {
	calls := runFixSteps(t, `printf '[project]\nname = "x"\n' >bundle/code/pyproject.toml
(set -euo pipefail; oh_step_code_run)
test -f code/third_party/__init__.py && test ! -s code/third_party/__init__.py && echo "third_party ok" >>"$LOG"
SKIP_VSCODE_BUILD=1 python3 code/build_vscode.py >>"$LOG"`)
	for _, want := range []string{"chown -R openhands:openhands ", "third_party ok", "Skipping VSCode build"} {
		if !strings.Contains(strings.Join(calls, "\n"), want) {
			t.Errorf("the code step's effects lack %q: %q", want, calls)
		}
	}
}

func TestFixBrowserThroughMicromambaRun(t *testing.T) {
	calls := runFixSteps(t, `install() { :; }; chmod() { :; }; ln() { :; }; rm() { :; }
export PLAYWRIGHT_BROWSERS_PATH=$PWD/browsers
(set -euo pipefail; oh_step_browser_run)`)
	// python -m playwright through micromamba run, not poetry run playwright; root runs the
	// env's Python without writing bytecode into site-packages.
	want := regexp.MustCompile(`^micromamba SKIP_VSCODE_BUILD= PYTHONDONTWRITEBYTECODE=1 run -n openhands python -m playwright install --with-deps chromium$`)
	if len(calls) == 0 || !want.MatchString(calls[0]) {
		t.Errorf("the browser step ran %q, want first %s", calls, want)
	}
}

func TestFixCleanup(t *testing.T) {
	calls := runFixSteps(t, `find() { :; } # no runtime user on this machine
(set -euo pipefail; oh_step_cleanup_run)`)
	if len(calls) == 0 || !regexp.MustCompile(`^micromamba .* clean --all -y$`).MatchString(calls[0]) {
		t.Errorf("the cleanup step ran %q, want micromamba clean --all -y first", calls)
	}
}

// TestFixNeverPoetryNeverKernelRelease runs every step that installs and the platform
// detection: Poetry is never started and the kernel release is never read (fix 3).
func TestFixNeverPoetryNeverKernelRelease(t *testing.T) {
	if _, err := os.Stat("/etc/os-release"); err != nil {
		t.Skip("no /etc/os-release")
	}
	calls := runFixSteps(t, `install() { :; }; chmod() { :; }; ln() { :; }
export PLAYWRIGHT_BROWSERS_PATH=$PWD/browsers
printf '[project]\nname = "x"\n' >bundle/code/pyproject.toml
oh_detect_platform || true
for step in python_env code dependencies browser cleanup; do (set -euo pipefail; "oh_step_${step}_run"); done`)
	for _, c := range calls {
		if strings.HasPrefix(c, "poetry ") {
			t.Errorf("Poetry was started: %q", c)
		}
		if strings.HasPrefix(c, "uname ") && c != "uname -m" {
			t.Errorf("uname was asked for more than the machine: %q", c)
		}
		if strings.Contains(c, " poetry run") || strings.Contains(c, " poetry install") {
			t.Errorf("a tool was asked to run Poetry: %q", c)
		}
	}
}

// TestFixSameSizeDependencyEdit: a version bump that keeps the file's size (1.2.3 -> 1.2.4)
// is a new dependency set: the dependency digest, the builder's lock tag and the dependency
// step's stamp all change, so no stale image or stamp is reused.
func TestFixSameSizeDependencyEdit(t *testing.T) {
	for _, name := range []string{"pyproject.toml", "poetry.lock"} {
		t.Run(name, func(t *testing.T) {
			dir := fixture.SourceDir(t)
			path := filepath.Join(dir, name)
			inputs := func(content string) Inputs {
				if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
				files, err := ListSource(dir)
				if err != nil {
					t.Fatal(err)
				}
				// The edited files are placeholders, not a lock pair.
				o := Options{SourceDir: dir, VSCodeServerSHA256: testSHA, UseLock: boolPtr(false)}
				if errs := o.Prepare(); len(errs) != 0 {
					t.Fatal(errs)
				}
				in, err := ComputeInputs(o, files)
				if err != nil {
					t.Fatal(err)
				}
				return in
			}
			base := "[project]\nname = \"openhands-ai\"\nversion = \"0.0.0\"\ndependencies = [\"litellm==1.2.3\"]\n"
			a, b := inputs(base), inputs(strings.Replace(base, "1.2.3", "1.2.4", 1))
			if a.DependencyFiles == b.DependencyFiles {
				t.Error("the dependency digest did not change")
			}
			lockA, _ := ContentTags("1", "base", "FROM x", "plan", a)
			lockB, _ := ContentTags("1", "base", "FROM x", "plan", b)
			if lockA == lockB {
				t.Error("the lock tag did not change")
			}
			var o Options
			o.SetDefaults()
			if stamp(New(o, a), "dependencies") == stamp(New(o, b), "dependencies") {
				t.Error("the dependency step's stamp did not change")
			}
		})
	}
}

// stamp is the stamp of p's step, "" when p has no such step.
func stamp(p *Plan, step StepID) string {
	for _, s := range p.Steps {
		if s.Name == step {
			return s.Stamp
		}
	}
	return ""
}

// TestSystemPackagesOffLeavesTheStepOut: system_packages = false must install nothing on
// every path. The builder runs steps by name (--steps), where no check is consulted, so the
// step must be absent from the plan itself, not merely reported done.
func TestSystemPackagesOffLeavesTheStepOut(t *testing.T) {
	for _, on := range []bool{true, false} {
		o := Options{SourceDir: fixture.SourceDir(t), Platform: "debian-12", SystemPackages: boolPtr(on)}
		o.InstallVSCodeServer = boolPtr(false)
		if errs := o.Prepare(); len(errs) != 0 {
			t.Fatal(errs)
		}
		p := New(o, Inputs{})
		script, dockerfile := p.Script("test"), p.Dockerfile("debian:bookworm", "test")
		inPlan := slices.Contains(p.StepNames(), "system-packages")
		inScript := strings.Contains(script, "oh_step_system_packages_run")
		inDockerfile := regexp.MustCompile(`(?m)^RUN .*--steps \S*system-packages`).MatchString(dockerfile)
		if inPlan != on || inScript != on || inDockerfile != on {
			t.Errorf("system_packages = %v: step in plan %v, in script %v, in Dockerfile %v; want all %v", on, inPlan, inScript, inDockerfile, on)
		}
	}
}

// TestPlanStepOrder: each tool is installed right before the first step that needs it (uv
// before the user exists, so the directories step hands it over; micromamba before the env;
// openvscode-server before the code), and a step the options turn off is left out.
func TestPlanStepOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Options)
		want string
	}{
		{"defaults", func(*Options) {},
			"preflight system-packages uv user directories micromamba python-env vscode-server code dependencies browser environment cleanup verify"},
		{"everything off", func(o *Options) {
			o.SystemPackages, o.InstallVSCodeServer, o.InstallBrowser, o.SkipVerify = boolPtr(false), boolPtr(false), boolPtr(false), true
		}, "preflight uv user directories micromamba python-env code dependencies environment cleanup"},
		// The lock files are shipped after the code, before the install that reads them.
		{"use_lock", func(o *Options) { o.SourceDir = copyLockPair(t, realPair, t.TempDir()) },
			"preflight system-packages uv user directories micromamba python-env vscode-server code lock dependencies browser environment cleanup verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{SourceDir: fixture.SourceDir(t), Platform: "debian-12"}
			tc.set(&o)
			withVSCodeServerSHA256(&o)
			if errs := o.Prepare(); len(errs) != 0 {
				t.Fatal(errs)
			}
			if got := joinSteps(New(o, Inputs{}).StepNames(), " "); got != tc.want {
				t.Errorf("steps %s, want %s", got, tc.want)
			}
		})
	}
}
