package plan

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLaunchEnv(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want []string
	}{
		{
			name: "defaults",
			want: []string{
				"LANG=C.UTF-8", "LC_ALL=C.UTF-8", "EDITOR=code", "VISUAL=code", "GIT_EDITOR=code --wait",
				"OPENVSCODE_SERVER_ROOT=/openhands/.openvscode-server", "POETRY_VIRTUALENVS_PATH=/openhands/poetry",
				"MAMBA_ROOT_PREFIX=/openhands/micromamba", "OH_INTERPRETER_PATH=/openhands/micromamba/envs/openhands/bin/python",
				"PLAYWRIGHT_BROWSERS_PATH=/opt/playwright-browsers", "PATH=/openhands/bin:/openhands/micromamba/bin",
			},
		},
		{
			name: "other prefix and env, no browser",
			o:    Options{Layout: Layout{Prefix: "/opt/oh", EnvName: "agent", InstallBrowser: boolPtr(false)}},
			want: []string{
				"LANG=C.UTF-8", "LC_ALL=C.UTF-8", "EDITOR=code", "VISUAL=code", "GIT_EDITOR=code --wait",
				"OPENVSCODE_SERVER_ROOT=/opt/oh/.openvscode-server", "POETRY_VIRTUALENVS_PATH=/opt/oh/poetry",
				"MAMBA_ROOT_PREFIX=/opt/oh/micromamba", "OH_INTERPRETER_PATH=/opt/oh/micromamba/envs/agent/bin/python",
				"PATH=/opt/oh/bin:/opt/oh/micromamba/bin",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			o.SetDefaults()
			var got []string
			for _, v := range LaunchEnv(o) {
				got = append(got, v.Name+"="+v.Value)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("LaunchEnv =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestLaunchEnvRenderings checks that the image config, the docker changes, /etc/environment
// and the rc files say the same thing: PATH is put in front of what is there, never replaces it.
func TestLaunchEnvRenderings(t *testing.T) {
	var o Options
	o.SetDefaults()
	changes := DockerChanges(o)
	if changes[len(changes)-1] != "WORKDIR /openhands/code" {
		t.Errorf("the changes end with %q, want the code directory as working directory", changes[len(changes)-1])
	}
	if !slices.Contains(changes, `ENV GIT_EDITOR="code --wait"`) {
		t.Errorf("a value with a space is not quoted for Docker: %q", changes)
	}
	if !slices.Contains(changes, "ENV PATH=/openhands/bin:/openhands/micromamba/bin:${PATH:-"+systemPath+"}") {
		t.Errorf("PATH does not extend the image's own: %q", changes)
	}
	p := New(o, Inputs{})
	dockerfile := p.Dockerfile("debian:bookworm", "test")
	if !strings.Contains(dockerfile, "\nENV "+strings.Join(dockerPairs(o), " ")+"\n") {
		t.Errorf("the Dockerfile lacks the launch environment:\n%s", dockerfile)
	}

	// /etc/environment and the rc files, written by the environment step in a scratch root.
	env := environmentStep(o, Inputs{})
	script := strings.NewReplacer("/etc/environment", "$ROOT/etc/environment", `"/home/$OH_USER/.bashrc"`, `"$ROOT/home/.bashrc"`,
		"/root/.bashrc", "$ROOT/root/.bashrc", "oh_as_user ", "true ", `chown -h "$OH_USER:$OH_USER" `, "true ", `chown "$OH_USER:$OH_USER" `, "true ").Replace(env.Commands[0].Shell)
	root := t.TempDir()
	for _, dir := range []string{"etc", "home", "root", "env/bin"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	harness := libShell + "\nset -euo pipefail\n" + script + `
env -i ROOT="$ROOT" bash -c 'set -a; . "$ROOT/etc/environment"; echo "$PATH|$GIT_EDITOR|$MAMBA_ROOT_PREFIX"'
env -i ROOT="$ROOT" PATH=/usr/bin:/bin bash -c '. "$ROOT/home/.bashrc" 2>/dev/null; echo "$PATH|$GIT_EDITOR"'
`
	cmd := exec.Command("bash", "-c", harness)
	cmd.Env = append(os.Environ(), "ROOT="+root, "OH_BASHRC="+filepath.Join(root, "etc", "bash.bashrc"),
		"OH_ENV_BIN="+filepath.Join(root, "env", "bin"), "OH_USER=nobody", "OH_MM=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := "/openhands/bin:/openhands/micromamba/bin:" + systemPath + "|code --wait|/openhands/micromamba\n" +
		"/openhands/bin:/openhands/micromamba/bin:/usr/bin:/bin|code --wait\n"
	if !strings.HasSuffix(string(out), want) {
		t.Errorf("sessions see\n%s\nwant the output to end with\n%s", out, want)
	}
}

// TestPoetryShim runs the shim the environment step installs: `poetry run CMD` runs CMD from
// the environment's bin directory without starting Poetry; anything else reaches the real
// Poetry (python -m poetry), which here fails as it does on an Amazon Linux 2023 host.
func TestPoetryShim(t *testing.T) {
	bin := t.TempDir()
	log := filepath.Join(t.TempDir(), "python-calls")
	files := map[string]string{
		"poetry": poetryShim,
		// The env's python: records how it was called, and is the real Poetry's entry point.
		"python": "#!/bin/sh\necho \"$*\" >>" + log + "\nif [ \"$1 $2\" = \"-m poetry\" ]; then echo 'Could not parse version constraint: 6.1.159-182.297.amzn2023.x86_64' >&2; exit 1; fi\necho python-ran \"$@\"\n",
		"tool":   "#!/bin/sh\necho tool-ran \"$@\"\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		pythonIs string // what the python stand-in recorded
	}{
		{"run python", []string{"run", "python", "-u", "-m", "server", "--help"}, 0, "python-ran -u -m server --help\n", "-u -m server --help\n"},
		{"run a tool of the environment", []string{"run", "tool", "a b"}, 0, "tool-ran a b\n", ""},
		{"run with --", []string{"run", "--", "tool"}, 0, "tool-ran\n", ""},
		{"run without a command", []string{"run"}, 1, "poetry run: no command given\n", ""},
		{"other subcommands reach Poetry", []string{"--version"}, 1, "Could not parse version constraint: 6.1.159-182.297.amzn2023.x86_64\n", "-m poetry --version\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(log)
			cmd := exec.Command(filepath.Join(bin, "poetry"), tt.args...)
			cmd.Env = []string{"PATH=/usr/bin:/bin"} // the env's bin is not on PATH: the shim adds it
			out, err := cmd.CombinedOutput()
			code := 0
			if err != nil {
				code = cmd.ProcessState.ExitCode()
			}
			if code != tt.wantCode || string(out) != tt.wantOut {
				t.Errorf("poetry %q: exit %d, output %q; want %d, %q", tt.args, code, out, tt.wantCode, tt.wantOut)
			}
			calls, _ := os.ReadFile(log)
			if string(calls) != tt.pythonIs {
				t.Errorf("python was called with %q, want %q", calls, tt.pythonIs)
			}
		})
	}
}
