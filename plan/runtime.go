package plan

import (
	"slices"
	"strings"
)

// The runtimes the plan installs (the `runtime` option).
const (
	// RuntimeActionServer is OpenHands' V0 runtime (0.62 and older): the action execution
	// server of an OpenHands checkout, started by OpenHands' DockerRuntime.
	RuntimeActionServer = "action-server"
	// RuntimeAgentServer is OpenHands' V1 runtime: the agent-server of the software-agent-sdk,
	// the image a V1 sandbox starts.
	RuntimeAgentServer = "agent-server"
)

// RuntimeNames lists the runtimes, the default first.
func RuntimeNames() []string {
	names := make([]string, len(runtimes))
	for i, r := range runtimes {
		names[i] = r.name
	}
	return names
}

// runtime is one OpenHands runtime as data: what the plan installs for it between the
// Python environment and the cleanup, how it is checked, the environment it is launched with
// and the image config that launches it. Renderers read these rows; none asks which runtime
// it renders.
type runtime struct {
	name string
	// steps are the runtime's own steps, after python-env and before cleanup.
	steps func(o Options, in Inputs) []Step
	// checks are the verification's checks, in report order.
	checks func(o Options) []Check
	// launchEnv is the environment the runtime is launched with, PATH last (see LaunchEnv).
	launchEnv func(o Options) []LaunchVar
	// vars are the runtime's own script variables.
	vars func(o Options) [][2]string
	// systemPackages are the runtime's packages beyond SystemPackages, by family.
	systemPackages map[Family][]string
	// condaPackages go into the micromamba environment beside Python.
	condaPackages []string
	// interpreter is the shell word of the Python that runs the Python checks and the
	// inventory: the one the runtime's packages are installed in.
	interpreter string
	// toolBefore places each tool's step right before the step named.
	toolBefore map[string]string
	// firstLayerEnd is the first step after the builder's first layer, which holds the steps
	// that depend on the options alone.
	firstLayerEnd string
	// layers are the builder's layers after the first; sourceLayer is the last one, the only
	// one of a build on an image with the lock tag.
	layers      []dockerLayer
	sourceLayer dockerLayer
	// image is the image config after the launch environment.
	image func(o Options) []string
	// source tells whether the runtime installs a checkout (source_dir).
	source bool
	// defaults fill in the layout options whose default depends on the runtime.
	defaults func(l *Layout)
}

// runtimes are the rows, the default first. Set in init: the rows' functions read them.
var runtimes []runtime

func init() { runtimes = []runtime{actionServer, agentServer} }

// runtimeOf is the options' runtime row: the default's for a name Prepare refuses.
func runtimeOf(l Layout) runtime {
	for _, r := range runtimes {
		if r.name == l.Runtime {
			return r
		}
	}
	return runtimes[0]
}

var actionServer = runtime{
	name: RuntimeActionServer,
	steps: func(o Options, in Inputs) []Step {
		steps := []Step{codeStep(in)}
		if o.lockInUse() {
			steps = append(steps, lockStep(in))
		}
		steps = append(steps, dependenciesStep(o, in))
		if *o.InstallBrowser {
			steps = append(steps, browserStep(o))
		}
		return append(steps, environmentStep(o))
	},
	checks:        actionServerChecks,
	launchEnv:     actionServerLaunchEnv,
	vars:          func(Options) [][2]string { return nil },
	condaPackages: []string{"poetry"},
	interpreter:   `"$OH_ENV_PY"`,
	toolBefore:    map[string]string{"micromamba": "python-env", "uv": "user", "vscode_server": "code"},
	firstLayerEnd: "code",
	layers: []dockerLayer{
		// The files generated from poetry.lock change with the dependency files, not before.
		{copyFrom: "deps", planFor: BundleLock, steps: []string{"code", "lock"}},
		{steps: []string{"dependencies"}},
		{steps: []string{"browser"}},
	},
	sourceLayer: dockerLayer{copyFrom: "code", steps: []string{"code", "environment", "cleanup", "verify"}},
	image: func(o Options) []string {
		// OpenHands' DockerRuntime gives the command and runs it as root.
		return []string{"WORKDIR " + o.Prefix + "/code"}
	},
	source:   true,
	defaults: func(*Layout) {},
}

// installSteps are the plan's steps before the tools are placed: the shared ones around the
// runtime's own.
func (r runtime) installSteps(o Options, in Inputs) []Step {
	steps := []Step{preflightStep()}
	// A step the options turn off is left out of the plan, so no rendering can run it.
	if *o.SystemPackages {
		steps = append(steps, systemPackagesStep())
	}
	steps = append(steps, userStep(o), directoriesStep(o), pythonEnvStep(o))
	steps = append(steps, r.steps(o, in)...)
	steps = append(steps, cleanupStep())
	if !o.SkipVerify {
		steps = append(steps, verifyStep(o))
	}
	for _, t := range Tools {
		if t.Enabled(o) {
			before := slices.IndexFunc(steps, func(s Step) bool { return s.Name == r.toolBefore[t.Name] })
			steps = slices.Insert(steps, before, t.step(o, in))
		}
	}
	return steps
}

// dockerExecForm renders words as a Dockerfile exec-form array.
func dockerExecForm(words []string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = `"` + dockerEscaper.Replace(w) + `"`
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// InstallsCheckout tells whether the layout's runtime installs the checkout in source_dir; the
// other runtime installs released packages.
func (l Layout) InstallsCheckout() bool { return runtimeOf(l).source }

// InstalledProject is what the runtime installs, by name and version: the checkout's project,
// or the agent-server release.
func (o Options) InstalledProject() (Project, error) {
	if !o.InstallsCheckout() {
		return Project{Name: agentServerPackages[0], Version: o.AgentServerVersion}, nil
	}
	return ReadProject(o.SourceDir)
}
