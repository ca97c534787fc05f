package plan

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/openhands-runtime/packer-plugin-openhands/plan/projectfile"
)

// agentServerPackages are the software-agent-sdk's distributions, released together at one
// version: the server imports openhands-tools without declaring it, so all four are installed.
var agentServerPackages = []string{"openhands-agent-server", "openhands-sdk", "openhands-tools", "openhands-workspace"}

// DefaultAgentServerImports are the modules a usable agent-server imports.
var DefaultAgentServerImports = []string{"openhands.agent_server", "openhands.sdk", "openhands.tools", "openhands.workspace"}

// Defaults of the agent-server that differ from the action server's.
const (
	// DefaultAgentServerPythonVersion is the Python of upstream's image.
	DefaultAgentServerPythonVersion = "3.13"
	// DefaultAgentServerMinPackages is well below the ~195 distributions of 1.58.2: the check
	// catches a partial install, not a smaller release.
	DefaultAgentServerMinPackages = 120
	// AgentServerPort and AgentServerVSCodePort are the ports upstream's image exposes: the
	// API (launchers pass --port 8000) and openvscode-server.
	AgentServerPort       = 8000
	AgentServerVSCodePort = 8001
)

// agentServerVenv is the agent-server's virtual environment below the prefix. It is made on
// the micromamba environment's Python or on one uv installed (python_source), so the base
// image's Python never matters (upstream's lesson in OpenHands/benchmarks#612).
const agentServerVenv = "agent-server"

// agentServerPython is the venv's interpreter, the one the entry point runs.
func (l Layout) agentServerPython() string { return l.Prefix + "/" + agentServerVenv + "/bin/python" }

// agentServerCommand is the image's entry point: launchers append --host and --port.
func agentServerCommand(l Layout) []string {
	return []string{"tini", "--", l.agentServerPython(), "-m", "openhands.agent_server"}
}

// releasePattern is a release version as PyPI names one: digits and dots, with an optional
// pre-, post- or dev-release suffix.
var releasePattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+){1,3}((a|b|rc|\.post|\.dev)[0-9]+)?$`)

var agentServer = runtime{
	name: RuntimeAgentServer,
	// From a checkout, the locked dependencies see only the dependency files (the builder's
	// deps layer); the checkout's own packages come with the source tree.
	steps: []stepRow{
		{id: StepCode, when: checkoutSet, step: checkoutCodeStep},
		{id: StepAgentServer, step: agentServerStep},
		{id: StepCheckoutPackages, when: checkoutSet, step: checkoutPackagesStep},
		{id: StepEnvironment, step: agentServerEnvironmentStep},
		{id: StepService, step: agentServerUnitStep},
	},
	checks:    agentServerChecks,
	launchEnv: agentServerLaunchEnv,
	vars: func(o Options) [][2]string {
		return append([][2]string{
			{"OH_AGENT_VENV", `"$OH_PREFIX/` + agentServerVenv + `"`},
			{"OH_AGENT_PY", `"$OH_AGENT_VENV/bin/python"`},
			{"OH_AGENT_SERVER_VERSION", shellQuote(o.AgentServerVersion)},
		}, uvPythonVars(o)...)
	},
	systemPackages: map[Family][]string{FamilyApt: {"tini"}},
	interpreter:    `"$OH_AGENT_PY"`,
	toolBefore:     map[StepID]StepID{StepMicromamba: StepPythonEnv, StepUV: StepUser, StepVSCodeServer: runtimeStart, StepTini: runtimeStart, StepNodeJS: runtimeStart},
	layers:         []dockerLayer{{copyFrom: "deps", steps: []StepID{StepCode, StepAgentServer}}},
	sourceLayer:    dockerLayer{copyFrom: "code", steps: []StepID{StepCode, StepCheckoutPackages, StepEnvironment, StepService, StepCleanup, StepVerify}},
	image: func(o Options) []string {
		// As upstream's image: the runtime user, WORKDIR / (the server's relative paths land in
		// /workspace), tini in front of the server.
		return []string{
			"USER " + o.User,
			"WORKDIR /",
			fmt.Sprintf("EXPOSE %d %d", AgentServerPort, AgentServerVSCodePort),
			"ENTRYPOINT " + dockerExecForm(agentServerCommand(o.Layout)),
			// No command from the base image (a docker commit keeps it): launchers give the
			// server's arguments.
			"CMD []",
		}
	},
	checkout: checkoutSet,
	project: func(o Options) (projectfile.Project, error) {
		return projectfile.Project{Name: agentServerPackages[0], Version: o.AgentServerVersion}, nil
	},
	optionErrors: func(o *Options, groupsSet bool) []error {
		if o.SourceDir == "" {
			return o.packagedRuntimeErrors(groupsSet)
		}
		return o.agentServerCheckoutErrors(groupsSet)
	},
	// Nothing but the checkout is in the code directory (and no hidden file: none is shipped).
	staleSource: func(o Options) []string { return []string{o.Prefix + "/" + BundleCode + "/*"} },
	defaults: func(l *Layout) {
		intDefault(&l.AgentServerPort, AgentServerPort)
		stringDefault(&l.PythonVersion, DefaultAgentServerPythonVersion)
		// The V1 browser tool is not Playwright's: the action server's browser step does not
		// apply.
		boolDefault(&l.InstallBrowser, false)
		intDefault(&l.Verify.MinPackages, DefaultAgentServerMinPackages)
		if l.Verify.Imports == nil {
			l.Verify.Imports = slices.Clone(DefaultAgentServerImports)
		}
	},
}

// checkoutSet tells whether the options install the agent-server from a checkout.
func checkoutSet(o Options) bool { return o.SourceDir != "" }

// agentServerStep installs the four packages at agent_server_version, as the runtime user, in
// a venv of their own, byte-compiled so the server starts quickly; from a checkout, it
// installs their dependencies at the versions of its uv.lock, with the lock's hashes.
func agentServerStep(o Options, in Inputs) Step {
	stamp := slices.Concat([]string{"agent-server", o.AgentServerVersion, o.PythonVersion}, indexInputs(o),
		[]string{strings.Join(o.ExtraPipPackages, " ")}, pythonSourceStamp(o))
	if !*o.AgentServerCompileBytecode {
		stamp = append(stamp, "no bytecode")
	}
	install := stepShell("agent-server-release", map[string]string{
		"PACKAGES": strings.Join(agentServerPackages, " "), "UV_PIP_INSTALL": uvPipInstall(o),
	})
	step := Step{User: o.User}
	if o.SourceDir != "" {
		stamp = append(stamp, in.DependencyFiles, fmt.Sprint(*o.LockVerifyHashes))
		// The checkout's packages go into the venv after their dependencies: a new venv needs
		// them again.
		step.Dir, step.Invalidates = "$OH_CODE", []StepID{StepCheckoutPackages}
		hashes, exportHashes := "--require-hashes ", ""
		if !*o.LockVerifyHashes {
			hashes, exportHashes = "", "--no-hashes "
		}
		// uv reads the lock as it is (--frozen: nothing resolved, nothing fetched) and names
		// every distribution by version and hash, not by the lock's URLs: the install then
		// comes from index_url, a mirror where the lock was written against PyPI.
		install = stepShell("agent-server-locked", map[string]string{
			"EXPORT_HASHES": exportHashes, "UV_PIP_INSTALL": uvPipInstall(o), "HASHES": hashes,
		})
	}
	step.Secrets = []string{"OH_INDEX_URL", "OH_EXTRA_INDEX_URLS"}
	if o.usesUVPython() {
		step.Secrets = append(step.Secrets, uvPythonSecrets...)
	}
	step.Check = `[ -x "$OH_AGENT_PY" ]`
	step.Stamp = digest(stamp...)
	step.Commands = []Command{{Shell: stepShell("agent-server", map[string]string{
		"UV_INDEX": uvIndexEnvironment(), "VENV": agentServerVenvShell(o), "INSTALL": install,
	})}}
	return step
}

// uvPipInstall are the options of every uv pip install into the agent-server's venv.
func uvPipInstall(o Options) string {
	args := `--no-config --python "$OH_AGENT_PY" --no-cache`
	if *o.AgentServerCompileBytecode {
		args += " --compile-bytecode"
	}
	return args
}

// checkoutCodeStep puts the shipped checkout in the code directory, where the runtime user's
// installs read it.
func checkoutCodeStep(_ Options, in Inputs) Step {
	return Step{
		User:     RootUser,
		Check:    `[ -f "$OH_CODE/` + projectfile.UVLockFile + `" ]`,
		Stamp:    digest("code", in.SourceTree),
		Commands: []Command{{Shell: stepShell("checkout-code", copyCode())}},
	}
}

// checkoutPackagesStep builds and installs the checkout's own packages, without dependencies
// (the agent-server step installed the locked ones). The build backend they name comes from
// the index: uv.lock does not lock build requirements.
func checkoutPackagesStep(o Options, in Inputs) Step {
	var dirs, reinstall []string
	for _, name := range agentServerPackages {
		dirs = append(dirs, "./"+name)
		// The same version with other source is not "already installed".
		reinstall = append(reinstall, "--reinstall-package "+name)
	}
	return Step{
		User:    o.User,
		Dir:     "$OH_CODE",
		Secrets: []string{"OH_INDEX_URL", "OH_EXTRA_INDEX_URLS"},
		Check:   `[ -x "$OH_AGENT_PY" ]`,
		Stamp:   digest(slices.Concat([]string{"checkout-packages", in.SourceTree, fmt.Sprint(*o.AgentServerCompileBytecode)}, indexInputs(o))...),
		Commands: []Command{{Shell: stepShell("checkout-packages", map[string]string{
			"UV_INDEX": uvIndexEnvironment(), "UV_PIP_INSTALL": uvPipInstall(o),
			"REINSTALL": strings.Join(reinstall, " "), "PACKAGE_DIRS": strings.Join(dirs, " "),
		})}},
	}
}

// agentServerEnvironmentStep gives machines and login shells the launch environment and makes
// the workspace the server's relative paths point at (from WORKDIR /).
func agentServerEnvironmentStep(o Options, _ Inputs) Step {
	run, check := launchEnvironmentFiles(o, rcExports(o))
	return Step{
		User:     RootUser,
		Check:    check + "\n" + `[ -d /workspace/project ] && [ "$(stat -c %U /workspace/project)" = "$OH_USER" ]`,
		Stamp:    digest("agent-server environment", run),
		Commands: []Command{{Shell: stepShell("agent-server-environment", map[string]string{"LAUNCH_ENVIRONMENT": run})}},
	}
}

// agentServerLaunchEnv holds the variables upstream's image sets with ENV.
func agentServerLaunchEnv(o Options) []LaunchVar {
	return []LaunchVar{
		{"LANG", "C.UTF-8"},
		{"LC_ALL", "C.UTF-8"},
		{"LOG_JSON", "true"},
		{"OH_ENABLE_VNC", "false"},
		{"EDITOR", "code"},
		{"VISUAL", "code"},
		{"GIT_EDITOR", "code --wait"},
		{"OPENVSCODE_SERVER_ROOT", o.Prefix + "/" + vscodeServerDir},
		{"PATH", agentServerPath(o)},
	}
}

// agentServerPath is what goes in front of the PATH: the venv's scripts, Node.js when
// installed, the prefix's tools.
func agentServerPath(o Options) string {
	dirs := []string{o.Prefix + "/" + agentServerVenv + "/bin"}
	if toolNodeJS.Enabled(o) {
		dirs = append(dirs, o.Prefix+"/"+nodeJSDir+"/bin")
	}
	return strings.Join(append(dirs, o.Prefix+"/bin"), ":")
}
