package rig

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
	"github.com/openhands-runtime/packer-plugin-openhands/plan/projectfile"
)

// siLayout is a throwaway copy of the plan's layout:
// <root>/openhands/{bin/uv, micromamba/bin/micromamba}, plus a copy of the fixture source.
type siLayout struct {
	root, prefix, mm, uv, env, envPy, src, home, browsers string
	path                                                  string // PATH for every command
}

// siNewLayout makes the layout with python (a real interpreter, not a shim) as the first
// python3 on PATH, followed by pathTail: the stand-ins run with it and link envs to it.
func siNewLayout(t *testing.T, python, pathTail string) *siLayout {
	t.Helper()
	root := t.TempDir()
	// The permission tests run commands as `nobody`, and TempDir makes 0700 directories.
	for _, d := range []string{filepath.Dir(root), root} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	prefix := filepath.Join(root, "openhands")
	env := filepath.Join(prefix, "micromamba", "envs", "openhands")
	l := &siLayout{
		root:     root,
		prefix:   prefix,
		mm:       filepath.Join(prefix, "micromamba", "bin", "micromamba"),
		uv:       filepath.Join(prefix, "bin", "uv"),
		env:      env,
		envPy:    filepath.Join(env, "bin", "python3.12"),
		src:      filepath.Join(root, "src"),
		home:     filepath.Join(root, "home"),
		browsers: filepath.Join(root, "browsers"),
		path:     filepath.Join(root, "pybin") + string(os.PathListSeparator) + pathTail,
	}
	if err := os.MkdirAll(filepath.Join(root, "pybin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(python, filepath.Join(root, "pybin", "python3")); err != nil {
		t.Fatal(err)
	}
	siCopyFile(t, filepath.Join(StandinsDir(), "micromamba"), l.mm, 0o755)
	siCopyFile(t, filepath.Join(StandinsDir(), "uv"), l.uv, 0o755)
	siCopyTree(t, FixtureSourceDir(), l.src)
	if err := os.MkdirAll(l.home, 0o755); err != nil {
		t.Fatal(err)
	}
	return l
}

// expand replaces the placeholders the step tables use.
func (l *siLayout) expand(s string) string {
	return strings.NewReplacer("{mm}", l.mm, "{uv}", l.uv, "{envpy}", l.envPy, "{env}", l.env,
		"{src}", l.src, "{root}", l.root, "{prefix}", l.prefix, "{home}", l.home).Replace(s)
}

// environ is deliberately minimal so nothing from the host (CONDA_PREFIX, VIRTUAL_ENV,
// MAMBA_ROOT_PREFIX) leaks into the stand-ins. MAMBA_ROOT_PREFIX is the layout's, as the
// plan's environment sets it: micromamba's default root is not next to the executable.
func (l *siLayout) environ(extra ...string) []string {
	env := []string{"PATH=" + l.path, "HOME=" + l.home, "LANG=C.UTF-8",
		"MAMBA_ROOT_PREFIX=" + filepath.Join(l.prefix, "micromamba"),
		"PLAYWRIGHT_BROWSERS_PATH=" + l.browsers, "PYTHONDONTWRITEBYTECODE=1",
		"POETRY_STANDIN_CALLS=" + filepath.Join(l.root, "poetry-calls")}
	for _, e := range extra {
		// "NAME=VALUE" replaces a default, "NAME=" drops it.
		name, value, _ := strings.Cut(e, "=")
		var kept []string
		for _, k := range env {
			if !strings.HasPrefix(k, name+"=") {
				kept = append(kept, k)
			}
		}
		env = kept
		if value != "" {
			env = append(env, e)
		}
	}
	return env
}

type siResult struct {
	stdout, stderr string
	code           int
}

func (r siResult) String() string {
	return "exit " + strconv.Itoa(r.code) + "\n--- stdout\n" + r.stdout + "\n--- stderr\n" + r.stderr
}

func siRun(t *testing.T, dir string, env []string, argv ...string) siResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := siResult{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		r.code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("running %q: %v", argv, err)
	}
	return r
}

func siCopyFile(t *testing.T, from, to string, mode fs.FileMode) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, mode); err != nil {
		t.Fatal(err)
	}
}

func siCopyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		siCopyFile(t, p, filepath.Join(to, rel), info.Mode().Perm()|0o444)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func siReadFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// siSitePackages is the env's real site-packages: named after the host Python's version,
// whatever python=X.Y asked for.
func siSitePackages(t *testing.T, env string) string {
	t.Helper()
	found, _ := filepath.Glob(filepath.Join(env, "lib", "python3.*", "site-packages"))
	if len(found) != 1 {
		t.Fatalf("want one site-packages under %s, found %q", env, found)
	}
	return found[0]
}

// siListCount counts distributions through `uv pip list --format json`.
func siListCount(t *testing.T, l *siLayout) (int, []map[string]string) {
	t.Helper()
	r := siRun(t, l.root, l.environ(), l.uv, "pip", "list", "--python", l.envPy, "--format", "json")
	if r.code != 0 {
		t.Fatalf("uv pip list: %s", r)
	}
	var rows []map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("uv pip list json: %v\n%s", err, r.stdout)
	}
	return len(rows), rows
}

// siRealPython is the interpreter behind py (pyenv shims cost ~0.4s a start), and its version.
func siRealPython(py string) (real, version string, ok bool) {
	out, err := exec.Command(py, "-c", "import os,sys,platform;print(os.path.realpath(sys.executable), platform.python_version())").Output()
	fields := strings.Fields(string(out))
	if err != nil || len(fields) != 2 {
		return "", "", false
	}
	return fields[0], fields[1], true
}

func siHostPython(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found: the stand-ins are Python scripts")
	}
	real, _, ok := siRealPython(py)
	if !ok {
		t.Skipf("%s does not run", py)
	}
	return real
}

// siStep is one command of a sequential scenario; later steps build on earlier ones.
type siStep struct {
	name     string
	dir      string   // working directory, after placeholder expansion; default the root
	env      []string // extra environment, after placeholder expansion
	argv     []string // after placeholder expansion
	setup    func(t *testing.T, l *siLayout)
	wantCode int
	stdout   []string // substrings stdout must hold
	stderr   []string // substrings stderr must hold
	never    []string // substrings neither stream may hold (credentials)
	check    func(t *testing.T, l *siLayout, r siResult)
}

func (s siStep) run(t *testing.T, l *siLayout) {
	if s.setup != nil {
		s.setup(t, l)
	}
	argv := make([]string, len(s.argv))
	for i, a := range s.argv {
		argv[i] = l.expand(a)
	}
	extra := make([]string, len(s.env))
	for i, e := range s.env {
		extra[i] = l.expand(e)
	}
	dir := l.root
	if s.dir != "" {
		dir = l.expand(s.dir)
	}
	r := siRun(t, dir, l.environ(extra...), argv...)
	if r.code != s.wantCode {
		t.Fatalf("want exit %d, got %s", s.wantCode, r)
	}
	for _, want := range s.stdout {
		if want = l.expand(want); !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r)
		}
	}
	for _, want := range s.stderr {
		if want = l.expand(want); !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r)
		}
	}
	for _, bad := range s.never {
		if strings.Contains(r.stdout+r.stderr, bad) {
			t.Errorf("output leaks %q:\n%s", bad, r)
		}
	}
	if s.check != nil && !t.Failed() {
		s.check(t, l, r)
	}
}

func siRunSteps(t *testing.T, l *siLayout, steps []siStep) {
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.run(t, l) }) {
			t.Fatalf("step %q failed; the steps after it depend on it", s.name)
		}
	}
}

func siInstallEditable(extra ...string) []string {
	argv := []string{"{mm}", "run", "-n", "openhands", "{uv}", "pip", "install",
		"--python", "{envpy}", "--no-cache"}
	return append(append(argv, extra...), "-e", ".")
}

const siHook = `eval "$("$MM" shell hook -s bash)"
micromamba activate openhands
echo "active=$CONDA_PREFIX|$CONDA_DEFAULT_ENV|$MAMBA_ROOT_PREFIX"
command -v python3
micromamba --version
micromamba deactivate
echo "after=${CONDA_PREFIX:-none}"`

// siCheckRecords checks that conda-meta and the package cache record python and poetry as
// coming from the channel URL prefix (credentials included).
func siCheckRecords(t *testing.T, l *siLayout, prefix string) {
	t.Helper()
	pkgs := filepath.Join(l.prefix, "micromamba", "pkgs")
	for _, pkg := range []string{"python-3.12-standin_0", "poetry-2.2.1-standin_0"} {
		for _, rec := range []string{filepath.Join(l.env, "conda-meta", pkg+".json"), filepath.Join(pkgs, pkg, "info", "repodata_record.json")} {
			var meta struct{ Channel, URL string }
			if err := json.Unmarshal([]byte(siReadFile(t, rec)), &meta); err != nil ||
				meta.Channel != prefix+siSubdir() || meta.URL != prefix+siSubdir()+"/"+pkg+".conda" {
				t.Errorf("%s: %+v %v, want the channel under %s", rec, meta, err, prefix)
			}
		}
		if _, err := os.Stat(filepath.Join(pkgs, pkg+".conda")); err != nil {
			t.Errorf("the package cache lacks the archive: %v", err)
		}
	}
}

// siSubdir is conda's name of the host's platform.
func siSubdir() string {
	if runtime.GOARCH == "arm64" {
		return "linux-aarch64"
	}
	return "linux-64"
}

// TestStandins walks the install plan's command lines through the stand-ins in order.
func TestStandins(t *testing.T) {
	t.Parallel()
	l := siNewLayout(t, siHostPython(t), os.Getenv("PATH"))
	var installed int // distributions after the editable install

	steps := []siStep{
		{name: "micromamba version", argv: []string{"{mm}", "--version"},
			stdout: []string{"2.0.5 (stand-in)"}},
		{name: "uv version", argv: []string{"{uv}", "--version"},
			stdout: []string{"uv 0.9.5 (stand-in)"}},

		// config, as the plan's micromamba step runs it
		{name: "config remove absent defaults",
			argv: []string{"{mm}", "config", "remove", "channels", "defaults"}},
		{name: "config set channel_alias",
			argv: []string{"{mm}", "config", "set", "channel_alias",
				"https://mirror-user:mirror-secret@conda.example/alias"}},
		{name: "config append channels",
			argv: []string{"{mm}", "config", "append", "channels", "conda-forge"}},
		{name: "config list masks credentials", argv: []string{"{mm}", "config", "list"},
			stdout: []string{"channels:\n  - conda-forge\n", "channel_alias: https://***@conda.example/alias"},
			never:  []string{"mirror-secret"},
			check: func(t *testing.T, l *siLayout, _ siResult) {
				rc := siReadFile(t, filepath.Join(l.home, ".condarc"))
				if !strings.Contains(rc, "mirror-secret@conda.example") || !strings.Contains(rc, "- conda-forge") {
					t.Errorf("~/.condarc:\n%s", rc)
				}
			}},

		// the python-env step
		{name: "create env", argv: []string{"{mm}", "create", "-n", "openhands", "-y"},
			stdout: []string{"Empty environment created at prefix: {env}"},
			check: func(t *testing.T, l *siLayout, _ siResult) {
				if h := siReadFile(t, filepath.Join(l.env, "conda-meta", "history")); !strings.Contains(h, "# cmd: micromamba create -n openhands -y") {
					t.Errorf("history:\n%s", h)
				}
			}},
		{name: "create existing env without -y fails",
			argv: []string{"{mm}", "create", "-n", "openhands"}, wantCode: 1,
			stderr: []string{"already exists"}},
		{name: "install into missing env fails",
			argv:     []string{"{mm}", "install", "-n", "missing", "-c", "conda-forge", "python=3.12", "-y"},
			wantCode: 1, stderr: []string{"no environment found at {prefix}/micromamba/envs/missing"}},
		// The channel is found under the alias of ~/.condarc, and recorded with its credentials.
		{name: "install python and poetry",
			argv:   []string{"{mm}", "install", "-n", "openhands", "-c", "conda-forge", "poetry", "python=3.12", "-y"},
			stdout: []string{"+ python 3.12", "+ poetry 2.2.1", "https://***@conda.example/alias/conda-forge"},
			never:  []string{"mirror-secret"},
			check: func(t *testing.T, l *siLayout, _ siResult) {
				if target, err := os.Readlink(l.envPy); err != nil || !filepath.IsAbs(target) {
					t.Errorf("bin/python3.12 should link to the host python: %q %v", target, err)
				}
				for _, link := range []string{"python", "python3"} {
					if target, err := os.Readlink(filepath.Join(l.env, "bin", link)); err != nil || target != "python3.12" {
						t.Errorf("bin/%s -> %q (%v), want python3.12", link, target, err)
					}
				}
				if cfg := siReadFile(t, filepath.Join(l.env, "pyvenv.cfg")); !strings.Contains(cfg, "include-system-site-packages = false") {
					t.Errorf("pyvenv.cfg:\n%s", cfg)
				}
				siCheckRecords(t, l, "https://mirror-user:mirror-secret@conda.example/alias/conda-forge/")
				site := siSitePackages(t, l.env)
				if got := siReadFile(t, filepath.Join(site, "anyio-4.12.1.dist-info", "INSTALLER")); got != "conda\n" {
					t.Errorf("conda's anyio INSTALLER = %q", got)
				}
			}},
		// MAMBA_CHANNEL_ALIAS, as the plan gives it, takes precedence over ~/.condarc.
		{name: "install with the alias from the environment",
			env:   []string{"MAMBA_CHANNEL_ALIAS=https://ci:env-secret@conda.internal/api/"},
			argv:  []string{"{mm}", "install", "-n", "openhands", "-c", "conda-forge", "poetry", "python=3.12", "-y"},
			never: []string{"env-secret"},
			check: func(t *testing.T, l *siLayout, _ siResult) {
				siCheckRecords(t, l, "https://ci:env-secret@conda.internal/api/conda-forge/")
			}},

		// run
		{name: "run python3.12 reports the env interpreter",
			argv:   []string{"{mm}", "run", "-n", "openhands", "python3.12", "-c", "import sys;print(sys.executable);print(sys.prefix)"},
			stdout: []string{"{envpy}\n{env}\n"}},
		{name: "run python resolves into the env",
			argv: []string{"{mm}", "run", "-n", "openhands", "python", "-c", "import sys;print(sys.executable)"},
			check: func(t *testing.T, l *siLayout, r siResult) {
				// Like a real conda env, `python` is a symlink to python3.12 and Python reports
				// the name it was started by: <env>/bin/python, the same interpreter.
				got := strings.TrimSpace(r.stdout)
				if filepath.Dir(got) != filepath.Join(l.env, "bin") {
					t.Fatalf("sys.executable %q is not in the env", got)
				}
				a, err1 := filepath.EvalSymlinks(got)
				b, err2 := filepath.EvalSymlinks(l.envPy)
				if err1 != nil || err2 != nil || a != b {
					t.Errorf("%s resolves to %q, python3.12 to %q (%v %v)", got, a, b, err1, err2)
				}
			}},
		{name: "run sets the conda variables",
			argv:   []string{"{mm}", "run", "-n", "openhands", "sh", "-c", `echo "$CONDA_PREFIX|$CONDA_DEFAULT_ENV"; command -v python3`},
			stdout: []string{"{env}|openhands\n{env}/bin/python3\n"}},
		{name: "run passes the exit code",
			argv: []string{"{mm}", "run", "-n", "openhands", "sh", "-c", "exit 7"}, wantCode: 7},
		{name: "run in missing env fails",
			argv: []string{"{mm}", "run", "-n", "missing", "true"}, wantCode: 1,
			stderr: []string{"no environment found"}},
		{name: "poetry fails as on AL2023",
			argv: []string{"{mm}", "run", "-n", "openhands", "poetry", "--version"}, wantCode: 1,
			check: siPoetryFailed},
		{name: "poetry run fails as on AL2023",
			argv: []string{"{mm}", "run", "-n", "openhands", "{env}/bin/poetry", "run", "python", "-c", "print(1)"}, wantCode: 1,
			check: siPoetryFailed},
		{name: "python -m poetry fails as on AL2023",
			argv: []string{"{mm}", "run", "-n", "openhands", "python", "-m", "poetry", "--version"}, wantCode: 1,
			check: siPoetryFailed},
		{name: "a hidden poetry call is still recorded",
			argv: []string{"sh", "-c", "{env}/bin/poetry install --only main >/dev/null 2>&1 || true"}},
		{name: "every poetry call is recorded",
			argv: []string{"cat", "{root}/poetry-calls"},
			check: func(t *testing.T, l *siLayout, r siResult) {
				if want := "poetry --version\npoetry run python -c print(1)\npython -m poetry --version\npoetry install --only main\n"; r.stdout != want {
					t.Errorf("call log:\n%s\nwant\n%s", r.stdout, want)
				}
				// The Poetry may be started by root or by the runtime user: both append.
				if info, err := os.Stat(filepath.Join(l.root, "poetry-calls")); err != nil || info.Mode().Perm() != 0o666 {
					t.Errorf("the call log's mode is not 0666: %v %v", info, err)
				}
			}},

		// the dependencies step
		{name: "uv installs the project and its dependencies", dir: "{src}",
			env: []string{"SKIP_VSCODE_BUILD=1"},
			argv: siInstallEditable("--index-url", "https://idx-user:idx-token@pypi.example/simple",
				"--extra-index-url=https://extra-token@extra.example/simple"),
			stderr: []string{"Using 2 package indexes", "Resolved 321 packages", "Uninstalled ",
				// pydantic: the newest version the index serves; anyio: a stub only.
				"Installed 321 packages", " - anyio==4.12.1", " + anyio==0.0.0+standin", " + pydantic==2.11.7",
				" ~ openhands-ai==0.59.0 (from file://{src})"},
			never: []string{"idx-token", "idx-user", "extra-token", "pypi.example", "extra.example"},
			check: func(t *testing.T, l *siLayout, _ siResult) {
				site := siSitePackages(t, l.env)
				if got := siReadFile(t, filepath.Join(site, "__editable__.openhands_ai-0.59.0.pth")); got != l.src+"\n" {
					t.Errorf(".pth holds %q", got)
				}
				var direct struct {
					URL     string `json:"url"`
					DirInfo struct {
						Editable bool `json:"editable"`
					} `json:"dir_info"`
				}
				raw := siReadFile(t, filepath.Join(site, "openhands_ai-0.59.0.dist-info", "direct_url.json"))
				if err := json.Unmarshal([]byte(raw), &direct); err != nil || direct.URL != "file://"+l.src || !direct.DirInfo.Editable {
					t.Errorf("direct_url.json: %s (%v)", raw, err)
				}
				if got := siReadFile(t, filepath.Join(site, "pydantic", "__init__.py")); !strings.Contains(got, `__version__ = "2.11.7"`) {
					t.Errorf("pydantic stub:\n%s", got)
				}
				if got := siReadFile(t, filepath.Join(site, "anyio-0.0.0+standin.dist-info", "INSTALLER")); got != "uv\n" {
					t.Errorf("anyio INSTALLER after uv = %q", got)
				}
				if _, err := os.Stat(filepath.Join(site, "anyio-4.12.1.dist-info")); !os.IsNotExist(err) {
					t.Errorf("conda's anyio dist-info was not replaced: %v", err)
				}
			}},
		{name: "imports work through the env python",
			argv: []string{"{mm}", "run", "-n", "openhands", "python", "-c",
				"import pydantic, openai, litellm, openhands.core.config as c; print(c.OpenHandsConfig.__name__, pydantic.__version__, c.__file__)"},
			stdout: []string{"OpenHandsConfig 2.11.7 {src}/openhands/core/config/__init__.py"}},
		{name: "jupyter-kernel-gateway provides kernel_gateway",
			argv:   []string{"{mm}", "run", "-n", "openhands", "python", "-c", "import kernel_gateway, jupyter_kernel_gateway; print(kernel_gateway.__version__)"},
			stdout: []string{"0.0.0+standin\n"},
			check: func(t *testing.T, l *siLayout, _ siResult) {
				// In the RECORD, so uninstalling the distribution removes it too.
				record := siReadFile(t, filepath.Join(siSitePackages(t, l.env), "jupyter_kernel_gateway-0.0.0+standin.dist-info", "RECORD"))
				if !strings.Contains(record, "kernel_gateway/__init__.py,sha256=") {
					t.Errorf("RECORD lacks kernel_gateway:\n%s", record)
				}
			}},
		{name: "uv pip list counts the dependencies",
			argv: []string{"{uv}", "pip", "list", "--python", "{envpy}", "--format", "json"},
			check: func(t *testing.T, l *siLayout, _ siResult) {
				n, rows := siListCount(t, l)
				if n < 320 {
					t.Errorf("uv pip list shows %d distributions, want at least 320", n)
				}
				installed = n
				for _, row := range rows {
					if row["name"] == "openhands-ai" {
						if row["version"] != "0.59.0" || row["editable_project_location"] != l.src {
							t.Errorf("openhands-ai row: %v", row)
						}
						return
					}
				}
				t.Errorf("openhands-ai is not listed")
			}},
		{name: "uv pip list columns",
			argv:   []string{"{uv}", "pip", "list", "--python={envpy}"},
			stdout: []string{"Package ", "Editable project location", "\n--------", "\npydantic "},
			check: func(t *testing.T, l *siLayout, r siResult) {
				if lines := strings.Count(r.stdout, "\n"); lines != installed+2 {
					t.Errorf("columns output has %d lines, want %d", lines, installed+2)
				}
			}},
		{name: "uv pip list freeze",
			argv:   []string{"{uv}", "pip", "list", "--python", "{envpy}", "--format", "freeze"},
			stdout: []string{"openhands-ai==0.59.0\n", "pydantic==2.11.7\n"}},
		{name: "second install is idempotent", dir: "{src}", argv: siInstallEditable(),
			stderr: []string{"Audited 321 packages"}, never: []string{"Installed"},
			check: func(t *testing.T, l *siLayout, _ siResult) {
				if n, _ := siListCount(t, l); n != installed {
					t.Errorf("%d distributions after the second install, want %d", n, installed)
				}
			}},
		{name: "runtime group by name",
			argv:   []string{"{mm}", "run", "-n", "openhands", "{uv}", "pip", "install", "--python", "{envpy}", "jupyterlab", "notebook", "flake8"},
			stderr: []string{"Installed 3 packages", " + jupyterlab==4.4.5"},
			check: func(t *testing.T, l *siLayout, _ siResult) {
				if n, _ := siListCount(t, l); n != installed+3 {
					t.Errorf("%d distributions, want %d", n, installed+3)
				}
			}},
		{name: "fallback TOML parser and CONDA_PREFIX discovery agree with tomllib",
			env:    []string{"UV_STANDIN_TOML_FALLBACK=1"},
			argv:   []string{"{mm}", "run", "-n", "openhands", "{uv}", "pip", "install", "--dry-run", "--reinstall", "-e", "{src}"},
			stderr: []string{"Using Python ", "environment at: {env}", "Resolved 321 packages", "Would install 321 packages"}},
		{name: "poetry-only project",
			setup: func(t *testing.T, l *siLayout) {
				dir := filepath.Join(l.root, "legacy")
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				pyproject := `[tool.poetry]
name = "legacy-app"
version = "1.2.3"

[tool.poetry.dependencies]
python = "^3.12"
requests = "^2.32"
tomli-w = { version = "*" }
"ruamel.yaml" = { version = "*", optional = true }
`
				if err := os.WriteFile(filepath.Join(dir, "pyproject.toml"), []byte(pyproject), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			argv:   []string{"{uv}", "pip", "install", "--python", "{envpy}", "-e", "{root}/legacy"},
			stderr: []string{"Resolved 3 packages", "Installed 2 packages", " + tomli-w==0.0.0+standin", " ~ legacy-app==1.2.3"},
			check: func(t *testing.T, l *siLayout, _ siResult) {
				site := siSitePackages(t, l.env)
				if _, err := os.Stat(filepath.Join(site, "legacy_app-1.2.3.dist-info", "direct_url.json")); err != nil {
					t.Error(err)
				}
				if _, err := os.Stat(filepath.Join(site, "ruamel_yaml")); !os.IsNotExist(err) {
					t.Errorf("optional poetry dependency was installed: %v", err)
				}
			}},

		// the browser step
		{name: "playwright installs chromium",
			argv:   []string{"{mm}", "run", "-n", "openhands", "python", "-m", "playwright", "install", "--with-deps", "chromium"},
			stdout: []string{"system dependencies are assumed present", "{root}/browsers/chromium-1140"},
			check: func(t *testing.T, l *siLayout, _ siResult) {
				chrome := filepath.Join(l.browsers, "chromium-1140", "chrome-linux", "chrome")
				r := siRun(t, l.root, l.environ(), chrome, "--version")
				if r.code != 0 || !strings.Contains(r.stdout, "Chromium") {
					t.Errorf("stub chrome: %s", r)
				}
			}},

		// the environment step's shell hook
		{name: "shell hook -s bash activates",
			env:  []string{"MM={mm}"},
			argv: []string{"bash", "-c", siHook},
			stdout: []string{"active={env}|openhands|{prefix}/micromamba\n{env}/bin/python3\n2.0.5 (stand-in)\n",
				"after=none"}},
		{name: "shell hook --shell=bash activates",
			env: []string{"MM={mm}"},
			argv: []string{"bash", "-c", `eval "$("$MM" shell hook --shell=bash)"; micromamba activate openhands
python -c 'import sys; print(sys.prefix)'; echo "exe=$MAMBA_EXE"`},
			stdout: []string{"{env}\nexe={mm}\n"}},
		{name: "shell hook --shell bash, missing env",
			env:      []string{"MM={mm}"},
			argv:     []string{"bash", "-c", `eval "$("$MM" shell hook --shell bash)"; micromamba activate missing`},
			wantCode: 1, stderr: []string{"no environment found"}},

		// root prefix selection
		{name: "MAMBA_ROOT_PREFIX selects the root",
			env:  []string{"MAMBA_ROOT_PREFIX={root}/env-root"},
			argv: []string{"{mm}", "create", "-n", "other", "-y"},
			check: func(t *testing.T, l *siLayout, _ siResult) {
				if _, err := os.Stat(filepath.Join(l.root, "env-root", "envs", "other", "conda-meta")); err != nil {
					t.Error(err)
				}
			}},
		{name: "create -y recreates, --root-prefix selects the root",
			setup: func(t *testing.T, l *siLayout) {
				siCopyFile(t, l.mm, filepath.Join(l.root, "flag-root", "envs", "other", "marker"), 0o644)
			},
			argv: []string{"{mm}", "--root-prefix", "{root}/flag-root", "create", "-n", "other", "-y"},
			check: func(t *testing.T, l *siLayout, _ siResult) {
				if _, err := os.Stat(filepath.Join(l.root, "flag-root", "envs", "other", "marker")); !os.IsNotExist(err) {
					t.Errorf("the env was not recreated: %v", err)
				}
			}},

		// the cleanup step
		{name: "clean --all empties the package cache",
			argv: []string{"{mm}", "clean", "--all", "-y"},
			check: func(t *testing.T, l *siLayout, _ siResult) {
				pkgs, err := os.ReadDir(filepath.Join(l.prefix, "micromamba", "pkgs"))
				if err != nil || len(pkgs) != 0 {
					t.Errorf("pkgs after clean: %d entries (%v)", len(pkgs), err)
				}
			}},

		// anything else is refused
		{name: "micromamba refuses unknown commands",
			argv: []string{"{mm}", "update", "-n", "openhands"}, wantCode: 2, stderr: []string{"unsupported command update"}},
		{name: "uv refuses unknown commands",
			argv: []string{"{uv}", "sync"}, wantCode: 2, stderr: []string{"supports only"}},
		{name: "uv refuses unknown options",
			argv: []string{"{uv}", "pip", "install", "--python", "{envpy}", "--frobnicate", "x"}, wantCode: 2,
			stderr: []string{"unexpected argument '--frobnicate'"}},
	}
	siRunSteps(t, l, steps)
}

// siPoetryError is all Poetry prints on an Amazon Linux 2023 host, whatever it is asked.
const siPoetryError = "Could not parse version constraint: 6.1.159-182.297.amzn2023.x86_64\n"

func siPoetryFailed(t *testing.T, _ *siLayout, r siResult) {
	if r.stderr != siPoetryError || r.stdout != "" {
		t.Errorf("want only %q on stderr, got %s", siPoetryError, r)
	}
}

// TestStandinsRootPrefix runs OpenHands' launcher prefix (`micromamba run -n openhands`) the
// way the runtime container does: it finds the env only through MAMBA_ROOT_PREFIX, since
// micromamba's default root is ~/.local/share/mamba, not the executable's directory.
func TestStandinsRootPrefix(t *testing.T) {
	t.Parallel()
	l := siNewLayout(t, siHostPython(t), "/usr/bin:/bin")
	launch := []string{"{mm}", "run", "-n", "openhands", "python", "-c", "import sys; print(sys.prefix)"}
	siRunSteps(t, l, []siStep{
		{name: "create", argv: []string{"{mm}", "create", "-n", "openhands", "-y"},
			stdout: []string{"Empty environment created at prefix: {env}"}},
		{name: "install python", argv: []string{"{mm}", "install", "-n", "openhands", "-c", "conda-forge", "python=3.12", "-y"}},
		{name: "run without MAMBA_ROOT_PREFIX fails", env: []string{"MAMBA_ROOT_PREFIX="}, argv: launch,
			wantCode: 1, stderr: []string{"no environment found at {home}/.local/share/mamba/envs/openhands\n"}},
		{name: "run with MAMBA_ROOT_PREFIX finds the env", env: []string{"MAMBA_ROOT_PREFIX={prefix}/micromamba"},
			argv: launch, stdout: []string{"{env}\n"}},
		{name: "run with --root-prefix finds the env", env: []string{"MAMBA_ROOT_PREFIX="},
			argv: append([]string{"{mm}", "-r", "{prefix}/micromamba"}, launch[1:]...), stdout: []string{"{env}\n"}},
		{name: "create without MAMBA_ROOT_PREFIX goes to the user's data directory", env: []string{"MAMBA_ROOT_PREFIX="},
			argv:   []string{"{mm}", "create", "-n", "other", "-y"},
			stdout: []string{"Empty environment created at prefix: {home}/.local/share/mamba/envs/other"}},
		{name: "shell hook without MAMBA_ROOT_PREFIX exports the default root", env: []string{"MAMBA_ROOT_PREFIX="},
			argv: []string{"{mm}", "shell", "hook", "-s", "bash"}, stdout: []string{"export MAMBA_ROOT_PREFIX={home}/.local/share/mamba\n"}},
	})
}

// TestStandinsPythonVersions runs the core of the plan under each Python 3.9–3.13 found on
// PATH as python3.X, or listed (as paths) in RIG_STANDIN_PYTHONS.
func TestStandinsPythonVersions(t *testing.T) {
	t.Parallel()
	var candidates []string
	for _, v := range []string{"3.9", "3.10", "3.11", "3.12", "3.13"} {
		if p, err := exec.LookPath("python" + v); err == nil {
			candidates = append(candidates, p)
		}
	}
	candidates = append(candidates, strings.Fields(os.Getenv("RIG_STANDIN_PYTHONS"))...)
	ran := 0
	for _, py := range candidates {
		// pyenv shims exist for versions that are not selected and then fail to run.
		real, version, ok := siRealPython(py)
		if !ok {
			continue
		}
		ran++
		t.Run(version, func(t *testing.T) {
			l := siNewLayout(t, real, "/usr/bin:/bin")
			siRunSteps(t, l, []siStep{
				{name: "create", argv: []string{"{mm}", "create", "-n", "openhands", "-y"}},
				{name: "install", argv: []string{"{mm}", "install", "-n", "openhands", "-c", "conda-forge", "poetry", "python=3.12", "-y"}},
				{name: "uv install", dir: "{src}", argv: siInstallEditable(), stderr: []string{"Installed 321 packages"}},
				{name: "import",
					argv:   []string{"{mm}", "run", "-n", "openhands", "python", "-c", "import platform, openhands.core.config; print(platform.python_version())"},
					stdout: []string{version + "\n"}},
			})
		})
	}
	if ran == 0 {
		t.Skip("no runnable python3.X on PATH and RIG_STANDIN_PYTHONS unset")
	}
}

// TestStandinsPermissionDenied reproduces the design document's ownership failure: an env created by root,
// then `uv pip install` as another user, without the plan's chown.
func TestStandinsPermissionDenied(t *testing.T) {
	t.Parallel()
	host := siHostPython(t)
	if os.Geteuid() != 0 {
		unavailable(t, "needs root to create the env as root and run uv as nobody")
	}
	runuser, err := exec.LookPath("runuser")
	if err != nil {
		t.Skip("runuser not found")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	// nobody needs a Python it may execute (pyenv under /root is out of reach).
	var py string
	for _, cand := range []string{host, "/usr/bin/python3"} {
		out, err := exec.Command(runuser, "-u", "nobody", "--", cand, "-c", "import os,sys;print(os.path.realpath(sys.executable))").Output()
		if err == nil {
			py = strings.TrimSpace(string(out))
			break
		}
	}
	if py == "" {
		t.Skip("no python3 that user nobody can run")
	}

	asNobody := func(l *siLayout, argv ...string) []string {
		return append([]string{runuser, "-u", "nobody", "--", "env", "PATH=" + l.path,
			"MAMBA_ROOT_PREFIX=" + filepath.Join(l.prefix, "micromamba"), "PYTHONDONTWRITEBYTECODE=1"}, argv...)
	}
	chownNobody := func(t *testing.T, dir string) {
		uid, _ := strconv.Atoi(nobody.Uid)
		gid, _ := strconv.Atoi(nobody.Gid)
		err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, uid, gid)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	uvArgs := []string{"{mm}", "run", "-n", "openhands", "{uv}", "pip", "install", "--python", "{envpy}", "--no-cache"}

	cases := []struct {
		name     string
		packages []string // what root installs into the env
		prepare  func(t *testing.T, l *siLayout)
		uvExtra  []string
		wantCode int
		want     string // expected error line, after placeholders; {site} is the site-packages
	}{
		{
			name:     "conda's packages cannot be replaced",
			packages: []string{"poetry", "python=3.12"},
			wantCode: 2,
			want:     "error: failed to remove file {site}/anyio-4.12.1.dist-info/INSTALLER: Permission denied (os error 13)\n",
		},
		{
			name:     "root-owned site-packages takes no new package",
			packages: []string{"python=3.12"},
			wantCode: 2,
			want: "error: Failed to install: aiofiles-0.0.0+standin-py3-none-any.whl (aiofiles==0.0.0+standin)\n" +
				"  Caused by: failed to create directory {site}/aiofiles: Permission denied (os error 13)\n",
		},
		{
			name:     "the plan's chown fixes it",
			packages: []string{"poetry", "python=3.12"},
			prepare: func(t *testing.T, l *siLayout) {
				chownNobody(t, filepath.Join(l.prefix, "micromamba"))
			},
			want: "Installed 321 packages",
		},
		{
			name:     "root-written bytecode breaks a later reinstall",
			packages: []string{"python=3.12"},
			prepare: func(t *testing.T, l *siLayout) {
				chownNobody(t, filepath.Join(l.prefix, "micromamba"))
				steps := []siStep{
					{name: "install as nobody", dir: "{src}", argv: asNobody(l, append(uvArgs, "-e", ".")...)},
					// a root step running the env's Python without PYTHONDONTWRITEBYTECODE
					{name: "import as root", env: []string{"PYTHONDONTWRITEBYTECODE="},
						argv: []string{"{mm}", "run", "-n", "openhands", "python", "-c", "import pydantic"}},
				}
				siRunSteps(t, l, steps)
			},
			uvExtra:  []string{"--reinstall"},
			wantCode: 2,
			want:     "error: failed to remove file {site}/pydantic/__pycache__/__init__.cpython-",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := siNewLayout(t, py, "/usr/sbin:/usr/bin:/sbin:/bin")
			siRunSteps(t, l, []siStep{
				{name: "create as root", argv: []string{"{mm}", "create", "-n", "openhands", "-y"}},
				{name: "install as root", argv: append([]string{"{mm}", "install", "-n", "openhands", "-c", "conda-forge"}, append(c.packages, "-y")...)},
			})
			if c.prepare != nil {
				c.prepare(t, l)
			}
			argv := append(append(append([]string{}, uvArgs...), c.uvExtra...), "-e", ".")
			for i := range argv {
				argv[i] = l.expand(argv[i])
			}
			r := siRun(t, l.src, l.environ(), asNobody(l, argv...)...)
			want := strings.ReplaceAll(l.expand(c.want), "{site}", siSitePackages(t, l.env))
			if r.code != c.wantCode || !strings.Contains(r.stderr, want) {
				t.Fatalf("want exit %d and %q, got %s", c.wantCode, want, r)
			}
			if c.wantCode != 0 && !strings.Contains(r.stderr, "Permission denied (os error 13)") {
				t.Errorf("no permission error: %s", r)
			}
		})
	}
}

// unavailable skips a test that needs what this machine lacks (root, a tool), or fails it
// under `make test` (PACKER_ACC set), which sets everything up and must not pass by skipping.
func unavailable(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("PACKER_ACC") != "" {
		t.Fatalf("%s (make test requires it)", why)
	}
	t.Skip(why)
}

// TestStandinsConstraints: the uv stand-in honours a constraints file as uv does: the files
// the plan generates from the fixture's poetry.lock install the locked versions, even once
// the index serves newer releases that an unpinned install takes, and a pin the index lacks,
// a pin that conflicts with a requirement or a wrong hash fails naming the package.
func TestStandinsConstraints(t *testing.T) {
	t.Parallel()
	l := siNewLayout(t, siHostPython(t), "/usr/bin:/bin")
	o := plan.Options{SourceDir: FixtureSourceDir(), VSCodeServerSHA256: strings.Repeat("0", 64)}
	if errs := o.Prepare(); len(errs) != 0 {
		t.Fatalf("the fixture's lock does not prepare: %v", errs)
	}
	li, err := plan.ReadLockInstall(o)
	if err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(l.root, "lock")
	siWrite := func(name, content string) func(*testing.T, *siLayout) {
		return func(t *testing.T, _ *siLayout) {
			if err := os.MkdirAll(lock, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(lock, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	pinned := siInstallEditable("--constraint", "{root}/lock/constraints.txt", "--requirement", "{root}/lock/requirements.txt", "--verify-hashes")
	bad := siInstallEditable("--constraint", "{root}/lock/bad.txt")
	wrongHash := "openai==1.99.9 --hash=sha256:" + strings.Repeat("ab", 32) + "\n"
	// Releases published after the lock was written, within the project's requirements.
	published := []string{"UV_STANDIN_INDEX={root}/lock/published.txt"}
	siRunSteps(t, l, []siStep{
		{name: "create", argv: []string{"{mm}", "create", "-n", "openhands", "-y"}},
		{name: "install python", argv: []string{"{mm}", "install", "-n", "openhands", "-c", "conda-forge", "python=3.12", "-y"}},
		{name: "a pin the index lacks", dir: "{src}", argv: bad, wantCode: 2,
			setup:  siWrite("bad.txt", "pydantic==9.9.9\n"),
			stderr: []string{"No solution found when resolving dependencies", "there is no version of pydantic==9.9.9"}},
		{name: "a pin that conflicts with a requirement", dir: "{src}", argv: bad, wantCode: 2,
			setup:  siWrite("bad.txt", "openai==1.99.8\n"),
			stderr: []string{"Because you require openai==1.99.9 and openai==1.99.8"}},
		{name: "a hash mismatch", dir: "{src}", argv: bad, wantCode: 2,
			setup:  siWrite("bad.txt", wrongHash),
			stderr: []string{"Hash mismatch for `openai==1.99.9`", "Computed:\n  sha256:"}},
		{name: "nothing was installed by the failures", argv: []string{"{uv}", "pip", "list", "--python", "{envpy}", "--format", "freeze"},
			check: func(t *testing.T, _ *siLayout, r siResult) {
				if strings.Contains(r.stdout, "openai") {
					t.Errorf("a failed install left packages:\n%s", r)
				}
			}},
		{name: "an unpinned install takes the newest releases", dir: "{src}", env: published, argv: siInstallEditable("--dry-run"),
			setup:  siWrite("published.txt", "pydantic==2.12.3\nlitellm==1.78.0\n"),
			stderr: []string{" + pydantic==2.12.3\n", " + litellm==1.78.0\n", " + openai==1.99.9\n"}},
		{name: "no release meets a requirement", env: published, wantCode: 2,
			argv:   []string{"{uv}", "pip", "install", "--python", "{envpy}", "pydantic>=3"},
			stderr: []string{"Because only pydantic<=2.12.3 is available and you require pydantic>=3, we can conclude that your requirements are unsatisfiable."}},
		{name: "pinned to the lock", dir: "{src}", env: published, argv: pinned,
			setup: func(t *testing.T, l *siLayout) {
				siWrite(plan.LockConstraintsFile, string(li.Constraints))(t, l)
				siWrite(plan.LockRequirementsFile, string(li.Requirements))(t, l)
			}},
		{name: "the env holds the locked versions", argv: []string{"{uv}", "pip", "list", "--python", "{envpy}", "--format", "freeze"},
			stdout: []string{"\nopenai==1.99.9\n", "\npydantic==2.11.7\n", "\nlitellm==1.77.7\n",
				// the runtime group, from the lock's requirements
				"\nflake8==7.3.0\n", "\njupyterlab==4.4.5\n", "\nnotebook==7.4.4\n",
				// not locked
				"\nfastapi==0.0.0+standin\n"},
			check: func(t *testing.T, _ *siLayout, r siResult) {
				for _, absent := range []string{"ruff", "pywin32"} {
					if strings.Contains(r.stdout, absent) {
						t.Errorf("%s is installed, but only pinned:\n%s", absent, r.stdout)
					}
				}
			}},
	})
}

// TestStandinsDiskFull: the uv stand-in on a full disk fails as uv does, naming the wheel and
// the OS error, and installs everything once there is space again. The full disk is the
// kernel's: the first file it writes is a link to /dev/full, where every write gets ENOSPC.
func TestStandinsDiskFull(t *testing.T) {
	t.Parallel()
	l := siNewLayout(t, siHostPython(t), os.Getenv("PATH"))
	siRunSteps(t, l, []siStep{
		{name: "create", argv: []string{"{mm}", "create", "-n", "openhands", "-y"}},
		{name: "install python", argv: []string{"{mm}", "install", "-n", "openhands", "-c", "conda-forge", "python=3.12", "-y"}},
	})
	full := filepath.Join(siSitePackages(t, l.env), "aiofiles", "__init__.py")
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/full", full); err != nil {
		t.Fatal(err)
	}
	siRunSteps(t, l, []siStep{
		{name: "disk full", dir: "{src}", argv: siInstallEditable(), wantCode: 2, stderr: []string{
			"error: Failed to install: aiofiles-0.0.0+standin-py3-none-any.whl (aiofiles==0.0.0+standin)\n" +
				"  Caused by: failed to write to file " + full + ": No space left on device (os error 28)\n"}},
		{name: "space freed", dir: "{src}", setup: func(t *testing.T, _ *siLayout) {
			if err := os.Remove(full); err != nil {
				t.Fatal(err)
			}
		}, argv: siInstallEditable(), stderr: []string{"Installed 321 packages"}},
	})
}

// TestStandinsExtraPipPackages: extra_pip_packages go through the lock's constraints as the
// dependency step passes them. A package that only an extra brings, optional in the lock, gets
// its locked version although the index serves a newer one, and an extra that conflicts with
// a locked version fails with uv's message; without the constraints, both would install.
func TestStandinsExtraPipPackages(t *testing.T) {
	t.Parallel()
	l := siNewLayout(t, siHostPython(t), "/usr/bin:/bin")
	lockFile := filepath.Join(l.src, projectfile.PoetryLockFile)
	optional := `[[package]]
name = "pyfiglet"
version = "1.0.2"
description = "Pure-python FIGlet implementation"
optional = true
python-versions = ">=3.9"
groups = ["main"]
markers = "extra == \"banners\""
files = []

[metadata]`
	locked := strings.Replace(siReadFile(t, lockFile), "[metadata]", optional, 1)
	if err := os.WriteFile(lockFile, []byte(locked), 0o644); err != nil {
		t.Fatal(err)
	}
	o := plan.Options{SourceDir: l.src, VSCodeServerSHA256: strings.Repeat("0", 64)}
	if errs := o.Prepare(); len(errs) != 0 {
		t.Fatalf("the fixture's lock with an optional package does not prepare: %v", errs)
	}
	li, err := plan.ReadLockInstall(o)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{plan.LockConstraintsFile: string(li.Constraints), plan.LockRequirementsFile: string(li.Requirements),
		"published.txt": "pyfiglet==1.0.2\npyfiglet==1.0.3\n"}
	if err := os.MkdirAll(filepath.Join(l.root, "lock"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(l.root, "lock", name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	published := []string{"UV_STANDIN_INDEX={root}/lock/published.txt"}
	pinned := func(extras ...string) []string {
		return append(siInstallEditable("--constraint", "{root}/lock/constraints.txt", "--requirement", "{root}/lock/requirements.txt", "--verify-hashes"), extras...)
	}
	unpinned := func(extras ...string) []string { return append(siInstallEditable("--dry-run"), extras...) }
	unsat := "Because you require litellm==1.74.3 and litellm==1.77.7, we can conclude that your requirements are unsatisfiable."
	siRunSteps(t, l, []siStep{
		{name: "create", argv: []string{"{mm}", "create", "-n", "openhands", "-y"}},
		{name: "install python", argv: []string{"{mm}", "install", "-n", "openhands", "-c", "conda-forge", "python=3.12", "-y"}},
		{name: "a conflicting extra fails", dir: "{src}", env: published, argv: pinned("litellm==1.74.3"), wantCode: 2,
			stderr: []string{"No solution found when resolving dependencies", unsat}},
		{name: "an extra only the lock names gets the locked version", dir: "{src}", env: published, argv: pinned("pyfiglet"),
			stderr: []string{" + pyfiglet==1.0.2\n", " + litellm==1.77.7\n"}},
		{name: "without the lock, the newest release", dir: "{src}", env: published, argv: unpinned("pyfiglet"),
			stderr: []string{" + pyfiglet==1.0.3\n"}},
		{name: "without the lock, the conflicting extra installs", dir: "{src}", env: published, argv: unpinned("litellm==1.74.3"),
			stderr: []string{" + litellm==1.74.3\n"}, never: []string{unsat}},
	})
}
