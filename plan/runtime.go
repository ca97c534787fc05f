package plan

import (
	"slices"
	"strings"

	"github.com/openhands-runtime/packer-plugin-openhands/plan/projectfile"
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
	steps []stepRow
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
	// toolBefore places each tool's step right before the step named, or before the
	// runtime's own steps (runtimeStart).
	toolBefore map[StepID]StepID
	// layers are the builder's layers after the first (which holds every step before the
	// first step a layer names: those depending on the options alone); sourceLayer is the
	// last one, the only one of a build on an image with the lock tag.
	layers      []dockerLayer
	sourceLayer dockerLayer
	// image is the image config after the launch environment.
	image func(o Options) []string
	// checkout tells whether the options install a checkout (source_dir).
	checkout func(o Options) bool
	// optionErrors checks the options of what the runtime installs (source_dir and the lock,
	// or a release), filling in what they imply.
	optionErrors func(o *Options, groupsSet bool) []error
	// project is what the runtime installs, by name and version (the SBOM's root).
	project func(o Options) (projectfile.Project, error)
	// staleSource are the paths a source layer removes first from the image it builds on:
	// what the last build shipped, so a file deleted from the checkout since does not
	// outlive it.
	staleSource func(o Options) []string
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
	steps: []stepRow{
		{id: StepCode, step: codeStep},
		{id: StepLock, when: Options.lockInUse, step: lockStep},
		{id: StepDependencies, step: dependenciesStep},
		{id: StepBrowser, when: func(o Options) bool { return *o.InstallBrowser }, step: browserStep},
		{id: StepEnvironment, step: environmentStep},
	},
	checks:        actionServerChecks,
	launchEnv:     actionServerLaunchEnv,
	vars:          func(Options) [][2]string { return nil },
	condaPackages: []string{"poetry"},
	interpreter:   `"$OH_ENV_PY"`,
	toolBefore:    map[StepID]StepID{StepMicromamba: StepPythonEnv, StepUV: StepUser, StepVSCodeServer: runtimeStart},
	layers: []dockerLayer{
		// The files generated from poetry.lock change with the dependency files, not before.
		{copyFrom: "deps", planFiles: BundleLock, planFor: StepLock, steps: []StepID{StepCode, StepLock}},
		{steps: []StepID{StepDependencies}},
		{steps: []StepID{StepBrowser}},
	},
	sourceLayer: dockerLayer{copyFrom: "code", steps: []StepID{StepCode, StepEnvironment, StepCleanup, StepVerify}},
	image: func(o Options) []string {
		// OpenHands' DockerRuntime gives the command and runs it as root.
		return []string{"WORKDIR " + o.codeDir()}
	},
	checkout: func(Options) bool { return true },
	project:  func(o Options) (projectfile.Project, error) { return projectfile.ReadProject(o.SourceDir) },
	optionErrors: func(o *Options, groupsSet bool) []error {
		if errs := checkSourceDir(o.SourceDir); len(errs) > 0 {
			return errs
		}
		return o.lockOptionErrors(groupsSet)
	},
	staleSource: func(o Options) []string {
		// The skills directory, for one, is read by listing it.
		shipped := make([]string, len(SourceTopLevel))
		for i, name := range SourceTopLevel {
			shipped[i] = o.Prefix + "/" + BundleCode + "/" + name
		}
		return shipped
	},
	defaults: func(*Layout) {},
}

// runtimeStart places a tool's step before the runtime's own steps.
const runtimeStart StepID = ""

// stepRow is one step of a plan: its name, whether the options include it, and the step
// made from the options and inputs. A step the options turn off is left out of the plan, so
// no rendering can run it.
type stepRow struct {
	id StepID
	// when tells whether the options include the step; nil includes it always.
	when func(Options) bool
	step func(Options, Inputs) Step
}

// sharedStepsBefore come before every runtime's own steps, sharedStepsAfter after them.
var (
	sharedStepsBefore = []stepRow{
		{id: StepPreflight, step: preflightStep},
		{id: StepSystemPackages, when: func(o Options) bool { return *o.SystemPackages }, step: systemPackagesStep},
		{id: StepUser, step: userStep},
		{id: StepDirectories, step: directoriesStep},
		// uv's Python is the runtime's own install (agentServerVenvShell).
		{id: StepPythonEnv, when: func(o Options) bool { return !o.usesUVPython() }, step: pythonEnvStep},
	}
	sharedStepsAfter = []stepRow{
		{id: StepCleanup, step: cleanupStep},
		{id: StepVerify, when: func(o Options) bool { return !o.SkipVerify }, step: verifyStep},
	}
)

// included are the steps of the rows the options include, each named by its row.
func included(rows []stepRow, o Options, in Inputs) []Step {
	var steps []Step
	for _, row := range rows {
		if row.when == nil || row.when(o) {
			s := row.step(o, in)
			s.Name = row.id
			steps = append(steps, s)
		}
	}
	return steps
}

// installSteps are the plan's steps: the shared ones around the runtime's own, and the tools'
// where the runtime's row places them.
func (r runtime) installSteps(o Options, in Inputs) []Step {
	own := included(r.steps, o, in)
	steps := slices.Concat(included(sharedStepsBefore, o, in), own, included(sharedStepsAfter, o, in))
	for _, t := range Tools {
		if t.Enabled(o) {
			name := r.toolBefore[t.Step]
			if name == runtimeStart {
				name = own[0].Name
			}
			before := slices.IndexFunc(steps, func(s Step) bool { return s.Name == name })
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

// InstallsCheckout tells whether the plan installs the checkout in source_dir rather than
// released packages.
func (o Options) InstallsCheckout() bool { return runtimeOf(o.Layout).checkout(o) }

// InstalledProject is what the runtime installs, by name and version: the checkout's project,
// or the agent-server release.
func (o Options) InstalledProject() (projectfile.Project, error) {
	return runtimeOf(o.Layout).project(o)
}
