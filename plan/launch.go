package plan

import (
	"fmt"
	"strings"
)

// LaunchVar is one variable of the environment OpenHands starts its runtime with.
type LaunchVar struct {
	Name  string
	Value string
}

// systemPath is the PATH a container or login session has before the runtime's directories
// are put in front: /etc/environment cannot expand $PATH, so it gets this in full.
const systemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// LaunchEnv is the environment of the runtime as OpenHands launches it, the one definition that
// every rendering reads: the builder's image config, the `changes` of a docker builder +
// provisioner template, /etc/environment and the rc files on machines, and the launch check.
// PATH is the last entry and holds only what goes in front of the image's or system's own
// PATH: it is prepended, never replaced.
func LaunchEnv(o Options) []LaunchVar { return runtimeOf(o.Layout).launchEnv(o) }

// actionServerLaunchEnv holds the variables upstream's template set with ENV.
func actionServerLaunchEnv(o Options) []LaunchVar {
	env := []LaunchVar{
		{"LANG", "C.UTF-8"},
		{"LC_ALL", "C.UTF-8"},
		// `code` is openvscode-server's remote CLI, present in its terminals.
		{"EDITOR", "code"},
		{"VISUAL", "code"},
		{"GIT_EDITOR", "code --wait"},
		{"OPENVSCODE_SERVER_ROOT", o.Prefix + "/" + vscodeServerDir},
		{"POETRY_VIRTUALENVS_PATH", o.Prefix + "/poetry"},
		// `micromamba run -n ENV` without a shell finds ENV only through this.
		{"MAMBA_ROOT_PREFIX", o.mambaRoot()},
		{"OH_INTERPRETER_PATH", o.mambaRoot() + "/envs/" + o.EnvName + "/bin/python"},
	}
	if *o.InstallBrowser {
		env = append(env, LaunchVar{"PLAYWRIGHT_BROWSERS_PATH", o.PlaywrightBrowsersPath})
	}
	return append(env, LaunchVar{"PATH", o.Prefix + "/bin:" + o.mambaRoot() + "/bin"})
}

// mambaRoot is micromamba's root below the prefix: its executable and the environments. The
// script reaches it as $MAMBA_ROOT_PREFIX.
func (l Layout) mambaRoot() string { return l.Prefix + "/micromamba" }

// CodeDir is the code directory below the prefix: the checkout the runtime installs and runs
// from, $OH_CODE in the script and the image's WORKDIR.
const CodeDir = "code"

// codeDir is the layout's code directory, <prefix>/code.
func (l Layout) codeDir() string { return l.Prefix + "/" + CodeDir }

// vscodeServerDir is openvscode-server's directory below the prefix: OpenHands' vscode plugin
// runs <prefix>/.openvscode-server/bin/openvscode-server.
const vscodeServerDir = ".openvscode-server"

// dockerEscaper escapes a Dockerfile double-quoted string.
var dockerEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// dockerValue quotes a value for a Dockerfile ENV instruction when it needs quotes.
func dockerValue(v string) string {
	if strings.ContainsAny(v, " \t\"'\\") {
		return `"` + dockerEscaper.Replace(v) + `"`
	}
	return v
}

// dockerPairs renders the launch environment as Dockerfile KEY=value words, PATH in front of
// the image's own (expanded at build or commit time), or of the system PATH for an image whose
// config has none (docker import), which would otherwise lose Docker's default PATH.
func dockerPairs(o Options) []string {
	var out []string
	for _, v := range LaunchEnv(o) {
		value := dockerValue(v.Value)
		if v.Name == "PATH" {
			value = v.Value + ":${PATH:-" + systemPath + "}"
		}
		out = append(out, v.Name+"="+value)
	}
	return out
}

// DockerChanges are the image-config changes that give an image committed by the docker
// builder the launch environment and working directory of the builder's images: the list the
// docs tell a docker builder + provisioner template to set as `changes`.
func DockerChanges(o Options) []string {
	var out []string
	for _, kv := range dockerPairs(o) {
		out = append(out, "ENV "+kv)
	}
	return append(out, runtimeOf(o.Layout).image(o)...)
}

// completeLaunchEnv is the launch environment with PATH complete (the system PATH behind the
// runtime's directories): what /etc/environment holds and what the launch check runs with.
func completeLaunchEnv(o Options) []LaunchVar {
	env := LaunchEnv(o)
	for i := range env {
		if env[i].Name == "PATH" {
			env[i].Value += ":" + systemPath
		}
	}
	return env
}

// launchAssignments renders completeLaunchEnv as KEY=value shell words.
func launchAssignments(o Options) []string {
	var out []string
	for _, v := range completeLaunchEnv(o) {
		out = append(out, shellQuote(v.Name+"="+v.Value))
	}
	return out
}

// rcExports renders the launch environment as export lines for bash rc files, PATH put in
// front of the session's own.
func rcExports(o Options) string {
	var b strings.Builder
	for _, v := range LaunchEnv(o) {
		if v.Name == "PATH" {
			fmt.Fprintf(&b, "export PATH=%s:\"$PATH\"\n", shellQuote(v.Value))
			continue
		}
		fmt.Fprintf(&b, "export %s=%s\n", v.Name, shellQuote(v.Value))
	}
	return b.String()
}

// poetryShim replaces the environment's `poetry` command. OpenHands' launcher runs
// `micromamba run -n ENV poetry run python ...`, and Poetry fails on hosts whose kernel release
// it cannot parse (Amazon Linux 2023: a container sees the host's kernel). `poetry run CMD`
// only runs CMD in the active environment, so the shim does exactly that without starting
// Poetry; every other subcommand goes to the real Poetry through its module.
const poetryShim = `#!/bin/sh
# poetry, as installed by packer-plugin-openhands: "poetry run CMD..." runs CMD in this
# environment without starting Poetry (which cannot parse some kernel releases, such as
# Amazon Linux 2023's); any other subcommand runs the real Poetry.
bin=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" = run ]; then
	shift
	[ "${1:-}" != -- ] || shift
	[ "$#" -gt 0 ] || { echo "poetry run: no command given" >&2; exit 1; }
	PATH="$bin:$PATH"
	export PATH
	exec "$@"
fi
exec "$bin/python" -m poetry "$@"
`

// poetryShimMarker identifies the shim in the environment step's check.
const poetryShimMarker = "# poetry, as installed by packer-plugin-openhands"
