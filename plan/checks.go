package plan

import (
	"embed"
	"fmt"
	"regexp"
	"strings"
)

// checkFiles hold the checks' code, as files shellcheck (TestStepShellFiles) and Python
// (TestCheckPythonFiles) read; what the options decide is a placeholder (fill).
//
//go:embed checks/*.py checks/*.sh
var checkFiles embed.FS

// checkFile is checks/<name> with its placeholders filled from values (fill).
func checkFile(name string, values map[string]string) string {
	return fill(checkFiles, "checks/"+name, values)
}

// Check is one verification of a finished runtime. Its shell code prints what it found; its
// status is that of its last command (errexit does not apply inside), 0 when the runtime passes.
// A check written in Python instead runs in the runtime's interpreter, in one process with the
// other Python checks: each separate process would pay the interpreter's start and the
// imports they share again.
type Check struct {
	Name string
	// Root runs Shell as root; other shell checks and every Python check run as the runtime
	// user.
	Root  bool
	Shell string
	// Python is the body of a function that returns what it found, and raises when the
	// runtime fails the check (CheckFailed for a plain message).
	Python string
}

// Checks lists the verification checks for the options, in report order.
func Checks(o Options) []Check { return runtimeOf(o.Layout).checks(o) }

// importChecks are the modules the options name, the first checks of every runtime.
func importChecks(o Options) []Check {
	var out []Check
	for _, m := range o.Verify.Imports {
		out = append(out, Check{
			Name:   "import " + m,
			Python: fmt.Sprintf("m = importlib.import_module(%q)\nreturn getattr(m, \"__version__\", \"imported\")", m),
		})
	}
	return out
}

// commandChecks are the user's verify commands.
func commandChecks(o Options) []Check {
	var out []Check
	for i, c := range o.Verify.Commands {
		// One line, so that the script's indentation cannot reach into the command: a
		// here-document in it keeps its lines and its terminator as written.
		out = append(out, Check{Name: fmt.Sprintf("command %d", i+1), Shell: "eval " + ansiCQuote(c)})
	}
	return out
}

// packageCountCheck counts what `uv pip list` counts: the distributions the runtime's
// interpreter sees.
func packageCountCheck(o Options) Check {
	return Check{
		Name:   "package count",
		Python: checkFile("package-count.py", map[string]string{"MIN_PACKAGES": fmt.Sprint(*o.Verify.MinPackages)}),
	}
}

// micromambaOwnershipCheck: the environment must be the runtime user's, who installs into it.
var micromambaOwnershipCheck = Check{
	Name: "micromamba ownership",
	Root: true,
	Shell: ownedByUser(`"$MAMBA_ROOT_PREFIX"`) + `
echo "$MAMBA_ROOT_PREFIX owned by $OH_USER"`,
}

func actionServerChecks(o Options) []Check {
	out := importChecks(o)
	out = append(out,
		Check{
			Name:   "editable install",
			Python: checkFile("editable-install.py", nil),
		},
		packageCountCheck(o),
		micromambaOwnershipCheck,
		Check{
			Name:  "interpreter path",
			Root:  true,
			Shell: checkFile("interpreter-path.sh", nil),
		},
	)
	if o.lockInUse() {
		out = append(out, Check{Name: "locked versions", Python: lockedVersionsCheck})
	}
	if *o.InstallBrowser {
		out = append(out, Check{
			Name:  "chromium",
			Root:  true,
			Shell: checkFile("chromium.sh", nil),
		})
	}
	if *o.Verify.Launch {
		out = append(out, launchChecks(o)...)
	}
	if *o.Verify.StartServer {
		out = append(out, startServerCheck(o))
	}
	return append(out, commandChecks(o)...)
}

// ownedByUser is shell code that fails naming the first file under dir (a quoted shell word)
// that the runtime user does not own.
func ownedByUser(dir string) string {
	return `stray=$(find ` + dir + ` ! -user "$OH_USER" -print -quit 2>&1)
if [ -n "$stray" ]; then echo "not owned by $OH_USER: $stray"; exit 1; fi`
}

// launcherCommand is the command prefix OpenHands' DockerRuntime starts the runtime with
// (DEFAULT_PYTHON_PREFIX of openhands/runtime/utils/command.py, then the server module).
func launcherCommand(o Options) string {
	return shellQuote(o.mambaRoot()+"/bin/micromamba") + " run -n " + shellQuote(o.EnvName) +
		" poetry run python -u -m openhands.runtime.action_execution_server"
}

// launchEnvCommand runs its arguments the way DockerRuntime starts a container (from the code
// directory): no shell around the command and only the launch environment, with the HOME
// Docker gives root.
func launchEnvCommand(o Options) string {
	return `env -i HOME=/root ` + strings.Join(launchAssignments(o), " ")
}

// launchChecks prove the runtime starts as OpenHands launches it.
func launchChecks(o Options) []Check {
	checks := []Check{
		{
			Name: "launcher",
			Root: true,
			// --help imports the whole server before it parses the arguments.
			Shell: checkFile("launcher.sh", map[string]string{"LAUNCH_ENV": launchEnvCommand(o), "LAUNCHER": launcherCommand(o)}),
		},
		{
			Name:   "jupyter kernel gateway",
			Python: checkFile("jupyter-kernel-gateway.py", nil),
		},
	}
	return append(checks, runtimeToolChecks(o)...)
}

// runtimeToolChecks prove the tools an agent uses at run time work for the runtime user.
func runtimeToolChecks(o Options) []Check {
	var checks []Check
	if toolVSCodeServer.Enabled(o) {
		checks = append(checks, Check{
			Name: "openvscode-server",
			Shell: ownedByUser(`"$OH_VSCODE_SERVER"`) + `
version=$("$OH_VSCODE_SERVER/bin/openvscode-server" --version 2>&1) || { printf '%s\n' "$version"; exit 1; }
echo "openvscode-server $(printf '%s\n' "$version" | head -n 1), owned by $OH_USER"`,
		})
	}
	if toolNodeJS.Enabled(o) {
		// Any release of the pinned one's major line: a nodejs_url or nodejs_path may give another.
		// npm and npx are scripts that run the node on the PATH: the launch PATH's.
		major, _, _ := strings.Cut(NodeJSVersion, ".")
		checks = append(checks, Check{
			Name:  "node.js",
			Shell: checkFile("node-js.sh", map[string]string{"NODE_MAJOR": major}),
		})
	}
	sudo := `echo "tmux, git"`
	if *o.PasswordlessSudo {
		sudo = `sudo -n true && echo "tmux, git, sudo -n"`
	}
	return append(checks, Check{
		Name:  "runtime user tools",
		Shell: "tmux -V >/dev/null && git --version >/dev/null && " + sudo,
	})
}

// startServerCheck starts the action execution server with its plugins, launched as
// DockerRuntime does, on a free loopback port and waits for GET /alive to answer 200.
func startServerCheck(o Options) Check {
	plugins := "agent_skills jupyter"
	if toolVSCodeServer.Enabled(o) {
		plugins += " vscode"
	}
	return Check{
		Name: "server alive",
		Root: true,
		Shell: fmt.Sprintf(`free_port() { "$OH_ENV_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port) && vscode_port=$(free_port) && cd "$OH_CODE" || exit 1
work=$(mktemp -d) log=$(mktemp)
chown "$OH_USER:$OH_USER" "$work"
# A session of its own, so the server and the plugins it starts stop together.
setsid %s VSCODE_PORT="$vscode_port" %s "$port" --working-dir "$work" --plugins %s --username "$OH_USER" --user-id "$(id -u "$OH_USER")" >"$log" 2>&1 &
pid=$!
deadline=$((SECONDS + %d)) alive=''
while [ "$SECONDS" -lt "$deadline" ] && kill -0 "$pid" 2>/dev/null; do
	if "$OH_ENV_PY" -c 'import sys, urllib.request; sys.exit(urllib.request.urlopen("http://127.0.0.1:%%s/alive" %% sys.argv[1], timeout=2).status != 200)' "$port" 2>/dev/null; then
		alive=1
		break
	fi
	sleep 1
done
kill -TERM -- -"$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
output=$(tail -n 5 "$log")
rm -rf "$work" "$log"
if [ -z "$alive" ]; then printf '%%s\n' "$output"; echo "GET /alive did not answer 200 within %[4]ds"; exit 1; fi
echo "GET /alive answered 200 on port $port (plugins %[3]s)"`, launchEnvCommand(o), launcherCommand(o), plugins, *o.Verify.StartServerTimeout),
	}
}

func verifyStep(Options, Inputs) Step {
	return Step{
		// Checks that need the runtime user drop to it; the launcher runs as root, as in
		// OpenHands' containers.
		User:     RootUser,
		Commands: []Command{{Shell: stepShell("verify", nil)}},
	}
}

// pythonProbeHeader starts the program that runs every Python check in one interpreter and
// prints one line per check: "ok" or "FAILED", a tab, the check's index, a tab, the detail.
var pythonProbeHeader = checkFile("probe-header.py", nil) + "\n"

// renderChecks renders oh_verify, which runs every check, reports each by name and fails
// listing all that failed, not only the first.
func renderChecks(b *strings.Builder, checks []Check, interpreter string) {
	b.WriteString("oh_verify() {\n\tlocal failed='' output rc probe=''\n")
	var probe strings.Builder
	for i, c := range checks {
		if c.Python != "" {
			fmt.Fprintf(&probe, "\ndef check_%d():\n%s\n\nreport(%d, check_%d)\n", i+1, indent(c.Python, "    "), i+1, i+1)
		}
	}
	if probe.Len() > 0 {
		// The interpreter's own failure (missing, broken) is every Python check's detail.
		fmt.Fprintf(b, "\tprobe=$(oh_as_user %s - 2>&1 <<'OH_PYTHON_CHECKS'\n%s%sOH_PYTHON_CHECKS\n\t) || true\n", interpreter, pythonProbeHeader, probe.String())
	}
	for i, c := range checks {
		fn := fmt.Sprintf("oh_check_%d", i+1)
		shell := c.Shell
		run := fn
		switch {
		case c.Python != "":
			shell = fmt.Sprintf(`oh_probe_result %d "$probe"`, i+1)
		case !c.Root:
			run = "oh_check_as_user " + fn
		}
		fmt.Fprintf(b, "\t%s() {\n%s\n\t}\n", fn, indent(shell, "\t\t"))
		fmt.Fprintf(b, "\trc=0\n\toutput=$(%s 2>&1) || rc=$?\n", run)
		fmt.Fprintf(b, "\tif [ \"$rc\" -eq 0 ]; then\n\t\toh_say \"check %s: ok ($(oh_one_line \"$output\"))\"\n", shellDoubleQuoted(c.Name))
		fmt.Fprintf(b, "\telse\n\t\toh_say \"check %s: FAILED ($(oh_one_line \"$output\"))\"\n", shellDoubleQuoted(c.Name))
		fmt.Fprintf(b, "\t\tfailed=\"$failed, %s\"\n\tfi\n", shellDoubleQuoted(c.Name))
	}
	b.WriteString("\tif [ -n \"$failed\" ]; then\n\t\toh_say \"verification failed: ${failed#, }\"\n\t\treturn 1\n\tfi\n")
	fmt.Fprintf(b, "\toh_say \"verification passed: %d checks\"\n}\n", len(checks))
}

var doubleQuoteSpecial = regexp.MustCompile("([\"$`\\\\])")

// shellDoubleQuoted escapes s for use inside a double-quoted shell string.
func shellDoubleQuoted(s string) string { return doubleQuoteSpecial.ReplaceAllString(s, `\$1`) }

// lockedVersionsCheck compares the distributions installed with the lock's expected versions
// ($OH_LOCK/expected.txt, "name==version ; marker" lines), with the markers evaluated and the
// versions compared by lockedMarkers.
var lockedVersionsCheck = lockedMarkers + "\n" + lockedVersionsCompare

// lockedMarkers defines holds(marker) and same_version(installed, locked), on the
// interpreter's own values and no extras. They are packaging's (PEP 508 markers, PEP 440
// versions) when the environment has it, as OpenHands' lock does. The runtime's packages are
// what the check looks at, so without packaging (a broken install) a plain evaluator takes
// over: it compares dotted numbers for the Python version variables and strings otherwise,
// which differs from the standards on wildcards (== "3.12.*"), zero padding ("3.12" against
// 3.12.0) and pre-releases, and it compares installed versions as written. A marker packaging
// fails on (before 26.0 it raises when a kernel release that is no PEP 440 version, such as
// Amazon Linux 2023's, is compared as one) goes to the plain evaluator, which compares
// platform_release as a string: the kernel release never fails the check.
var lockedMarkers = checkFile("locked-markers.py", nil)

// lockedVersionsCompare lists each package of expected.txt whose marker holds and that is
// missing or at another version than the locked one.
var lockedVersionsCompare = checkFile("locked-versions.py", nil)
