package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// RootUser marks a step that runs as root; any other step runs as the runtime user.
const RootUser = "root"

// Command is shell code of one step, for every family or only for those listed.
type Command struct {
	Shell    string
	Families []Family
}

// appliesTo tells whether the command is part of the plan for family f.
func (c Command) appliesTo(f Family) bool {
	if len(c.Families) == 0 {
		return true
	}
	for _, g := range c.Families {
		if g == f {
			return true
		}
	}
	return false
}

// Step is one unit of the plan.
type Step struct {
	Name StepID
	// User is RootUser or the runtime user.
	User string
	// Check is shell code that exits 0 when the step is already done, so a second run skips
	// it. Empty means the step always runs (it is cheap and idempotent).
	Check string
	// Stamp, when set, is the digest of the step's inputs: the check also requires the stamp
	// recorded by the last successful run to match, and a successful run records it.
	Stamp string
	// Invalidates names later steps whose stamps are dropped when this step runs.
	Invalidates []StepID
	// Dir is the working directory of the commands, when not the default.
	Dir string
	// Env is extra environment for the commands, as KEY=value.
	Env []string
	// Secrets name the plan variables the step reads that may hold a secret (a URL option's
	// credentials): those that do are exported for the step's run alone.
	Secrets  []string
	Commands []Command
}

// Plan is the ordered install plan for one set of options.
type Plan struct {
	Options Options
	Steps   []Step
	Checks  []Check
	// Inventory makes the script print the inventory of the finished runtime after the last
	// step (see inventory.go), for the SBOM.
	Inventory bool
}

// Inputs are digests of what the plan installs, computed on the machine running Packer.
type Inputs struct {
	// DependencyFiles is the digest of pyproject.toml and the lock file.
	DependencyFiles string
	// SourceTree is the digest of the whole shipped source tree.
	SourceTree string
	// Supplied are the digests of the files supplied instead of downloads, by tool name.
	Supplied map[string]string
	// Lock is the digest of the files generated from poetry.lock (LockInstall), when the
	// install is pinned to it.
	Lock string
}

// supply records the digest of a supplied file by its key (suppliedFile).
func (in *Inputs) supply(key, sum string) {
	if in.Supplied == nil {
		in.Supplied = map[string]string{}
	}
	in.Supplied[key] = sum
}

// Bundle paths of the plan and the source tree, relative to the bundle root (supplied tools
// go to their Tool.Bundle).
const (
	BundleScript = "plan.sh"
	BundleCode   = "code"
)

// digest hashes labelled parts into a short stable hex string for stamps.
func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// New builds the plan. Options must have been prepared.
func New(o Options, in Inputs) *Plan {
	return &Plan{Options: o, Steps: runtimeOf(o.Layout).installSteps(o, in), Checks: Checks(o)}
}

// StepNames lists the plan's steps in order.
func (p *Plan) StepNames() []StepID {
	names := make([]StepID, len(p.Steps))
	for i, s := range p.Steps {
		names[i] = s.Name
	}
	return names
}

func preflightStep(Options, Inputs) Step {
	return Step{User: RootUser, Commands: []Command{{Shell: stepShell("preflight", nil)}}}
}

// SystemPackages are the packages each family needs, in the notation of oh_missing_packages.
var SystemPackages = map[Family][]string{
	FamilyApt: {"wget", "curl", "ca-certificates", "sudo", "git", "jq", "tmux", "build-essential", "ripgrep", "ffmpeg",
		"coreutils", "util-linux", "procps", "findutils", "grep", "sed", "libatomic1", "libgl1|libgl1-mesa-glx",
		"libasound2-plugins"},
	// ffmpeg is not packaged for Amazon Linux 2023.
	FamilyDnf: {"shadow-utils", "sudo", "git", "jq", "tmux", "gcc", "gcc-c++", "make", "tar", "gzip", "which",
		"coreutils", "util-linux", "procps-ng", "findutils", "grep", "sed", "libatomic", "mesa-libGL", "alsa-lib",
		"curl", "?ripgrep"},
}

// BrowserLibraries are Chromium's libraries on families where Playwright's --with-deps
// cannot install them (it only knows apt).
var BrowserLibraries = map[Family][]string{
	FamilyDnf: {"nss", "nspr", "atk", "at-spi2-atk", "cups-libs", "libdrm", "libxkbcommon", "libXcomposite",
		"libXdamage", "libXrandr", "mesa-libgbm", "pango", "alsa-lib"},
}

func systemPackagesStep(Options, Inputs) Step {
	return Step{
		User: RootUser,
		// An optional package that the repositories lacked at the last run counts as done:
		// otherwise the step (and its repository refresh, which fails air-gapped) would run
		// again on every run where ripgrep is not packaged (Amazon Linux 2023).
		Check:    stepShell("system-packages.check", nil),
		Commands: []Command{{Shell: stepShell("system-packages", nil)}},
	}
}

func userStep(o Options, _ Inputs) Step {
	sudo := `rm -f "/etc/sudoers.d/$OH_USER"`
	if *o.PasswordlessSudo {
		sudo = stepShell("user-sudoers", nil)
	}
	check := `id -u "$OH_USER" >/dev/null 2>&1 && id -nG "$OH_USER" | tr ' ' '\n' | grep -qx "$OH_ADMIN_GROUP"`
	if *o.PasswordlessSudo {
		check += ` && [ -f "/etc/sudoers.d/$OH_USER" ]`
	} else {
		check += ` && [ ! -e "/etc/sudoers.d/$OH_USER" ]`
	}
	return Step{
		User:     RootUser,
		Check:    check,
		Commands: []Command{{Shell: stepShell("user", map[string]string{"SUDOERS": sudo})}},
	}
}

// directoriesStep makes the prefix's directories and writes the record of the options
// (RecordPath). It runs on every run, so the record is always of the last one, and it has no
// check, so it counts as no change for cleanup.
func directoriesStep(o Options, _ Inputs) Step {
	return Step{
		User:     RootUser,
		Commands: []Command{{Shell: stepShell("directories", map[string]string{"RECORD": recordCommands(NewRecord(o), RecordPath)})}},
	}
}

func pythonEnvStep(o Options, _ Inputs) Step {
	condaPackages := ""
	for _, p := range runtimeOf(o.Layout).condaPackages {
		condaPackages += p + " "
	}
	alias := ""
	if o.ChannelAlias != "" {
		// From the environment: a command line would show the alias's credentials to ps, and
		// micromamba config would keep them in a file.
		alias = "export MAMBA_CHANNEL_ALIAS=\"$OH_CHANNEL_ALIAS\"\n"
	}
	if hasCredentials(o.ChannelAlias) {
		// micromamba records the channel's URL, credentials included, in conda-meta and its
		// package cache: they are taken out however the step ends (a signal included).
		alias += "trap 'oh_scrub_userinfo \"$OH_CHANNEL_ALIAS\" \"$MAMBA_ROOT_PREFIX\" || exit 1' EXIT\n"
	}
	return Step{
		User:        RootUser,
		Check:       `[ -x "$OH_ENV_PY" ]`,
		Stamp:       digest("python-env", o.EnvName, o.PythonVersion, o.CondaChannel, RedactURL(o.ChannelAlias)),
		Invalidates: []StepID{StepDependencies, StepBrowser},
		Secrets:     []string{"OH_CHANNEL_ALIAS"},
		Commands:    []Command{{Shell: stepShell("python-env", map[string]string{"CHANNEL_ALIAS": alias, "CONDA_PACKAGES": condaPackages})}},
	}
}

func codeStep(_ Options, in Inputs) Step {
	return Step{
		User:     RootUser,
		Check:    `[ -f "$OH_CODE/pyproject.toml" ]`,
		Stamp:    digest("code", in.SourceTree),
		Commands: []Command{{Shell: stepShell("code", copyCode())}},
	}
}

// copyCode fills a code step's @COPY_CODE@ with the copy of the bundle's code to the code
// directory, entry by entry, so what the directory holds besides stays.
func copyCode() map[string]string {
	return map[string]string{"COPY_CODE": stepShell("copy-code", nil)}
}

// lockStep puts the files generated from poetry.lock where the runtime user's install and
// the checks read them: the plan's own directory is root's alone on a machine.
func lockStep(_ Options, in Inputs) Step {
	var install strings.Builder
	for _, name := range []string{LockConstraintsFile, LockRequirementsFile, LockExpectedFile} {
		fmt.Fprintf(&install, "install -m 0644 -o \"$OH_USER\" -g \"$OH_USER\" \"$OH_BUNDLE/%s/%s\" \"$OH_LOCK/%s\"\n", BundleLock, name, name)
	}
	return Step{
		User:     RootUser,
		Check:    `[ -f "$OH_LOCK/` + LockExpectedFile + `" ]`,
		Stamp:    digest("lock", in.Lock),
		Commands: []Command{{Shell: "install -d -o \"$OH_USER\" -g \"$OH_USER\" \"$OH_LOCK\"\n" + strings.TrimSuffix(install.String(), "\n")}},
	}
}

// uvIndexEnvironment gives uv the indexes through its environment: on its command line, ps
// would show their credentials to every user of the machine.
func uvIndexEnvironment() string { return stepShell("uv-index", nil) }

// indexInputs are the stamp parts of the indexes: mirrors without their credentials, so a
// new token is not a new input.
func indexInputs(o Options) []string {
	return []string{RedactURL(o.IndexURL), redactURLs(o.ExtraIndexURLs)}
}

func dependenciesStep(o Options, in Inputs) Step {
	env := []string{}
	if *o.SkipVSCodeBuild {
		env = append(env, "SKIP_VSCODE_BUILD=1")
	}
	// Stamps name mirrors without their credentials: a new token is not a new input.
	inputs := slices.Concat([]string{"dependencies", in.DependencyFiles, o.PythonVersion}, indexInputs(o),
		[]string{strings.Join(o.ExtraPipPackages, " ")})
	lock := ""
	if o.lockInUse() {
		inputs = append(inputs, in.Lock, fmt.Sprint(*o.LockVerifyHashes))
		// Constraints pin what the resolution picks (extra_pip_packages included) without
		// installing anything; the groups' own requirements are installed with the source.
		lock = `# Pinned to poetry.lock: uv resolves and evaluates the markers, Poetry is never run.
set -- "$@" --constraint "$OH_LOCK/` + LockConstraintsFile + `" --requirement "$OH_LOCK/` + LockRequirementsFile + `"
`
		if *o.LockVerifyHashes {
			// Not --require-hashes: it refuses the editable install of the source.
			lock += `set -- "$@" --verify-hashes
`
		}
	}
	return Step{
		User:     o.User,
		Dir:      "$OH_CODE",
		Env:      env,
		Secrets:  []string{"OH_INDEX_URL", "OH_EXTRA_INDEX_URLS"},
		Check:    `[ -x "$OH_ENV_PY" ]`,
		Stamp:    digest(inputs...),
		Commands: []Command{{Shell: stepShell("dependencies", map[string]string{"UV_INDEX": uvIndexEnvironment(), "LOCK": lock})}},
	}
}

func browserStep(Options, Inputs) Step {
	return Step{
		User:  RootUser,
		Check: `[ -n "$(find "$PLAYWRIGHT_BROWSERS_PATH" -mindepth 1 -maxdepth 1 -name 'chromium-*' -print -quit 2>/dev/null)" ]`,
		Commands: []Command{
			{Shell: `install -d -m 0755 "$PLAYWRIGHT_BROWSERS_PATH"`},
			{Shell: `oh_retry "$OH_MM" run -n "$OH_ENV" python -m playwright install --with-deps chromium`, Families: []Family{FamilyApt}},
			{Shell: stepShell("browser-dnf", nil), Families: []Family{FamilyDnf}},
			{Shell: stepShell("browser-links", nil)},
		},
	}
}

// launchEnvironmentFiles is shell that gives machines and login shells the launch
// environment (containers get it from their image config): /etc/environment, and a block of
// rcBlock's lines in the rc files of root and the runtime user. check is its step's check.
func launchEnvironmentFiles(o Options, rcBlock string) (run, check string) {
	var etc, checks strings.Builder
	for _, v := range completeLaunchEnv(o) {
		value := v.Value
		if strings.Contains(value, " ") {
			value = `"` + value + `"` // pam_env strips the quotes
		}
		line := shellQuote(v.Name + "=" + value)
		fmt.Fprintf(&etc, "oh_set_line /etc/environment %s %s\n", v.Name, line)
		fmt.Fprintf(&checks, "grep -qxF %s /etc/environment\n", line)
	}
	return stepShell("launch-environment", map[string]string{"ETC_ENVIRONMENT": etc.String(), "RC_BLOCK": indent(strings.TrimSuffix(rcBlock, "\n"), "\t")}) + "\n",
		stepShell("launch-environment.check", map[string]string{"ETC_ENVIRONMENT": checks.String()})
}

// environmentStep gives machines and login shells the launch environment, puts the poetry
// shim in the environment, and turns off micromamba's prompt change for the runtime user, as
// upstream's template does.
func environmentStep(o Options, _ Inputs) Step {
	block := rcExports(o) + fmt.Sprintf("eval \"$(%s shell hook -s bash)\"\nmicromamba activate %s 2>/dev/null || true\n",
		shellQuote(o.mambaRoot()+"/bin/micromamba"), shellQuote(o.EnvName))
	run, check := launchEnvironmentFiles(o, block)
	return Step{
		User:  RootUser,
		Check: `grep -qF '` + poetryShimMarker + `' "$OH_ENV_BIN/poetry"` + "\n" + check,
		Stamp: digest("environment", run, poetryShim),
		Commands: []Command{{Shell: stepShell("environment", map[string]string{
			"LAUNCH_ENVIRONMENT": run, "POETRY_SHIM": indent(strings.TrimSuffix(poetryShim, "\n"), "\t"),
		})}},
	}
}

func cleanupStep(o Options, _ Inputs) Step {
	shell := stepShell("cleanup", nil)
	if o.usesUVPython() {
		// What uv python install unpacked in and left behind.
		shell = stepShell("cleanup-uv-python", nil)
	}
	return Step{
		User: RootUser,
		// Nothing to clean when every step before was skipped.
		Check:    `[ -z "$OH_CHANGED" ]`,
		Commands: []Command{{Shell: shell}},
	}
}
