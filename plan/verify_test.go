package plan

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyScriptReportsEveryFailedCheck runs the standalone verification on a machine
// without any runtime: every check fails, and each is named.
func TestVerifyScriptReportsEveryFailedCheck(t *testing.T) {
	o := Options{Layout: Layout{Prefix: filepath.Join(t.TempDir(), "nothing-here"), User: "nobody", Verify: Verify{Commands: []string{"true", "false",
		// A here-document whose lines and terminator must reach bash as written, unindented.
		"cat <<'EOF' | grep -qxF \"  two spaces, a \\\\ and a quote: '\"\n  two spaces, a \\ and a quote: '\nEOF"}}}}
	o.SetDefaults()
	p := New(o, Inputs{})
	script := p.VerifyScript("test")
	path := filepath.Join(t.TempDir(), "verify.sh")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", path).CombinedOutput()
	if err == nil {
		t.Fatalf("verification passed on an empty machine:\n%s", out)
	}
	for _, c := range p.Checks {
		want := "check " + c.Name + ": FAILED"
		if c.Name == "command 1" || c.Name == "command 3" {
			want = "check " + c.Name + ": ok"
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(string(out), "verification failed: import pydantic, import openai") {
		t.Errorf("the summary does not list the failed checks:\n%s", out)
	}
	if _, err := exec.LookPath("shellcheck"); err != nil {
		unavailable(t, "shellcheck is not installed; `make rig` installs it")
	}
	if out, err := exec.Command("shellcheck", "-s", "bash", "-S", "warning", path).CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

// TestVerifyScriptPythonChecks runs the verification against a fake runtime whose interpreter
// is the machine's python3 with a few modules: every Python check runs in one process and
// each is still reported on its own.
func TestVerifyScriptPythonChecks(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 on this machine")
	}
	if os.Geteuid() == 0 {
		// The checks run as another user, who cannot use a python3 found under /root
		// (a pyenv shim); the system's is everyone's.
		python = "/usr/bin/python3"
	}
	tests := []struct {
		name   string
		layout map[string]string // file -> content, under the prefix
		lock   bool              // use_lock
		want   []string
	}{
		{
			name: "runtime passes and fails",
			layout: map[string]string{
				"site/pydantic/__init__.py":       "__version__ = '2.11.0'\n",
				"site/openai.py":                  "raise ImportError('built for another python')\n",
				"code/openhands/__init__.py":      "",
				"code/openhands/core/__init__.py": "",
				"code/openhands/core/config.py":   "",
				"site/litellm/__init__.py":        "import sys\nsys.stdout.write('noise from import\\n')\n",
			},
			want: []string{
				"check import pydantic: ok (2.11.0)",
				"check import openai: FAILED (ImportError: built for another python)",
				"check import litellm: ok (imported)",
				"check import openhands.core.config: ok (imported)",
				"check editable install: ok (openhands from ",
				"verification failed: import openai, package count, micromamba ownership, interpreter path, chromium",
			},
		},
		{
			name: "openhands installed elsewhere",
			layout: map[string]string{
				"site/openhands/__init__.py": "",
			},
			want: []string{
				"check import openhands.core.config: FAILED (ModuleNotFoundError: No module named 'openhands.core')",
				"check editable install: FAILED (openhands from ",
			},
		},
		{
			name: "locked versions differ",
			lock: true,
			layout: map[string]string{
				"lock/expected.txt":                         lockedExpected,
				"site/openai-1.99.9.dist-info/METADATA":     "Name: openai\nVersion: 1.99.9\n",
				"site/Pydantic-2.10.0.dist-info/METADATA":   "Name: Pydantic\nVersion: 2.10.0\n",
				"site/typing_extensions.dist-info/METADATA": "Name: typing_extensions\nVersion: 4.14.1\n",
			},
			want: []string{"check locked versions: FAILED (2 of 4 locked packages differ: pydantic 2.10.0, locked 2.11.10, annotated-types missing)"},
		},
		{
			name: "locked versions installed",
			lock: true,
			layout: map[string]string{
				"lock/expected.txt":                                lockedExpected,
				"site/openai-1.99.9.dist-info/METADATA":            "Name: openai\nVersion: 1.99.9\n",
				"site/pydantic-2.11.10.dist-info/METADATA":         "Name: pydantic\nVersion: 2.11.10\n",
				"site/annotated_types-0.7.0.dist-info/METADATA":    "Name: annotated_types\nVersion: 0.7.0\n",
				"site/typing_extensions-4.14.1.dist-info/METADATA": "Name: typing_extensions\nVersion: 4.14.1\n",
			},
			want: []string{"check locked versions: ok (4 locked packages at their locked versions)"},
		},
		{
			name:   "no interpreter",
			layout: map[string]string{},
			want: []string{
				"check import pydantic: FAILED (no result from ",
				"check editable install: FAILED (no result from ",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := t.TempDir()
			for name, content := range tt.layout {
				path := filepath.Join(prefix, name)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			calls := filepath.Join(prefix, "calls")
			// The Python checks run as the runtime user: as root, "nobody" must reach the
			// fake runtime and record its starts.
			user := currentUser(t)
			if os.Geteuid() == 0 {
				user = "nobody"
				for _, dir := range []string{filepath.Dir(prefix), prefix} {
					if err := os.Chmod(dir, 0o755); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.WriteFile(calls, nil, 0o666); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(calls, 0o666); err != nil {
					t.Fatal(err)
				}
			}
			if len(tt.layout) > 0 {
				// The env's interpreter: python3 with the fake site directory and the code
				// directory on its path (as an editable install puts it), counting its starts.
				env := filepath.Join(prefix, "micromamba", "envs", "openhands", "bin")
				if err := os.MkdirAll(env, 0o755); err != nil {
					t.Fatal(err)
				}
				wrapper := "#!/bin/sh\necho x >>" + calls + "\nPYTHONPATH=" + filepath.Join(prefix, "site") + ":" + filepath.Join(prefix, "code") + " exec " + python + " \"$@\"\n"
				if err := os.WriteFile(filepath.Join(env, "python3.12"), []byte(wrapper), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			o := Options{Layout: Layout{Prefix: prefix, User: user}, UseLock: boolPtr(tt.lock)}
			o.SetDefaults()
			path := filepath.Join(t.TempDir(), "verify.sh")
			if err := os.WriteFile(path, []byte(New(o, Inputs{}).VerifyScript("test")), 0o755); err != nil {
				t.Fatal(err)
			}
			out, _ := exec.Command("bash", path).CombinedOutput()
			for _, want := range tt.want {
				if !strings.Contains(string(out), want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if len(tt.layout) > 0 {
				starts, err := os.ReadFile(calls)
				if err != nil {
					t.Fatal(err)
				}
				if n := strings.Count(string(starts), "x"); n != 1 {
					t.Errorf("the interpreter started %d times, want once for all Python checks", n)
				}
			}
		})
	}
}

// lockedExpected is an expected.txt whose markers hold on Linux for four packages: the others
// are for Windows, macOS, an extra, or a Python the runtime does not have.
const lockedExpected = `# Generated by packer-plugin-openhands from poetry.lock (groups: main, runtime); Poetry is never run.
openai==1.99.9
pydantic==2.11.10
annotated-types==0.7.0 ; python_version >= "3.8"
typing-extensions==4.14.1 ; python_full_version ~= "3.0" and (sys_platform == "linux" or sys_platform == "linux2")
pywin32==310 ; sys_platform == "win32" or platform_system == "Windows"
grpclib==0.4.7 ; extra == "third-party-runtimes"
appnope==0.1.4 ; platform_system == "Darwin"
tomli==2.2.1 ; python_version < "3.11" and platform_release >= "6.1.159-182.297.amzn2023.x86_64"
`

func currentUser(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

// TestLockedMarkers runs the locked-versions check's marker and version evaluation with the
// machine's python3, with packaging and with it hidden (the plain evaluator), on the cases
// where the standards and the plain evaluator differ and on some where they agree.
func TestLockedMarkers(t *testing.T) {
	python := pythonWithPackaging(t)
	type input struct {
		Marker    string            `json:"marker,omitempty"`
		Installed string            `json:"installed,omitempty"` // with Locked: same_version
		Locked    string            `json:"locked,omitempty"`
		Env       map[string]string `json:"env,omitempty"`
	}
	cases := []struct {
		name             string
		in               input
		packaging, plain bool
	}{
		{"wildcard", input{Marker: `python_version == "3.12.*"`, Env: map[string]string{"python_version": "3.12"}}, true, false},
		{"zero padding", input{Marker: `python_full_version == "3.12"`, Env: map[string]string{"python_full_version": "3.12.0"}}, true, false},
		{"pre-release before its release", input{Marker: `python_full_version >= "3.13"`, Env: map[string]string{"python_full_version": "3.13.0rc1"}}, false, true},
		{"numbers, not strings", input{Marker: `python_version >= "3.10"`, Env: map[string]string{"python_version": "3.9"}}, false, false},
		{"and, or, parentheses", input{Marker: `sys_platform == "linux" and (platform_system == "Windows" or os_name == "posix")`,
			Env: map[string]string{"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}}, true, true},
		{"no extras", input{Marker: `extra == "third-party-runtimes"`}, false, false},
		{"kernel release as a string", input{Marker: `platform_release >= "6.1.159-182.297.amzn2023.x86_64"`,
			Env: map[string]string{"platform_release": "6.1.160-1.amzn2023.x86_64"}}, true, true},
		{"normalized versions", input{Installed: "2.0", Locked: "2.0.0"}, true, false},
		{"post-release spellings", input{Installed: "1.0-post1", Locked: "1.0.post1"}, true, false},
		{"other versions", input{Installed: "2.11.1", Locked: "2.11.10"}, false, false},
	}
	var inputs []input
	for _, c := range cases {
		inputs = append(inputs, c.in)
	}
	data, err := json.Marshal(inputs)
	if err != nil {
		t.Fatal(err)
	}
	harness := `
import json
print(json.dumps(Marker is not None))
base = dict(env)
for c in json.load(sys.stdin):
    env.clear()
    env.update(base, **c.get("env", {}))
    print(json.dumps(holds(c["marker"]) if "marker" in c else same_version(c["installed"], c["locked"])))
`
	for _, path := range []struct {
		name, prelude string
		packaging     bool
	}{
		{"packaging", "", true},
		{"plain", "import sys\nsys.modules['packaging'] = None\n", false},
	} {
		t.Run(path.name, func(t *testing.T) {
			program := filepath.Join(t.TempDir(), "markers.py")
			if err := os.WriteFile(program, []byte(path.prelude+pythonProbeHeader+lockedMarkers+harness), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(python, program)
			cmd.Stdin = strings.NewReader(string(data))
			out, err := cmd.CombinedOutput()
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if err != nil || len(lines) != len(cases)+1 {
				t.Fatalf("%v:\n%s", err, out)
			}
			if lines[0] != fmt.Sprint(path.packaging) {
				t.Fatalf("packaging in use: %s, want %v", lines[0], path.packaging)
			}
			for i, c := range cases {
				want := c.plain
				if path.packaging {
					want = c.packaging
				}
				if lines[i+1] != fmt.Sprint(want) {
					t.Errorf("%s: %+v gives %s, want %v", c.name, c.in, lines[i+1], want)
				}
			}
		})
	}
}

// pythonWithPackaging is a python3 that can import packaging: the system's first (`make rig`
// installs Debian's python3-packaging for it, so the version is the distribution's), else
// the one on PATH. packaging 26 no longer orders strings that are not versions
// (`platform_release >= "6.1.159-182.297.amzn2023.x86_64"` is false there), so a newer one
// on PATH would judge the kernel-release case differently.
func pythonWithPackaging(t *testing.T) string {
	t.Helper()
	for _, candidate := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(candidate); err == nil && exec.Command(path, "-c", "import packaging.markers, packaging.version").Run() == nil {
			return path
		}
	}
	unavailable(t, "no python3 that imports packaging (make rig installs python3-packaging)")
	return ""
}
