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

func preflightStep() Step {
	return Step{
		Name: StepPreflight,
		User: RootUser,
		Commands: []Command{{Shell: `oh_say "platform: $OH_PLATFORM_NAME ($OH_ARCH), package manager $OH_FAMILY"
oh_check_disk`}},
	}
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

func systemPackagesStep() Step {
	return Step{
		Name: StepSystemPackages,
		User: RootUser,
		// An optional package that the repositories lacked at the last run counts as done:
		// otherwise the step (and its repository refresh, which fails air-gapped) would run
		// again on every run where ripgrep is not packaged (Amazon Linux 2023).
		Check: `set -f # package specs such as ?ripgrep are words, not patterns
# shellcheck disable=SC2086 # one word per package
for spec in $(oh_missing_packages $OH_SYSTEM_PACKAGES); do
	case $spec in
	\?*) grep -qxF "${spec#\?}" "$OH_STAMPS/unavailable-packages" 2>/dev/null || exit 1 ;;
	*) exit 1 ;;
	esac
done`,
		Commands: []Command{{Shell: `set -f # package specs such as ?ripgrep are words, not patterns
# shellcheck disable=SC2086 # one word per package
missing=$(oh_missing_packages $OH_SYSTEM_PACKAGES)
# The builder runs this step without its check: with nothing missing, no repository refresh
# (which fails without network) and no install.
if [ -z "$missing" ]; then
	oh_say "every package is installed"
	return 0
fi
oh_say "missing: $(printf '%s' "$missing" | tr '\n' ' ')"
oh_pkg_refresh
wanted="" unavailable=""
for spec in $missing; do
	pick=$(oh_pick_available "$spec")
	# Only an optional package the repositories lack picks nothing.
	[ -n "$pick" ] || unavailable="$unavailable${spec#\?}
"
	wanted="$wanted $pick"
done
install -d -m 0755 "$OH_STAMPS"
printf '%s' "$unavailable" >"$OH_STAMPS/unavailable-packages"
if [ -n "${wanted// /}" ]; then
	# shellcheck disable=SC2086 # one word per package
	oh_retry oh_pkg_install $wanted
fi
oh_pkg_clean`}},
	}
}

func userStep(o Options) Step {
	sudo := `rm -f "/etc/sudoers.d/$OH_USER"`
	if *o.PasswordlessSudo {
		sudo = `tmp=$(mktemp)
printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$OH_USER" >"$tmp"
visudo -cf "$tmp" >/dev/null || { rm -f "$tmp"; oh_die "the sudoers drop-in for $OH_USER does not pass visudo -c"; }
install -d -m 0750 /etc/sudoers.d
install -m 0440 "$tmp" "/etc/sudoers.d/$OH_USER"
rm -f "$tmp"`
	}
	check := `id -u "$OH_USER" >/dev/null 2>&1 && id -nG "$OH_USER" | tr ' ' '\n' | grep -qx "$OH_ADMIN_GROUP"`
	if *o.PasswordlessSudo {
		check += ` && [ -f "/etc/sudoers.d/$OH_USER" ]`
	} else {
		check += ` && [ ! -e "/etc/sudoers.d/$OH_USER" ]`
	}
	return Step{
		Name:  StepUser,
		User:  RootUser,
		Check: check,
		Commands: []Command{{Shell: `if ! id -u "$OH_USER" >/dev/null 2>&1; then
	id_=$(oh_pick_id)
	getent group "$OH_USER" >/dev/null || groupadd -g "$id_" "$OH_USER"
	useradd -m -d "/home/$OH_USER" -s /bin/bash -u "$id_" -g "$OH_USER" "$OH_USER"
	oh_say "created user $OH_USER with uid $(id -u "$OH_USER") and gid $(id -g "$OH_USER")"
fi
usermod -aG "$OH_ADMIN_GROUP" "$OH_USER"
` + sudo}},
	}
}

// directoriesStep makes the prefix's directories and writes the record of the options
// (RecordPath). It runs on every run, so the record is always of the last one, and it has no
// check, so it counts as no change for cleanup.
func directoriesStep(o Options) Step {
	return Step{
		Name: StepDirectories,
		User: RootUser,
		Commands: []Command{{Shell: `# On a second run these belong to the runtime user: install -d would follow a planted link.
oh_no_links "$OH_PREFIX" "$OH_PREFIX/bin" "$OH_PREFIX/logs" "$OH_CODE" "$OH_PREFIX/workspace" "$OH_PREFIX/poetry"
install -d -o "$OH_USER" -g "$OH_USER" "$OH_PREFIX" "$OH_PREFIX/bin" "$OH_PREFIX/logs" "$OH_CODE" "$OH_PREFIX/workspace" "$OH_PREFIX/poetry"
chmod g+rws "$OH_PREFIX/workspace"
# uv was installed before the user existed.
chown -R "$OH_USER:$OH_USER" "$OH_PREFIX/bin"
` + recordCommands(NewRecord(o), RecordPath)}},
	}
}

func pythonEnvStep(o Options) Step {
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
		Name:        StepPythonEnv,
		User:        RootUser,
		Check:       `[ -x "$OH_ENV_PY" ]`,
		Stamp:       digest("python-env", o.EnvName, o.PythonVersion, o.CondaChannel, RedactURL(o.ChannelAlias)),
		Invalidates: []StepID{StepDependencies, StepBrowser},
		Secrets:     []string{"OH_CHANNEL_ALIAS"},
		Commands: []Command{{Shell: alias + `"$OH_MM" create -n "$OH_ENV" -y
# The action server's Poetry is installed for tools that expect it, never used to install:
# it cannot parse the Amazon Linux 2023 kernel release.
oh_retry "$OH_MM" install -n "$OH_ENV" -c "$OH_CONDA_CHANNEL" ` + condaPackages + `"python=$OH_PYTHON_VERSION" -y
# The env is created as root but the dependency install runs as the runtime user.
chown -R "$OH_USER:$OH_USER" "$MAMBA_ROOT_PREFIX"`}},
	}
}

func codeStep(in Inputs) Step {
	return Step{
		Name:  StepCode,
		User:  RootUser,
		Check: `[ -f "$OH_CODE/pyproject.toml" ]`,
		Stamp: digest("code", in.SourceTree),
		Commands: []Command{{Shell: copyCodeShell + `# pyproject.toml's packages include third_party, which the runtime does not ship.
mkdir -p "$OH_CODE/third_party"
touch "$OH_CODE/third_party/__init__.py"
printf '%s\n' '#!/usr/bin/env python3' 'import os' 'import sys' \
	'if os.environ.get("SKIP_VSCODE_BUILD"):' '    print("Skipping VSCode build")' '    sys.exit(0)' \
	>"$OH_CODE/build_vscode.py"
chown -R "$OH_USER:$OH_USER" "$OH_CODE"`}},
	}
}

// copyCodeShell copies the bundle's code to the code directory, entry by entry, so what the
// directory holds besides stays.
const copyCodeShell = `for entry in "$OH_BUNDLE/code"/* "$OH_BUNDLE/code"/.[!.]*; do
	[ -e "$entry" ] || continue
	rm -rf "${OH_CODE:?}/$(basename "$entry")"
	cp -R "$entry" "$OH_CODE/"
done
`

// lockStep puts the files generated from poetry.lock where the runtime user's install and
// the checks read them: the plan's own directory is root's alone on a machine.
func lockStep(in Inputs) Step {
	var install strings.Builder
	for _, name := range []string{LockConstraintsFile, LockRequirementsFile, LockExpectedFile} {
		fmt.Fprintf(&install, "install -m 0644 -o \"$OH_USER\" -g \"$OH_USER\" \"$OH_BUNDLE/%s/%s\" \"$OH_LOCK/%s\"\n", BundleLock, name, name)
	}
	return Step{
		Name:     StepLock,
		User:     RootUser,
		Check:    `[ -f "$OH_LOCK/` + LockExpectedFile + `" ]`,
		Stamp:    digest("lock", in.Lock),
		Commands: []Command{{Shell: "install -d -o \"$OH_USER\" -g \"$OH_USER\" \"$OH_LOCK\"\n" + strings.TrimSuffix(install.String(), "\n")}},
	}
}

// uvIndexEnvironment gives uv the indexes through its environment: on its command line, ps
// would show their credentials to every user of the machine.
const uvIndexEnvironment = `if [ -n "${OH_INDEX_URL:-}" ]; then export UV_INDEX_URL="$OH_INDEX_URL"; fi
if [ -n "${OH_EXTRA_INDEX_URLS:-}" ]; then export UV_EXTRA_INDEX_URL="$OH_EXTRA_INDEX_URLS"; fi
`

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
		Name:    StepDependencies,
		User:    o.User,
		Dir:     "$OH_CODE",
		Env:     env,
		Secrets: []string{"OH_INDEX_URL", "OH_EXTRA_INDEX_URLS"},
		Check:   `[ -x "$OH_ENV_PY" ]`,
		Stamp:   digest(inputs...),
		Commands: []Command{{Shell: `set -- --python "$OH_ENV_PY" --no-cache
` + uvIndexEnvironment + lock + `# uv, not pip: pip install -e . skips the dependencies of a poetry-core project.
# shellcheck disable=SC2086 # one word per package
oh_retry "$OH_MM" run -n "$OH_ENV" "$OH_UV" pip install "$@" -e . $OH_EXTRA_PIP_PACKAGES`}},
	}
}

func browserStep(o Options) Step {
	return Step{
		Name:  StepBrowser,
		User:  RootUser,
		Check: `[ -n "$(find "$PLAYWRIGHT_BROWSERS_PATH" -mindepth 1 -maxdepth 1 -name 'chromium-*' -print -quit 2>/dev/null)" ]`,
		Commands: []Command{
			{Shell: `install -d -m 0755 "$PLAYWRIGHT_BROWSERS_PATH"`},
			{Shell: `oh_retry "$OH_MM" run -n "$OH_ENV" python -m playwright install --with-deps chromium`, Families: []Family{FamilyApt}},
			{Shell: `# Playwright's --with-deps only knows apt.
# shellcheck disable=SC2086 # one word per package
oh_retry dnf install -y $OH_BROWSER_LIBRARIES
oh_retry "$OH_MM" run -n "$OH_ENV" python -m playwright install chromium`, Families: []Family{FamilyDnf}},
			{Shell: `chmod -R a+rX "$PLAYWRIGHT_BROWSERS_PATH"
oh_no_links "/home/$OH_USER/.cache"
for home in /root "/home/$OH_USER"; do
	install -d "$home/.cache"
	[ -L "$home/.cache/ms-playwright" ] || rm -rf "$home/.cache/ms-playwright"
	ln -sfn "$PLAYWRIGHT_BROWSERS_PATH" "$home/.cache/ms-playwright"
done
chown -h "$OH_USER:$OH_USER" "/home/$OH_USER/.cache"
chown -h "$OH_USER:$OH_USER" "/home/$OH_USER/.cache/ms-playwright"`},
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
	return etc.String() + `for rc in "$OH_BASHRC" /root/.bashrc "/home/$OH_USER/.bashrc"; do
	oh_set_block "$rc" <<-'BLOCK'
` + indent(strings.TrimSuffix(rcBlock, "\n"), "\t") + `
	BLOCK
done
chown -h "$OH_USER:$OH_USER" "/home/$OH_USER/.bashrc"
`, checks.String() + `for rc in "$OH_BASHRC" /root/.bashrc "/home/$OH_USER/.bashrc"; do
	grep -qxF '# >>> openhands runtime >>>' "$rc"
done`
}

// environmentStep gives machines and login shells the launch environment, puts the poetry
// shim in the environment, and turns off micromamba's prompt change for the runtime user, as
// upstream's template does.
func environmentStep(o Options) Step {
	block := rcExports(o) + fmt.Sprintf("eval \"$(%s shell hook -s bash)\"\nmicromamba activate %s 2>/dev/null || true\n",
		shellQuote(o.mambaRoot()+"/bin/micromamba"), shellQuote(o.EnvName))
	run, check := launchEnvironmentFiles(o, block)
	return Step{
		Name:  StepEnvironment,
		User:  RootUser,
		Check: `grep -qF '` + poetryShimMarker + `' "$OH_ENV_BIN/poetry"` + "\n" + check,
		Stamp: digest("environment", run, poetryShim),
		Commands: []Command{{Shell: run + `# A fresh file beside the shim (the env's bin belongs to the runtime user), renamed over it.
shim=$(mktemp "$OH_ENV_BIN/.poetry.XXXXXX")
cat >"$shim" <<-'POETRY'
` + indent(strings.TrimSuffix(poetryShim, "\n"), "\t") + `
	POETRY
chmod 0755 "$shim"
chown -h "$OH_USER:$OH_USER" "$shim"
mv -f "$shim" "$OH_ENV_BIN/poetry"
oh_as_user "$OH_MM" config set changeps1 False >/dev/null`}},
	}
}

func cleanupStep() Step {
	return Step{
		Name: StepCleanup,
		User: RootUser,
		// Nothing to clean when every step before was skipped.
		Check: `[ -z "$OH_CHANGED" ]`,
		Commands: []Command{{Shell: `"$OH_MM" clean --all -y >/dev/null
# Only when something slipped: a recursive chown of a full env takes a while.
if [ -n "$(find "$MAMBA_ROOT_PREFIX" ! -user "$OH_USER" -print -quit)" ]; then
	chown -R "$OH_USER:$OH_USER" "$MAMBA_ROOT_PREFIX"
fi`}},
	}
}
