package plan

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
)

// TestUVPython: python_source = "uv" leaves micromamba and its environment out of the
// agent-server's plan; the install step installs Python with uv from where the options say,
// whose credentials only the secrets file holds; the checks look at uv's Python.
func TestUVPython(t *testing.T) {
	o := Options{PythonInstallMirror: "https://mirror:s3cr3t@pbs.internal/releases", Layout: Layout{PythonSource: PythonSourceUV}}
	p := agentServerPlan(t, o)
	if want := []StepID{"preflight", "system-packages", "uv", "user", "directories", "vscode-server", "tini", "agent-server",
		"environment", "service", "cleanup", "verify"}; !slices.Equal(p.StepNames(), want) {
		t.Errorf("steps %v, want %v", p.StepNames(), want)
	}
	install := p.Steps[slices.Index(p.StepNames(), "agent-server")]
	for _, want := range []string{`export UV_PYTHON_DOWNLOADS=manual UV_PYTHON_INSTALL_DIR="$OH_UV_PYTHON"`,
		`oh_retry "$OH_UV" python install --no-config --no-bin "$OH_PYTHON_VERSION"`,
		`"$OH_UV" venv --no-config --managed-python --python "$OH_PYTHON_VERSION" "$OH_AGENT_VENV"`} {
		if !strings.Contains(install.Commands[0].Shell, want) {
			t.Errorf("the agent-server step lacks %q:\n%s", want, install.Commands[0].Shell)
		}
	}
	if strings.Contains(install.Commands[0].Shell, "OH_ENV_PY") || !slices.Contains(install.Secrets, "OH_PYTHON_INSTALL_MIRROR") {
		t.Errorf("the step uses micromamba's Python, or does not read the mirror from the secrets: %v", install.Secrets)
	}
	script, secrets := p.Script("test"), p.SecretsScript()
	if strings.Contains(script, "s3cr3t") || !strings.Contains(secrets, "OH_PYTHON_INSTALL_MIRROR='https://mirror:s3cr3t@pbs.internal/releases'") {
		t.Errorf("the mirror's credentials are in the script, or not in the secrets file:\n%s", secrets)
	}
	var names []string
	for _, c := range p.Checks {
		names = append(names, c.Name)
	}
	if slices.Contains(names, "micromamba ownership") || !slices.Contains(names, "self-contained venv") {
		t.Errorf("checks %v: micromamba's is there, or the venv's is not", names)
	}
	micromamba := agentServerPlan(t, Options{})
	if other := micromamba.Steps[slices.Index(micromamba.StepNames(), "agent-server")]; other.Stamp == install.Stamp {
		t.Error("the install step's stamp does not change with python_source")
	}
}

func TestPythonSourceErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want []string // each error, whole
	}{
		{"uv with a mirror and a JSON file", Options{PythonInstallMirror: "https://pbs.internal/releases", PythonDownloadsJSONURL: "/srv/python-downloads.json",
			Layout: Layout{PythonSource: PythonSourceUV}}, nil},
		{"an unknown source", Options{Layout: Layout{PythonSource: "conda"}}, []string{`python_source: "conda" is not a source of Python; use "micromamba" or "uv"`}},
		{"a mirror for micromamba's Python", Options{PythonInstallMirror: "https://pbs.internal/releases"},
			[]string{`python_install_mirror: set, but python_source is "micromamba", which takes no download of uv's; set python_source = "uv", or remove python_install_mirror`}},
		{"a mirror that is no URL", Options{PythonInstallMirror: "pbs.internal", Layout: Layout{PythonSource: PythonSourceUV}},
			[]string{`python_install_mirror: "pbs.internal" is not an http(s) URL`}},
		{"a JSON path that is not clean", Options{PythonDownloadsJSONURL: "/srv/../x.json", Layout: Layout{PythonSource: PythonSourceUV}},
			[]string{`python_downloads_json_url: "/srv/../x.json" must be a clean absolute path without spaces, quotes or backslashes`}},
		{"micromamba's options with uv's Python", Options{ChannelAlias: "https://conda.internal", MicromambaURL: "https://conda.internal/micromamba",
			MicromambaSHA256: testSHA, Layout: Layout{PythonSource: PythonSourceUV}}, []string{
			`micromamba_url: set, but only python_source = "micromamba" installs micromamba; remove it`,
			`channel_alias: set, but python_source = "uv" installs no conda package; remove channel_alias, or set python_source = "micromamba"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.Runtime, o.AgentServerVersion = RuntimeAgentServer, "1.58.2"
			withVSCodeServerSHA256(&o)
			if got, want := errorsText(o.Prepare()), strings.Join(tc.want, "\n"); got != want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
		})
	}
	t.Run("the action server", func(t *testing.T) {
		o := Options{SourceDir: fixture.SourceDir(t), VSCodeServerSHA256: testSHA, Layout: Layout{PythonSource: PythonSourceUV}}
		errs := o.Prepare()
		if len(errs) == 0 || !strings.Contains(errs[0].Error(), `python_source: set, but runtime is "action-server"`) {
			t.Errorf("errors %q", errs)
		}
	})
}

// TestUVPythonVenvCheck runs the self-contained venv check of uv's Python on a venv linked
// into uv's install directory and on one linked to the base's python3.
func TestUVPythonVenvCheck(t *testing.T) {
	p := agentServerPlan(t, Options{Layout: Layout{PythonSource: PythonSourceUV}})
	check := p.Checks[slices.IndexFunc(p.Checks, func(c Check) bool { return c.Name == "self-contained venv" })]
	root := t.TempDir()
	installs := filepath.Join(root, "python")
	for _, f := range []string{"python/cpython-3.13.5-linux-x86_64-gnu/bin/python3.13", "usr/bin/python3.13"} {
		fixture.WriteFile(t, root, f, "#!/bin/sh\n", 0o755)
	}
	// uv links the minor version's directory to the patch release's, and the venv to that.
	if err := os.Symlink(filepath.Join(installs, "cpython-3.13.5-linux-x86_64-gnu"), filepath.Join(installs, "cpython-3.13-linux-x86_64-gnu")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, target string
		ok           bool
	}{
		{"on uv's Python", "python/cpython-3.13-linux-x86_64-gnu/bin/python3.13", true},
		{"on the base's python", "usr/bin/python3.13", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runVenvCheck(t, check, filepath.Join(root, tc.target), "OH_UV_PYTHON="+installs)
			if (err == nil) != tc.ok {
				t.Errorf("check passed %v, want %v: %s", err == nil, tc.ok, out)
			}
			if !tc.ok && !strings.Contains(string(out), "not a Python uv installed in "+installs) {
				t.Errorf("the failure does not say where uv's Python is: %s", out)
			}
		})
	}
}

// runVenvCheck runs the self-contained venv check on a venv whose python links to target,
// with env.
func runVenvCheck(t *testing.T, check Check, target string, env ...string) ([]byte, error) {
	t.Helper()
	venv := filepath.Join(t.TempDir(), "bin", "python")
	if err := os.MkdirAll(filepath.Dir(venv), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, venv); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", check.Shell)
	cmd.Env = append(append(os.Environ(), "OH_AGENT_PY="+venv), env...)
	return cmd.CombinedOutput()
}
