package plan

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
	"github.com/openhands-runtime/packer-plugin-openhands/plan/projectfile"
)

func agentServerPlan(t *testing.T, o Options) *Plan {
	t.Helper()
	o.Runtime = RuntimeAgentServer
	if o.AgentServerVersion == "" {
		o.AgentServerVersion = "1.58.2"
	}
	withVSCodeServerSHA256(&o)
	if errs := o.Prepare(); len(errs) != 0 {
		t.Fatalf("Prepare: %v", errs)
	}
	return New(o, Inputs{})
}

// TestAgentServerSteps: the runtime's row decides the steps; nothing of the checkout's install
// (code, lock, dependencies, browser) is in the plan, and the tools come where the row puts them.
func TestAgentServerSteps(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want []StepID
	}{
		{"defaults", Options{}, []StepID{"preflight", "system-packages", "uv", "user", "directories", "micromamba", "python-env",
			"vscode-server", "tini", "agent-server", "environment", "service", "cleanup", "verify"}},
		{"no vscode, no packages, no verify", Options{SystemPackages: boolPtr(false), SkipVerify: true, Layout: Layout{InstallVSCodeServer: boolPtr(false)}},
			[]StepID{"preflight", "uv", "user", "directories", "micromamba", "python-env", "tini", "agent-server", "environment", "service", "cleanup"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := agentServerPlan(t, tc.o).StepNames(); !slices.Equal(got, tc.want) {
				t.Errorf("steps %v, want %v", got, tc.want)
			}
		})
	}
}

// TestAgentServerImageConfig: the builder's Dockerfile and the docker builder's changes give
// the same image config, upstream's contract: the runtime user, WORKDIR /, ports 8000 and
// 8001, and tini in front of the venv's server.
func TestAgentServerImageConfig(t *testing.T) {
	p := agentServerPlan(t, Options{Layout: Layout{Prefix: "/srv/oh", User: "agent"}})
	dockerfile := p.Dockerfile("ubuntu:24.04", "test")
	lines := strings.Split(strings.TrimSuffix(dockerfile, "\n"), "\n")
	want := []string{"USER agent", "WORKDIR /", "EXPOSE 8000 8001",
		`ENTRYPOINT ["tini", "--", "/srv/oh/agent-server/bin/python", "-m", "openhands.agent_server"]`, "CMD []"}
	if got := lines[len(lines)-len(want):]; !slices.Equal(got, want) {
		t.Errorf("the Dockerfile ends with %q, want %q", got, want)
	}
	env := lines[len(lines)-len(want)-1]
	for _, kv := range []string{"LANG=C.UTF-8", "LC_ALL=C.UTF-8", "LOG_JSON=true", "OH_ENABLE_VNC=false",
		"OPENVSCODE_SERVER_ROOT=/srv/oh/.openvscode-server", "PATH=/srv/oh/agent-server/bin:/srv/oh/bin:${PATH:-"} {
		if !strings.Contains(env, kv) {
			t.Errorf("the ENV line lacks %s: %s", kv, env)
		}
	}
	// Every RUN comes before the image's USER: the plan runs as root.
	lastRun := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "RUN ") {
			lastRun = i
		}
	}
	if user := slices.Index(lines, "USER agent"); user < lastRun {
		t.Errorf("a RUN follows USER agent:\n%s", dockerfile)
	}
	if strings.Contains(dockerfile, "openhands-plan/code/") || strings.Contains(dockerfile, "openhands-plan/deps/") {
		t.Errorf("the Dockerfile copies a checkout:\n%s", dockerfile)
	}
	changes := DockerChanges(p.Options)
	if got := changes[len(changes)-len(want):]; !slices.Equal(got, want) {
		t.Errorf("DockerChanges ends with %q, want the Dockerfile's %q", got, want)
	}
	if !slices.Contains(changes, "ENV LOG_JSON=true") {
		t.Errorf("DockerChanges lacks the launch environment: %q", changes)
	}
}

// TestAgentServerUnit: the unit an AMI serves the agent-server with runs the venv's server as
// the runtime user on agent_server_port, reads the operator's root-only file after the launch
// environment, restarts on failure and is wanted by multi-user.target.
func TestAgentServerUnit(t *testing.T) {
	port := 9000
	p := agentServerPlan(t, Options{Layout: Layout{Prefix: "/srv/oh", User: "agent", AgentServerPort: &port}})
	unit := agentServerUnit(p.Options)
	for _, want := range []string{
		"\nUser=agent\n", "\nGroup=agent\n",
		"\nEnvironment=\"LOG_JSON=true\"\n",
		"\nEnvironment=\"PATH=/srv/oh/agent-server/bin:/srv/oh/bin:/usr/local/sbin:",
		"\nEnvironmentFile=-/etc/openhands/agent-server.env\n",
		"\nExecStart=/srv/oh/agent-server/bin/python -m openhands.agent_server --host 0.0.0.0 --port 9000\n",
		"\nRestart=on-failure\n", "\nWantedBy=multi-user.target\n",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("the unit lacks %q:\n%s", want, unit)
		}
	}
	// The environment file comes after the launch environment, so an operator's value wins.
	if strings.Index(unit, "EnvironmentFile=") < strings.LastIndex(unit, "Environment=") {
		t.Errorf("EnvironmentFile comes before an Environment line:\n%s", unit)
	}
	if got := systemdQuote(`a "b" 100% \x`); got != `"a \"b\" 100%% \\x"` {
		t.Errorf("systemdQuote = %s", got)
	}
	errs := (&Options{Layout: Layout{Runtime: RuntimeAgentServer, AgentServerVersion: "1.58.2", AgentServerPort: intPtr(70000)}}).Prepare()
	if len(errs) == 0 || !strings.Contains(fmt.Sprint(errs), "agent_server_port: 70000 is not a TCP port") {
		t.Errorf("Prepare: %v, want agent_server_port refused", errs)
	}
}

// TestSelfContainedVenvCheck runs the check's shell on venvs made of links: a venv on the
// micromamba environment's interpreter passes, one on another python3 (the base image's, the
// mistake of OpenHands/benchmarks#612) fails naming both.
func TestSelfContainedVenvCheck(t *testing.T) {
	var check Check
	for _, c := range agentServerPlan(t, Options{}).Checks {
		if c.Name == "self-contained venv" {
			check = c
		}
	}
	if check.Shell == "" {
		t.Fatal("no self-contained venv check")
	}
	dir := t.TempDir()
	for _, f := range []string{"env/bin/python3.13", "base/bin/python3.13"} {
		fixture.WriteFile(t, dir, f, "#!/bin/sh\n", 0o755)
	}
	for _, tc := range []struct {
		name, target string
		ok           bool
	}{
		{"on the environment's python", "env/bin/python3.13", true},
		{"on the base's python", "base/bin/python3.13", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runVenvCheck(t, check, filepath.Join(dir, tc.target), "OH_ENV_PY="+filepath.Join(dir, "env/bin/python3.13"))
			if (err == nil) != tc.ok {
				t.Errorf("check passed %v, want %v: %s", err == nil, tc.ok, out)
			}
			if !tc.ok && !strings.Contains(string(out), "base/bin/python3.13, not the micromamba environment's") {
				t.Errorf("the failure does not name both interpreters: %s", out)
			}
		})
	}
}

// TestTiniStep: a base with tini on its PATH (Debian's, Ubuntu's package) gets nothing from the
// tini step; one without (Amazon Linux 2023) gets the pinned static release, checked by its sum.
func TestTiniStep(t *testing.T) {
	p := agentServerPlan(t, Options{})
	i := slices.Index(p.StepNames(), "tini")
	if i < 0 {
		t.Fatal("the agent-server plan has no tini step")
	}
	s := p.Steps[i]
	run := s.Commands[0].Shell
	if !strings.HasPrefix(run, "if command -v tini >/dev/null 2>&1; then") || !strings.Contains(run, `oh_install_binary tini "" "$OH_TINI_URL" "$OH_TINI_SHA256" "$OH_TINI"`) {
		t.Errorf("the tini step does not skip an installed tini or install the pinned one:\n%s", run)
	}
	if !strings.HasPrefix(s.Check, "command -v tini >/dev/null 2>&1 || ") {
		t.Errorf("the tini step's check %q does not count an installed tini", s.Check)
	}
	for arch, d := range toolTini.Pinned {
		if !projectfile.SHA256Pattern.MatchString(d.SHA256) || !strings.HasPrefix(d.URL, "https://github.com/krallin/tini/releases/download/v0.19.0/tini-static-") {
			t.Errorf("%s: pinned %+v", arch, d)
		}
	}
}

// TestAgentServerCompileBytecode: the venv is byte-compiled unless the option says not to, in
// both installs; a change of the option is a new input of the install step; the action server
// refuses the option.
func TestAgentServerCompileBytecode(t *testing.T) {
	for _, tc := range []struct {
		name    string
		o       Options
		compile bool
	}{
		{"release", Options{}, true},
		{"release, not compiled", Options{AgentServerCompileBytecode: boolPtr(false)}, false},
		{"checkout", Options{SourceDir: sdkCheckout, Layout: Layout{AgentServerVersion: "1.58.2"}}, true},
		{"checkout, not compiled", Options{SourceDir: sdkCheckout, AgentServerCompileBytecode: boolPtr(false), Layout: Layout{AgentServerVersion: "1.58.2"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := agentServerPlan(t, tc.o)
			for _, s := range p.Steps {
				if s.Name != "agent-server" && s.Name != "checkout-packages" {
					continue
				}
				if got := strings.Contains(s.Commands[0].Shell, "--compile-bytecode"); got != tc.compile {
					t.Errorf("step %s compiles %t, want %t", s.Name, got, tc.compile)
				}
			}
		})
	}
	stamp := func(o Options) string {
		return agentServerPlan(t, o).Steps[slices.Index(agentServerPlan(t, o).StepNames(), "agent-server")].Stamp
	}
	if stamp(Options{}) == stamp(Options{AgentServerCompileBytecode: boolPtr(false)}) {
		t.Error("agent_server_compile_bytecode is not an input of the agent-server step")
	}
	o := Options{SourceDir: fixture.SourceDir(t), AgentServerCompileBytecode: boolPtr(true)}
	withVSCodeServerSHA256(&o)
	if errs := fmt.Sprint(o.Prepare()); !strings.Contains(errs, `agent_server_compile_bytecode: set, but runtime is "action-server"`) {
		t.Errorf("Prepare: %s, want agent_server_compile_bytecode refused", errs)
	}
}

// TestNodeJS: install_nodejs puts Node.js 22 before the agent-server's own steps, on the
// launch PATH and in the checks; its files are checked like any tool's, and the action server,
// whose environment has conda's Node.js, refuses the option.
func TestNodeJS(t *testing.T) {
	dir := t.TempDir()
	nodeX64 := tarGzFile(t, dir, "node-v22.14.0-linux-x64.tar.gz",
		[2]string{"node-v22.14.0-linux-x64/bin/node", string(fixture.ELFHeader(t, elf.EM_X86_64))})
	nodeArm := tarGzFile(t, dir, "node-v22.14.0-linux-arm64.tar.gz",
		[2]string{"node-v22.14.0-linux-arm64/bin/node", string(fixture.ELFHeader(t, elf.EM_AARCH64))})
	noNode := tarGzFile(t, dir, "node-headers.tar.gz", [2]string{"node-v22.14.0/include/node/node.h", ""})
	both := []string{"linux/amd64", "linux/arm64"}
	for _, tc := range []struct {
		name    string
		o       Options
		targets []string
		want    []string // each error, whole; none: valid
	}{
		{"installed from the pinned release", Options{Layout: Layout{InstallNodeJS: boolPtr(true)}}, nil, nil},
		{"supplied per platform", Options{Layout: Layout{InstallNodeJS: boolPtr(true)},
			NodeJSPathByPlatform: map[string]string{"linux/amd64": nodeX64, "linux/arm64": nodeArm}}, both, nil},
		{"an x86_64 tarball for both platforms", Options{Layout: Layout{InstallNodeJS: boolPtr(true)}, NodeJSPath: nodeX64}, both,
			[]string{`nodejs_path: "` + nodeX64 + `" is an x86_64 executable, but linux/arm64 is built; give nodejs_path_by_platform["linux/arm64"] an aarch64 one`}},
		{"a tarball without bin/node", Options{Layout: Layout{InstallNodeJS: boolPtr(true)}, NodeJSPath: noNode}, nil,
			[]string{`nodejs_path: "` + noNode + `" holds no bin/node: supply node-v22.14.0-linux-arm64.tar.gz or node-v22.14.0-linux-x64.tar.gz as published`}},
		{"a URL without install_nodejs", Options{NodeJSURL: "https://mirror.example/node.tar.gz", NodeJSSHA256: testSHA}, nil,
			[]string{"nodejs_url: set, but install_nodejs = false leaves nodejs out; remove one of them"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.Runtime, o.AgentServerVersion = RuntimeAgentServer, "1.58.2"
			withVSCodeServerSHA256(&o)
			if tc.targets != nil {
				o.SetTargets(tc.targets)
			}
			if got, want := errorsText(o.Prepare()), strings.Join(tc.want, "\n"); got != want {
				t.Fatalf("errors:\n%s\nwant:\n%s", got, want)
			}
			if tc.want != nil {
				return
			}
			p := New(o, Inputs{})
			if names := p.StepNames(); slices.Index(names, "nodejs") != slices.Index(names, "agent-server")-1 {
				t.Errorf("steps %v: nodejs is not right before agent-server", names)
			}
			path := LaunchEnv(o)[len(LaunchEnv(o))-1]
			if want := "/openhands/agent-server/bin:/openhands/nodejs/bin:/openhands/bin"; path.Value != want {
				t.Errorf("launch PATH %q, want %q", path.Value, want)
			}
			if !slices.ContainsFunc(p.Checks, func(c Check) bool { return c.Name == "node.js" }) {
				t.Error("no node.js check")
			}
		})
	}
	t.Run("not installed by default", func(t *testing.T) {
		p := agentServerPlan(t, Options{})
		if slices.Contains(p.StepNames(), "nodejs") || slices.ContainsFunc(p.Checks, func(c Check) bool { return c.Name == "node.js" }) {
			t.Error("Node.js is installed or checked without install_nodejs")
		}
		if path := LaunchEnv(p.Options)[len(LaunchEnv(p.Options))-1].Value; strings.Contains(path, "nodejs") {
			t.Errorf("launch PATH %q names Node.js", path)
		}
	})
	t.Run("refused by the action server", func(t *testing.T) {
		o := Options{SourceDir: fixture.SourceDir(t), VSCodeServerSHA256: testSHA, Layout: Layout{InstallNodeJS: boolPtr(true)}}
		errs := o.Prepare()
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), `install_nodejs: set, but runtime is "action-server"`) {
			t.Errorf("errors %q", errs)
		}
	})
}

// TestNodeJSCheck runs the node.js check on trees of stand-in node and npm scripts: Node.js
// 22 with a working npm passes; another major, or an npm that does not run, fails.
func TestNodeJSCheck(t *testing.T) {
	o := Options{Layout: Layout{InstallNodeJS: boolPtr(true)}}
	i := slices.IndexFunc(agentServerPlan(t, o).Checks, func(c Check) bool { return c.Name == "node.js" })
	if i < 0 {
		t.Fatal("no node.js check")
	}
	check := agentServerPlan(t, o).Checks[i]
	for _, tc := range []struct {
		name, node, npm string
		ok              bool
		out             string
	}{
		{"node 22", "echo v22.14.0", "echo 10.9.2", true, "node v22.14.0, npm 10.9.2"},
		{"node 20", "echo v20.18.1", "echo 10.8.2", false, "not Node.js 22"},
		{"npm broken", "echo v22.14.0", "exit 1", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			fixture.WriteFile(t, root, "bin/node", "#!/bin/sh\n"+tc.node+"\n", 0o755)
			fixture.WriteFile(t, root, "bin/npm", "#!/bin/sh\n"+tc.npm+"\n", 0o755)
			fixture.WriteFile(t, root, "bin/npx", "#!/bin/sh\n"+tc.npm+"\n", 0o755)
			cmd := exec.Command("bash", "-c", check.Shell)
			cmd.Env = append(os.Environ(), "OH_NODEJS="+root)
			out, err := cmd.CombinedOutput()
			if (err == nil) != tc.ok || !strings.Contains(string(out), tc.out) {
				t.Errorf("passed %v, want %v; output %q, want %q in it", err == nil, tc.ok, out, tc.out)
			}
		})
	}
}
