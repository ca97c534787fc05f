//go:generate go tool packer-sdc struct-markdown
//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Verify

package plan

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Options are the install options shared by every component that applies the plan: the
// provisioner and the builder embed them, so an option means the same thing everywhere.
type Options struct {
	// Local path of the OpenHands checkout to install (the directory holding `pyproject.toml`).
	// Its `pyproject.toml`, lock file, `openhands/` and, when present, `skills/` or `microagents/`
	// are shipped; hidden directories, `__pycache__` and `*.pyc` are left out. Required, except
	// with `runtime = "agent-server"`, where it is optional: a software-agent-sdk checkout (its uv
	// workspace's members shipped too), installed at its `uv.lock`'s versions instead of
	// `agent_server_version`.
	SourceDir string `mapstructure:"source_dir" required:"true"`
	Layout    `mapstructure:",squash"`
	// UID and GID for the runtime user, 1 to 60000 (0, root, is refused). Defaults to 1000
	// when free, otherwise the next free id; an explicit value that is taken by another user
	// fails the build.
	UID *int `mapstructure:"uid"`
	// Target platform: `auto` (read `/etc/os-release` on the target, the default) or one of
	// `ubuntu-20.04`, `ubuntu-22.04`, `ubuntu-24.04`, `debian-11`, `debian-12`, `debian-13`,
	// `amzn-2023`. An explicit value must match the target's os-release.
	Platform string `mapstructure:"platform"`
	// Install the system packages the runtime needs (only those missing). Defaults to true.
	SystemPackages *bool `mapstructure:"system_packages"`
	// More system packages to install with the platform's package manager.
	ExtraSystemPackages []string `mapstructure:"extra_system_packages"`
	// Download URL of the micromamba binary. Requires `micromamba_sha256`. Defaults to a pinned
	// release for the target's architecture.
	MicromambaURL string `mapstructure:"micromamba_url"`
	// SHA-256 of the file at `micromamba_url`, 64 hex digits.
	MicromambaSHA256 string `mapstructure:"micromamba_sha256"`
	// Local micromamba binary to upload instead of downloading one (air-gapped builds), of the
	// target's architecture; a `.tar.gz` holding it is unpacked on the target, other archives
	// are refused.
	MicromambaPath string `mapstructure:"micromamba_path"`
	// `micromamba_url` per platform (`"linux/amd64"`, `"linux/arm64"`), with
	// `micromamba_sha256_by_platform`. A platform with an entry in any of a tool's
	// `*_by_platform` options takes that tool from them alone; the others take the tool's own
	// options (`micromamba_url`, `micromamba_sha256`, `micromamba_path`); those beside entries
	// for every platform are refused, since no platform would take them.
	MicromambaURLByPlatform map[string]string `mapstructure:"micromamba_url_by_platform"`
	// `micromamba_sha256` per platform: the SHA-256 of its `micromamba_url_by_platform` entry.
	MicromambaSHA256ByPlatform map[string]string `mapstructure:"micromamba_sha256_by_platform"`
	// `micromamba_path` per platform, for air-gapped builds of several architectures (the
	// builder's `platforms`, or AMIs of both: the provisioner uploads every platform's file and
	// the target installs the one of its `uname -m`). Validation reads the ELF header of each
	// supplied executable, these and the tools' own `*_path` for each platform it goes to, and
	// refuses one of another architecture; scripts (`#!`) have none.
	MicromambaPathByPlatform map[string]string `mapstructure:"micromamba_path_by_platform"`
	// Download URL of uv: the release `.tar.gz` or a bare binary. Requires `uv_sha256`.
	// Defaults to a pinned release for the target's architecture.
	UVURL string `mapstructure:"uv_url"`
	// SHA-256 of the file at `uv_url`, 64 hex digits.
	UVSHA256 string `mapstructure:"uv_sha256"`
	// Local uv to upload instead of downloading one (air-gapped builds), of the target's
	// architecture: the binary, or the release `.tar.gz` as `uv_url` takes it (unpacked on the
	// target); other archives are refused.
	UVPath string `mapstructure:"uv_path"`
	// `uv_url` per platform, with `uv_sha256_by_platform`; see `micromamba_url_by_platform`.
	UVURLByPlatform map[string]string `mapstructure:"uv_url_by_platform"`
	// `uv_sha256` per platform.
	UVSHA256ByPlatform map[string]string `mapstructure:"uv_sha256_by_platform"`
	// `uv_path` per platform (the binary or the release `.tar.gz`, whose `uv` is checked); see
	// `micromamba_path_by_platform`.
	UVPathByPlatform map[string]string `mapstructure:"uv_path_by_platform"`
	// Conda channel for Python and Poetry: a name, found under `channel_alias`, or an http(s)
	// URL without credentials (micromamba takes it on its command line). Defaults to
	// `conda-forge`.
	CondaChannel string `mapstructure:"conda_channel"`
	// With `python_source = "uv"`: a mirror of python-build-standalone's GitHub releases
	// (`UV_PYTHON_INSTALL_MIRROR`), for air-gapped builds: uv downloads
	// `<mirror>/<release>/<file>` and checks it against the SHA-256 it was released with.
	// Credentials in the URL are kept out of every artifact, as `index_url`'s.
	PythonInstallMirror string `mapstructure:"python_install_mirror"`
	// With `python_source = "uv"`: the URL (or an absolute path on the target) of a JSON list
	// of Python downloads in uv's `download-metadata.json` format
	// (`UV_PYTHON_DOWNLOADS_JSON_URL`), replacing uv's own: for builds of Python of your own,
	// each with its URL and SHA-256.
	PythonDownloadsJSONURL string `mapstructure:"python_downloads_json_url"`
	// Conda channel alias, for a mirror of conda-forge (for example an Artifactory remote).
	// Credentials in the URL are never printed, put on a command line or kept on the target.
	ChannelAlias string `mapstructure:"channel_alias"`
	// Python package index for the dependency install. Credentials in the URL are never
	// printed.
	IndexURL string `mapstructure:"index_url"`
	// Extra Python package indexes.
	ExtraIndexURLs []string `mapstructure:"extra_index_urls"`
	// Packages installed with the source that its metadata does not carry. Defaults to
	// `["jupyterlab", "notebook", "flake8"]`; set `[]` for none.
	ExtraPipPackages []string `mapstructure:"extra_pip_packages"`
	// Byte-compile the agent-server's venv when installing it (`runtime = "agent-server"`), so
	// the server starts without compiling its modules first. Defaults to true. False saves the
	// compile of an emulated build (an image of another architecture under QEMU compiles many
	// times slower: minutes on two cores) at the cost of a slower first start of each
	// container, which compiles what it imports.
	AgentServerCompileBytecode *bool `mapstructure:"agent_server_compile_bytecode"`
	// Pin the dependency install to the checkout's `poetry.lock`, without running Poetry: uv
	// installs the locked version of every package of `lock_groups`, through a constraints file
	// generated from the lock. Defaults to true when `source_dir` holds a lock file. Locks
	// of Poetry 2 and of Poetry 1.5 to 1.8 (format 2.0, whose groups are read from
	// `pyproject.toml` and the lock's graph) are read. A
	// `poetry.lock` whose `content-hash` does not match `pyproject.toml` fails validation;
	// `uv.lock` is not read yet and is refused. `false` resolves `pyproject.toml` afresh from
	// the index, as the design document's workaround did.
	UseLock *bool `mapstructure:"use_lock"`
	// Groups of `poetry.lock` that are pinned and installed. Defaults to `["main", "runtime"]`,
	// the groups upstream installed (`poetry install --only main,runtime`), or those of them
	// the lock has (`["main"]` for a project without a runtime group); the direct
	// requirements of each group other than `main` are installed with the source.
	LockGroups []string `mapstructure:"lock_groups"`
	// Write the `sha256` hashes of `poetry.lock` into the constraints, so that uv, which
	// verifies supplied hashes, checks each locked package's download against them. Defaults
	// to true.
	LockVerifyHashes *bool `mapstructure:"lock_verify_hashes"`
	// Download URL of the openvscode-server release tarball. Defaults to the release OpenHands
	// pins (`openvscode-server-v1.98.2`) for the target's architecture.
	VSCodeServerURL string `mapstructure:"vscode_server_url"`
	// SHA-256 of the openvscode-server tarball, 64 hex digits. Required for a download: the
	// project publishes no checksums, so none is pinned. Without `vscode_server_url` it is the
	// checksum of the default release for the target's architecture:
	// `openvscode-server-v1.98.2-linux-x64.tar.gz` on x86_64, `-linux-arm64.tar.gz` on arm64
	// (Graviton, an arm64 Docker host), from the project's GitHub releases: take the
	// `sha256sum` of a copy you trust.
	VSCodeServerSHA256 string `mapstructure:"vscode_server_sha256"`
	// Local openvscode-server release tarball (`.tar.gz`) to upload instead of downloading one
	// (air-gapped builds).
	VSCodeServerPath string `mapstructure:"vscode_server_path"`
	// `vscode_server_url` per platform, with `vscode_server_sha256_by_platform`; see
	// `micromamba_url_by_platform`.
	VSCodeServerURLByPlatform map[string]string `mapstructure:"vscode_server_url_by_platform"`
	// SHA-256 of the openvscode-server tarball per platform, required for a build of several
	// architectures that downloads the default release: each downloads its own architecture's
	// (`openvscode-server-v1.98.2-linux-x64.tar.gz` for `linux/amd64`, `-linux-arm64.tar.gz` for
	// `linux/arm64`), and the project publishes no checksums: take each `sha256sum` of a copy you
	// trust. A platform not listed takes `vscode_server_sha256`, which the builder refuses to
	// give platforms of two architectures.
	VSCodeServerSHA256ByPlatform map[string]string `mapstructure:"vscode_server_sha256_by_platform"`
	// `vscode_server_path` per platform; see `micromamba_path_by_platform`. Validation checks
	// the `node` executable at the tarball's top directory, as the releases have it.
	VSCodeServerPathByPlatform map[string]string `mapstructure:"vscode_server_path_by_platform"`
	// Download URL of tini, the agent-server image's init, where the base has no `tini` on its
	// PATH and no package of it (Amazon Linux 2023): the static binary. Requires `tini_sha256`.
	// Defaults to tini v0.19.0's `tini-static-amd64` or `-arm64`, checked against pinned sums.
	// Only for `runtime = "agent-server"`.
	TiniURL string `mapstructure:"tini_url"`
	// SHA-256 of the file at `tini_url`, 64 hex digits.
	TiniSHA256 string `mapstructure:"tini_sha256"`
	// Local tini binary (static, of the target's architecture) to upload instead of downloading
	// one (air-gapped builds).
	TiniPath string `mapstructure:"tini_path"`
	// `tini_url` per platform, with `tini_sha256_by_platform`; see `micromamba_url_by_platform`.
	TiniURLByPlatform map[string]string `mapstructure:"tini_url_by_platform"`
	// `tini_sha256` per platform.
	TiniSHA256ByPlatform map[string]string `mapstructure:"tini_sha256_by_platform"`
	// `tini_path` per platform; see `micromamba_path_by_platform`.
	TiniPathByPlatform map[string]string `mapstructure:"tini_path_by_platform"`
	// Download URL of the Node.js release tarball (`.tar.gz`) that `install_nodejs` installs.
	// Requires `nodejs_sha256`. Defaults to Node.js v22.14.0's `node-v22.14.0-linux-x64.tar.gz`
	// or `-linux-arm64.tar.gz` from nodejs.org, the release upstream's agent-server image
	// installs, checked against the sums of its SHASUMS256.txt.
	NodeJSURL string `mapstructure:"nodejs_url"`
	// SHA-256 of the tarball at `nodejs_url`, 64 hex digits.
	NodeJSSHA256 string `mapstructure:"nodejs_sha256"`
	// Local Node.js release tarball (`.tar.gz`, as nodejs.org publishes it) to upload instead
	// of downloading one (air-gapped builds).
	NodeJSPath string `mapstructure:"nodejs_path"`
	// `nodejs_url` per platform, with `nodejs_sha256_by_platform`; see
	// `micromamba_url_by_platform`.
	NodeJSURLByPlatform map[string]string `mapstructure:"nodejs_url_by_platform"`
	// `nodejs_sha256` per platform.
	NodeJSSHA256ByPlatform map[string]string `mapstructure:"nodejs_sha256_by_platform"`
	// `nodejs_path` per platform; see `micromamba_path_by_platform`. Validation checks the
	// tarball's `bin/node`.
	NodeJSPathByPlatform map[string]string `mapstructure:"nodejs_path_by_platform"`
	// In container images, the runtime user takes UID and GID 1000 (or `uid`), as OpenHands'
	// launcher expects (`--user-id 1000`): a base-image user or group holding that id (`pn` in
	// `nikolaik/python-nodejs`, `ubuntu` in `ubuntu:24.04`) is removed first. Set true to keep
	// it; the runtime user then takes the next free id. The login user of a machine (the user
	// Packer connects as, such as `ec2-user`) is never removed. Defaults to false.
	KeepUIDOwner bool `mapstructure:"keep_uid_owner"`
	// Give the runtime user passwordless sudo through `/etc/sudoers.d/<user>`. Defaults to true.
	PasswordlessSudo *bool `mapstructure:"passwordless_sudo"`
	// Set `SKIP_VSCODE_BUILD` for the dependency install, so the source's VS Code extension
	// build is skipped. Defaults to true.
	SkipVSCodeBuild *bool `mapstructure:"skip_vscode_build"`
	// `KEY=value` pairs exported to every step of the plan. A value holding a URL with
	// credentials (`HTTPS_PROXY=http://user:password@proxy.internal:3128`) is kept secret as
	// `secret_environment_vars` are, its password hidden in the output (the builder refuses
	// it). The plan's own variables (`OH_*`, `PATH`, `MAMBA_ROOT_PREFIX`, ...) and those that
	// make bash or the loader run other code (`BASH_ENV`, `LD_*`, ...) are refused.
	EnvironmentVars []string `mapstructure:"environment_vars"`
	// `KEY=value` pairs exported to every step of the plan like `environment_vars`, whose values
	// are secrets (a proxy password, a token): they travel only on the plan's standard input
	// into its root-only secrets file, never in the uploaded plan or on a command line, and are
	// replaced by `****` in the build's output and log. The `openhands-runtime` builder refuses
	// them, since an image keeps whatever its build reads.
	SecretEnvironmentVars []string `mapstructure:"secret_environment_vars"`
	// How many times a network command (download, package install) is retried, with growing
	// pauses. Defaults to 3; 0 disables retries. (Packer's own `max_retries` on the provisioner
	// block re-runs the whole plan instead; finished steps are then skipped.)
	NetworkRetries *int `mapstructure:"network_retries"`
	// How long a download may take to connect before the attempt fails (a duration such as
	// `"30s"`). Defaults to `30s`.
	DownloadConnectTimeout time.Duration `mapstructure:"download_connect_timeout"`
	// How long a download may go without receiving a byte before the attempt fails, so a
	// stalled mirror fails the step instead of holding it (then `network_retries` applies).
	// Defaults to `60s`.
	DownloadStallTimeout time.Duration `mapstructure:"download_stall_timeout"`
	// Free disk space, in GiB, required on the prefix's filesystem. Defaults to 5; 0 skips
	// the check.
	MinFreeDiskGB *int `mapstructure:"min_free_disk_gb"`
	// Skip the verification checks.
	SkipVerify bool `mapstructure:"skip_verify"`

	// sumFrom names, by tool, the option a tool's sum was taken from when it is not the
	// tool's own <name>_sha256 (SumFrom).
	sumFrom map[string]string
	// targets are the engine platforms the options go to when the component knows them (the
	// builder's; "" for the engine's own), set with SetTargets; nil for a target that tells its
	// own (the provisioner's, by `uname -m`).
	targets []string
}

// Layout says where a runtime is and how it is checked: what every component that installs,
// finds or verifies a runtime needs. Components embed it, so an option means the same thing
// everywhere; a runtime records it (Record), so a later verification uses what it was built
// with.
type Layout struct {
	// The OpenHands runtime to install: `action-server`, the runtime of OpenHands 0.62 and
	// older (an OpenHands checkout in `source_dir`, started by OpenHands' DockerRuntime), or
	// `agent-server`, the sandbox of OpenHands V1 (the software-agent-sdk's packages at
	// `agent_server_version`, started by the SDK's `DockerWorkspace` or the V1 app). Defaults to
	// `action-server`.
	Runtime string `mapstructure:"runtime" json:"runtime,omitempty"`
	// Version of the agent-server to install (`runtime = "agent-server"`), such as `1.58.2`:
	// `openhands-agent-server`, `openhands-sdk`, `openhands-tools` and `openhands-workspace`
	// at that version from `index_url`. Required for the agent-server, unless `source_dir` is a
	// software-agent-sdk checkout, whose version it then must equal.
	AgentServerVersion string `mapstructure:"agent_server_version" json:"agent_server_version,omitempty"`
	// Port the agent-server's systemd unit listens on, on machines with systemd (AMIs). Images
	// take the port from their launcher (`--port`). Defaults to 8000.
	AgentServerPort *int `mapstructure:"agent_server_port" json:"agent_server_port,omitempty"`
	// Install prefix on the target, a directory of the runtime's own that the runtime user
	// will own: an absolute path of letters, digits, `.`, `_`, `-` and `/`, not a system
	// directory such as `/usr/local` or `/opt`. Defaults to `/openhands`.
	Prefix string `mapstructure:"prefix" json:"prefix"`
	// Name of the user (and group) that owns the runtime; not a system or login account
	// (`root`, `ec2-user`, `ubuntu`, ...). Defaults to `openhands`.
	User string `mapstructure:"user" json:"user"`
	// Name of the micromamba environment. Defaults to `openhands`.
	EnvName string `mapstructure:"env_name" json:"env_name"`
	// Python version of the environment, `major.minor`. Defaults to `3.12`.
	PythonVersion string `mapstructure:"python_version" json:"python_version"`
	// Where the agent-server's Python comes from: `micromamba` (the micromamba environment,
	// from conda-forge or `channel_alias`) or `uv` (`uv python install`: a
	// python-build-standalone build at `<prefix>/python`, from GitHub, `python_install_mirror`
	// or `python_downloads_json_url`). Either way the base image's Python never matters. Only
	// for `runtime = "agent-server"`. Defaults to `micromamba`.
	PythonSource string `mapstructure:"python_source" json:"python_source"`
	// Install Playwright's Chromium for the browser tool (for `openhands-ecr`, of an image
	// without a record of its build: the image has it, so the checks look for it). Defaults to
	// true.
	InstallBrowser *bool `mapstructure:"install_browser" json:"install_browser"`
	// Shared Playwright browser directory. Defaults to `/opt/playwright-browsers`.
	PlaywrightBrowsersPath string `mapstructure:"playwright_browsers_path" json:"playwright_browsers_path"`
	// Install openvscode-server, which OpenHands' `vscode` plugin starts, at
	// `<prefix>/.openvscode-server` (for `openhands-ecr`, of an image without a record of its
	// build: the image has it, so the checks look for it). Defaults to true.
	InstallVSCodeServer *bool `mapstructure:"install_vscode_server" json:"install_vscode_server"`
	// Install Node.js 22 at `<prefix>/nodejs`, on the runtime's PATH (`node`, `npm`, `npx`),
	// as upstream's agent-server image has it for the agent's ACP servers and JavaScript work.
	// Only for `runtime = "agent-server"`. Defaults to false.
	InstallNodeJS *bool `mapstructure:"install_nodejs" json:"install_nodejs"`
	// Checks run on the finished runtime.
	Verify Verify `mapstructure:"verify" json:"verify"`
}

// Verify configures the checks that decide whether a runtime is usable.
type Verify struct {
	// Python modules that must import with the environment's Python. Defaults to `pydantic`,
	// `openai`, `litellm` and `openhands.core.config`.
	Imports []string `mapstructure:"imports" json:"imports"`
	// Least number of Python distributions installed. Defaults to 300.
	MinPackages *int `mapstructure:"min_packages" json:"min_packages"`
	// Extra shell commands, run as the runtime user, that must exit 0.
	Commands []string `mapstructure:"commands" json:"commands"`
	// Check that the runtime starts the way OpenHands launches it: the launcher's own command
	// prefix (`micromamba run -n <env> poetry run python -u -m
	// openhands.runtime.action_execution_server --help`) as root with only the launch
	// environment, openvscode-server, the Jupyter kernel gateway and the runtime user's tools.
	// Defaults to true.
	Launch *bool `mapstructure:"launch" json:"launch"`
	// Also start the action execution server with its plugins on a free port inside the target
	// and wait for `GET /alive` to answer 200. Defaults to false.
	StartServer *bool `mapstructure:"start_server" json:"start_server"`
	// How long `start_server` waits for `/alive`, in seconds. Defaults to 120.
	StartServerTimeout *int `mapstructure:"start_server_timeout" json:"start_server_timeout"`
}

// Default values, exported for docs and tests.
const (
	DefaultPrefix                 = "/openhands"
	DefaultUser                   = "openhands"
	DefaultUID                    = 1000
	DefaultAgentServerUID         = 10001
	DefaultEnvName                = "openhands"
	DefaultPythonVersion          = "3.12"
	DefaultCondaChannel           = "conda-forge"
	DefaultPlaywrightBrowsersPath = "/opt/playwright-browsers"
	DefaultNetworkRetries         = 3
	DefaultDownloadConnectTimeout = 30 * time.Second
	DefaultDownloadStallTimeout   = 60 * time.Second
	DefaultMinFreeDiskGB          = 5
	DefaultMinPackages            = 300
	DefaultStartServerTimeout     = 120
	PlatformAuto                  = "auto"
)

// DefaultExtraPipPackages is the runtime group that package metadata never carries.
var DefaultExtraPipPackages = []string{"jupyterlab", "notebook", "flake8"}

// DefaultImports are the modules a usable runtime must import (the design document checked
// these by hand after each install). The config module, not a class, is
// imported: the class was renamed AppConfig -> OpenHandsConfig in 2025.
var DefaultImports = []string{"pydantic", "openai", "litellm", "openhands.core.config"}

// SHA256Pattern is a SHA-256 sum as the options take it: 64 hexadecimal digits.
var SHA256Pattern = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

var (
	namePattern     = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	envNamePattern  = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	pythonPattern   = regexp.MustCompile(`^3\.([0-9]{1,2})$`)
	pathPattern     = regexp.MustCompile(`^/[A-Za-z0-9._/-]*$`)
	envVarPattern   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	packagePattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9+._-]*$`)
	requirePattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?([<>=!~]=?[A-Za-z0-9.*+!-]+(,[<>=!~]=?[A-Za-z0-9.*+!-]+)*)?$`)
	moduleNamespace = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)
)

// knownPythonMinors are the Python 3 minor versions the plan can ask for: released ones, and
// 3.15 due in October 2026.
var knownPythonMinors = []string{"9", "10", "11", "12", "13", "14", "15"}

// systemAccounts are accounts of the base systems and of the cloud images' logins (Packer's
// SSH user on EC2) that the plan must never take as its runtime user.
var systemAccounts = map[string]bool{
	"root": true, "daemon": true, "bin": true, "sys": true, "sync": true, "games": true, "man": true,
	"lp": true, "mail": true, "news": true, "uucp": true, "proxy": true, "www-data": true,
	"backup": true, "list": true, "irc": true, "gnats": true, "nobody": true, "_apt": true,
	"sshd": true, "messagebus": true, "systemd-network": true, "systemd-resolve": true,
	"systemd-timesync": true, "adm": true, "halt": true, "shutdown": true, "operator": true,
	"ftp": true, "ec2-user": true, "ubuntu": true, "admin": true,
}

// systemDirectory tells whether dir is a directory of the system that the plan must not own:
// one of the top-level directories, the usual shared ones, or anything under the kernel's and
// the system's own trees.
func systemDirectory(dir string) bool {
	switch dir {
	case "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media",
		"/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var",
		"/usr/local", "/usr/bin", "/usr/lib", "/usr/share", "/var/lib", "/var/tmp", "/var/log":
		return true
	}
	for _, tree := range []string{"/proc/", "/sys/", "/dev/", "/etc/", "/boot/", "/run/"} {
		if strings.HasPrefix(dir, tree) {
			return true
		}
	}
	return false
}

// reservedEnvironment are the variables environment_vars and secret_environment_vars may not
// set: the plan's own (rendered before them, they would override the prefix, user and uid
// checks for every root step) and those that make bash or the loader run other code.
func reservedEnvironment(name string) bool {
	if strings.HasPrefix(name, "OH_") || strings.HasPrefix(name, "LD_") || strings.HasPrefix(name, "BASH_FUNC_") {
		return true
	}
	switch name {
	case "PATH", "BASH_ENV", "ENV", "IFS", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND", "CDPATH",
		"GLOBIGNORE", "HOME", "PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP",
		"MAMBA_ROOT_PREFIX", "PLAYWRIGHT_BROWSERS_PATH":
		return true
	}
	return false
}

func boolDefault(b **bool, v bool) {
	if *b == nil {
		*b = &v
	}
}

func intDefault(i **int, v int) {
	if *i == nil {
		*i = &v
	}
}

func stringDefault(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

// SetDefaults fills in the default of every option left unset.
func (o *Options) SetDefaults() {
	o.Layout.SetDefaults()
	stringDefault(&o.Platform, PlatformAuto)
	stringDefault(&o.CondaChannel, DefaultCondaChannel)
	boolDefault(&o.SystemPackages, true)
	boolDefault(&o.PasswordlessSudo, true)
	boolDefault(&o.SkipVSCodeBuild, true)
	intDefault(&o.MinFreeDiskGB, DefaultMinFreeDiskGB)
	intDefault(&o.NetworkRetries, DefaultNetworkRetries)
	if o.DownloadConnectTimeout == 0 {
		o.DownloadConnectTimeout = DefaultDownloadConnectTimeout
	}
	if o.DownloadStallTimeout == 0 {
		o.DownloadStallTimeout = DefaultDownloadStallTimeout
	}
	if o.ExtraPipPackages == nil && o.Runtime != RuntimeAgentServer {
		// The agent-server's packages declare what it needs.
		o.ExtraPipPackages = append([]string(nil), DefaultExtraPipPackages...)
	}
	boolDefault(&o.LockVerifyHashes, true)
	if o.Runtime == RuntimeAgentServer {
		boolDefault(&o.AgentServerCompileBytecode, true)
	}
	if o.UID == nil && o.Runtime == RuntimeAgentServer {
		// Upstream's agent-server image runs as 10001, which launchers and volumes expect.
		uid := DefaultAgentServerUID
		o.UID = &uid
	}
	// use_lock is Poetry's: an agent-server checkout is always pinned by its uv.lock.
	if o.UseLock == nil && o.SourceDir != "" && o.Runtime != RuntimeAgentServer {
		boolDefault(&o.UseLock, hasLockFile(o.SourceDir))
	}
}

// SetDefaults fills in the default of every layout option left unset.
func (l *Layout) SetDefaults() {
	stringDefault(&l.Runtime, RuntimeActionServer)
	runtimeOf(*l).defaults(l)
	stringDefault(&l.Prefix, DefaultPrefix)
	stringDefault(&l.User, DefaultUser)
	stringDefault(&l.EnvName, DefaultEnvName)
	stringDefault(&l.PythonVersion, DefaultPythonVersion)
	stringDefault(&l.PythonSource, PythonSourceMicromamba)
	stringDefault(&l.PlaywrightBrowsersPath, DefaultPlaywrightBrowsersPath)
	boolDefault(&l.InstallBrowser, true)
	boolDefault(&l.InstallVSCodeServer, true)
	boolDefault(&l.InstallNodeJS, false)
	boolDefault(&l.Verify.Launch, true)
	boolDefault(&l.Verify.StartServer, false)
	intDefault(&l.Verify.StartServerTimeout, DefaultStartServerTimeout)
	intDefault(&l.Verify.MinPackages, DefaultMinPackages)
	if l.Verify.Imports == nil {
		l.Verify.Imports = append([]string(nil), DefaultImports...)
	}
}

// Prepare fills in defaults and returns every problem with the options, each naming its
// option, so that `packer validate` reports them all at once.
func (o *Options) Prepare() []error {
	groupsSet := o.LockGroups != nil
	o.SetDefaults()
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if o.AgentServerCompileBytecode != nil && o.Runtime != RuntimeAgentServer {
		add("agent_server_compile_bytecode: set, but runtime is %q; set runtime = %q to build the agent-server, or remove agent_server_compile_bytecode", o.Runtime, RuntimeAgentServer)
	}

	errs = append(errs, runtimeOf(o.Layout).optionErrors(o, groupsSet)...)
	errs = append(errs, o.Layout.Errors()...)
	if o.UID != nil && (*o.UID < 1 || *o.UID > 60000) {
		// 0 is root's id: a runtime user with it would be root under another name.
		add("uid: %d is out of range (1-60000, or leave unset for 1000 or the next free id)", *o.UID)
	}
	if o.Platform != PlatformAuto {
		if _, ok := PlatformByKey(o.Platform); !ok {
			add("platform: %q is not supported; use \"auto\" or one of %s", o.Platform, strings.Join(PlatformKeys(), ", "))
		}
	}
	if !*o.SystemPackages && len(o.ExtraSystemPackages) > 0 {
		add("extra_system_packages: set, but system_packages = false leaves the package step out of the plan; remove one of them")
	}
	for i, p := range o.ExtraSystemPackages {
		if !packagePattern.MatchString(p) {
			add("extra_system_packages[%d]: %q is not a package name", i, p)
		}
	}
	for _, t := range Tools {
		errs = append(errs, t.errors(*o)...)
	}
	errs = append(errs, o.pythonSourceErrors()...)
	switch {
	case hasCredentials(o.CondaChannel):
		// The channel is an argument of micromamba install, which ps shows to every user.
		add("conda_channel: %q carries credentials, which micromamba's command line would show: put the host with its "+
			"credentials in channel_alias and name the channel here, such as channel_alias = \"https://user:token@conda.internal/api\" "+
			"with conda_channel = \"conda-forge\"", RedactURL(o.CondaChannel))
	case !packagePattern.MatchString(o.CondaChannel) && checkURL(o.CondaChannel) != nil:
		add("conda_channel: %q is neither a channel name nor an http(s) URL", RedactURL(o.CondaChannel))
	}
	if o.ChannelAlias != "" {
		if err := checkURL(o.ChannelAlias); err != nil {
			add("channel_alias: %s", err)
		}
	}
	if o.IndexURL != "" {
		if err := checkURL(o.IndexURL); err != nil {
			add("index_url: %s", err)
		}
	}
	for i, u := range o.ExtraIndexURLs {
		if err := checkURL(u); err != nil {
			add("extra_index_urls[%d]: %s", i, err)
		}
	}
	for i, p := range o.ExtraPipPackages {
		if !requirePattern.MatchString(p) {
			add("extra_pip_packages[%d]: %q is not a requirement such as \"flake8\" or \"notebook>=7\"", i, p)
		}
	}
	for i, kv := range o.EnvironmentVars {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case !envVarPattern.MatchString(kv):
			add("environment_vars[%d]: %q must be KEY=value with KEY a shell variable name", i, RedactURL(kv))
		case reservedEnvironment(name):
			add("environment_vars[%d]: %s is set by the plan itself or changes what bash and the loader run; set the plan's option instead (prefix, user, ...) or leave it out", i, name)
		case controlCharacter(kv) >= 0:
			add("environment_vars[%d]: the value of %s holds the control character %U, which bash cannot keep (NUL) or mangles; remove it", i, name, controlCharacter(kv))
		}
	}
	public := map[string]bool{}
	for _, e := range o.environment() {
		public[e.Name] = public[e.Name] || !e.Marked
	}
	for i, kv := range o.SecretEnvironmentVars {
		// The value is never shown: it is a secret whatever it looks like.
		name, _, ok := strings.Cut(kv, "=")
		switch {
		case !ok || !envVarPattern.MatchString(kv):
			add("secret_environment_vars[%d]: must be KEY=value with KEY a shell variable name", i)
		case reservedEnvironment(name):
			add("secret_environment_vars[%d]: %s is set by the plan itself or changes what bash and the loader run; leave it out", i, name)
		case controlCharacter(kv) >= 0:
			add("secret_environment_vars[%d]: the value of %s holds a control character, which bash cannot keep (NUL) or mangles; remove it", i, name)
		case public[name]:
			add("secret_environment_vars[%d]: %s is also set in environment_vars; set it in one of them", i, name)
		}
	}
	errs = append(errs, o.Layout.secretsIn(o.Secrets())...)
	if *o.NetworkRetries < 0 || *o.NetworkRetries > 20 {
		add("network_retries: %d is out of range (0-20)", *o.NetworkRetries)
	}
	for _, d := range []struct {
		option string
		value  time.Duration
	}{{"download_connect_timeout", o.DownloadConnectTimeout}, {"download_stall_timeout", o.DownloadStallTimeout}} {
		if d.value < time.Second || d.value > time.Hour {
			add("%s: %s is out of range: set a duration from 1s to 1h, such as \"60s\"", d.option, d.value)
		}
	}
	if *o.MinFreeDiskGB < 0 {
		add("min_free_disk_gb: %d must not be negative", *o.MinFreeDiskGB)
	}
	return errs
}

// Errors checks the layout options, each error naming its option. Defaults must have been set.
func (o *Layout) Errors() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, p := range []struct{ name, value string }{
		{"prefix", o.Prefix},
		{"playwright_browsers_path", o.PlaywrightBrowsersPath},
	} {
		switch {
		case !pathPattern.MatchString(p.value) || filepath.Clean(p.value) != p.value || p.value == "/":
			// The path lands unquoted in Dockerfile instructions, whose words split on any
			// Unicode space, and in shell: only the characters of ordinary paths.
			add("%s: %q must be an absolute, clean path of letters, digits, '.', '_', '-' and '/', other than /", p.name, p.value)
		case systemDirectory(p.value):
			// The directories step gives the prefix to the runtime user (and would reset /tmp's mode).
			add("%s: %q is a system directory, which the plan would hand to the runtime user; use a directory of its own, such as %q", p.name, p.value, path.Join(p.value, "openhands"))
		}
	}
	switch {
	case !namePattern.MatchString(o.User):
		add("user: %q is not a valid user name (lower case letters, digits, _ and -, at most 32)", o.User)
	case systemAccounts[o.User]:
		add("user: %q is a system or login account, which the plan must never take over (it changes the user's groups, sudo rights and home); name a user of the runtime's own, such as %q", o.User, DefaultUser)
	}
	if !envNamePattern.MatchString(o.EnvName) || strings.HasPrefix(o.EnvName, ".") || strings.HasPrefix(o.EnvName, "-") {
		add("env_name: %q may hold only letters, digits, '.', '_' and '-', and starts with a letter, digit or '_'", o.EnvName)
	}
	if m := pythonPattern.FindStringSubmatch(o.PythonVersion); m == nil || !slices.Contains(knownPythonMinors, m[1]) {
		add("python_version: %q is not a Python release the plan knows (3.%s); set major.minor, for example \"3.12\"", o.PythonVersion, strings.Join(knownPythonMinors, ", 3."))
	}
	errs = append(errs, o.runtimeErrors()...)
	for i, m := range o.Verify.Imports {
		if !moduleNamespace.MatchString(m) {
			add("verify.imports[%d]: %q is not a Python module name", i, m)
		}
	}
	if *o.Verify.StartServerTimeout < 1 {
		add("verify.start_server_timeout: %d must be at least 1 (seconds)", *o.Verify.StartServerTimeout)
	}
	if *o.Verify.MinPackages < 0 {
		add("verify.min_packages: %d must not be negative", *o.Verify.MinPackages)
	}
	for i, c := range o.Verify.Commands {
		if strings.TrimSpace(c) == "" {
			add("verify.commands[%d]: the command is empty", i)
		}
	}
	return errs
}

// checkArtifact validates one of the url+sha256 / local path pairs, named by their options
// (<name>_path, <name>_url, <name>_sha256, or one platform's entries of their maps).
func checkArtifact(pathOption, urlOption, sumOption, rawURL, sum, path string) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch {
	case path != "" && (rawURL != "" || sum != ""):
		add("%s: set either %s or %s with %s, not both", pathOption, pathOption, urlOption, sumOption)
	case path != "":
		if fi, err := os.Stat(path); err != nil {
			add("%s: %s", pathOption, statMessage(err))
		} else if !fi.Mode().IsRegular() {
			add("%s: %q is not a regular file", pathOption, path)
		}
	case rawURL != "" || sum != "":
		if rawURL == "" {
			add("%s: required when %s is set", urlOption, sumOption)
		} else if err := checkURL(rawURL); err != nil {
			add("%s: %s", urlOption, err)
		}
		if sum == "" {
			add("%s: required with %s, so the download can be checked", sumOption, urlOption)
		} else if !SHA256Pattern.MatchString(sum) {
			add("%s: %q is not 64 hexadecimal digits", sumOption, sum)
		}
	}
	return errs
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", RedactURL(raw))
	}
	if strings.ContainsAny(raw, " \t\n'\"`\\") {
		return fmt.Errorf("%q must not contain spaces, quotes or backslashes", RedactURL(raw))
	}
	return nil
}

func checkSourceDir(dir string) []error {
	if dir == "" {
		return []error{errors.New("source_dir: required: set it to the local OpenHands checkout (the directory holding pyproject.toml)")}
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return []error{fmt.Errorf("source_dir: %s", statMessage(err))}
	}
	if !fi.IsDir() {
		return []error{fmt.Errorf("source_dir: %q is not a directory", dir)}
	}
	if _, err := os.Stat(filepath.Join(dir, "pyproject.toml")); err != nil {
		return []error{fmt.Errorf("source_dir: %q holds no pyproject.toml; point it at the root of an OpenHands checkout", dir)}
	}
	// The source listing ships regular files only: a linked project file would be validated
	// here and missing on the target.
	var errs []error
	for _, name := range []string{"pyproject.toml", PoetryLockFile} {
		if fi, err := os.Lstat(filepath.Join(dir, name)); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			errs = append(errs, fmt.Errorf("source_dir: %s in %q is a symbolic link, which the plan does not ship; replace the link with the file", name, dir))
		}
	}
	return errs
}

func statMessage(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		if os.IsNotExist(err) {
			return fmt.Sprintf("%q does not exist", pe.Path)
		}
		return fmt.Sprintf("%q: %v", pe.Path, pe.Err)
	}
	return err.Error()
}

// RedactURL hides the password of a URL's user info, so a URL can be shown in messages.
// A string that does not parse as a URL with user info (a typo in an option, a URL without
// its scheme) but holds an '@' loses everything up to its last '@' instead, since that may
// be a password too: such strings are exactly the ones shown in validation errors.
func RedactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && len(queryCredentials(u.RawQuery)) > 0 {
		raw = strings.Replace(raw, "?"+u.RawQuery, "?"+redactQuery(u.RawQuery), 1)
	}
	u, err := url.Parse(raw)
	if err == nil && u.User != nil {
		if _, hasPassword := u.User.Password(); !hasPassword {
			u.User = url.User("xxxxx") // a token passed as the user name
			return u.String()
		}
		return u.Redacted()
	}
	if err == nil && !strings.Contains(u.Opaque, "@") {
		return raw
	}
	at := strings.LastIndex(raw, "@")
	if at < 0 {
		return raw
	}
	start := 0
	if i := strings.Index(raw, "://"); i >= 0 && i < at {
		start = i + len("://")
	}
	return raw[:start] + "xxxxx" + raw[at:]
}

// hasCredentials tells whether a URL carries credentials: user info (a user, a password or a
// token), or a query parameter that holds one (credentialParameters).
func hasCredentials(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.User != nil || len(queryCredentials(u.RawQuery)) > 0)
}

// credentialParameters are the query parameters that carry a credential: tokens and keys by
// their usual names, and the signatures, credentials and session tokens of presigned S3,
// Google Cloud Storage and Azure (SAS) URLs. Lower case; parameters are compared so.
var credentialParameters = map[string]bool{
	"token": true, "access_token": true, "auth": true, "auth_token": true, "api_key": true, "apikey": true,
	"key": true, "password": true, "passwd": true, "secret": true, "client_secret": true,
	"sig": true, "signature": true, "x-amz-signature": true, "x-amz-credential": true,
	"x-amz-security-token": true, "x-goog-signature": true, "x-goog-credential": true,
}

// queryCredentials returns the values of a raw query's credential parameters, as written and,
// where it differs, decoded.
func queryCredentials(rawQuery string) []string {
	var out []string
	for _, pair := range strings.Split(rawQuery, "&") {
		k, v, ok := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if !ok || v == "" || err != nil || !credentialParameters[strings.ToLower(key)] {
			continue
		}
		out = append(out, v)
		if decoded, err := url.QueryUnescape(v); err == nil && decoded != v {
			out = append(out, decoded)
		}
	}
	return out
}

// redactQuery is a raw query with the values of its credential parameters replaced.
func redactQuery(rawQuery string) string {
	pairs := strings.Split(rawQuery, "&")
	for i, pair := range pairs {
		k, v, ok := strings.Cut(pair, "=")
		if key, err := url.QueryUnescape(k); ok && v != "" && err == nil && credentialParameters[strings.ToLower(key)] {
			pairs[i] = k + "=xxxxx"
		}
	}
	return strings.Join(pairs, "&")
}

// credentialURL finds the scheme and user info of the URLs with credentials in a value, such
// as the proxy of HTTPS_PROXY=http://user:password@proxy:3128.
var credentialURL = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#]+@`)

// anyURL finds the URLs in a value, for their query credentials.
var anyURL = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s'"]+`)

// holdsCredentialURL tells whether a value holds a URL with credentials.
func holdsCredentialURL(v string) bool {
	if credentialURL.MatchString(v) {
		return true
	}
	for _, u := range anyURL.FindAllString(v, -1) {
		if hasCredentials(u) {
			return true
		}
	}
	return false
}

// HoldsCredentials tells whether a value holds a URL with credentials (user info or query
// credentials), such as a proxy's http://user:password@proxy:3128.
func HoldsCredentials(value string) bool { return holdsCredentialURL(value) }

// CredentialOptions names the options whose URL carries credentials, for messages, the
// environment_vars entries holding such a URL included.
func (o *Options) CredentialOptions() []string {
	var out []string
	for _, u := range o.urlOptions() {
		if hasCredentials(u.url) {
			out = append(out, u.name)
		}
	}
	for i, e := range o.environment()[:len(o.EnvironmentVars)] {
		if e.Secret() {
			out = append(out, fmt.Sprintf("environment_vars[%d]", i))
		}
	}
	return out
}

// redactURLs is RedactURL of each URL, space-separated.
func redactURLs(urls []string) string {
	out := make([]string, len(urls))
	for i, u := range urls {
		out[i] = RedactURL(u)
	}
	return strings.Join(out, " ")
}

// Secrets returns the secrets the options hold: for output filters, and what the plan keeps
// out of every script, layer and file that outlives the build. They are the credentials of
// the URL options, the values of secret_environment_vars and the credentials of the URLs in
// environment_vars.
func (o *Options) Secrets() []string {
	var out []string
	for _, u := range o.urlOptions() {
		out = append(out, urlSecrets(u.url)...)
	}
	for _, e := range o.environment() {
		if e.Marked && e.Value != "" {
			out = append(out, e.Value)
		}
		for _, u := range credentialURL.FindAllString(e.Value, -1) {
			s := userInfoSecrets(u + "host")
			if s == nil { // user info that does not parse: all of it
				_, userInfo, _ := strings.Cut(strings.TrimSuffix(u, "@"), "://")
				s = []string{userInfo}
			}
			out = append(out, s...)
		}
		for _, u := range anyURL.FindAllString(e.Value, -1) {
			if parsed, err := url.Parse(u); err == nil {
				out = append(out, queryCredentials(parsed.RawQuery)...)
			}
		}
	}
	return out
}

// urlSecrets are the credentials a URL carries: its user info's secret and the values of its
// credential query parameters.
func urlSecrets(raw string) []string {
	out := userInfoSecrets(raw)
	if u, err := url.Parse(raw); err == nil {
		out = append(out, queryCredentials(u.RawQuery)...)
	}
	return out
}

// userInfoSecrets returns the secret of a URL's user info: its password, also as written
// when that differs, or a token passed as the user name.
func userInfoSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return nil
	}
	if p, ok := u.User.Password(); ok && p != "" {
		// Output may show the password as written in the URL, percent-encoded.
		if _, encoded, _ := strings.Cut(u.User.String(), ":"); encoded != p {
			return []string{p, encoded}
		}
		return []string{p}
	}
	if name := u.User.Username(); name != "" {
		return []string{name} // a token passed as the user name
	}
	return nil
}

// controlCharacter is the first control character of s other than tab and newline (NUL, which
// bash drops, \x01 and \x7f, which it uses inside), or -1.
func controlCharacter(s string) rune {
	for _, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n') || r == 0x7f {
			return r
		}
	}
	return -1
}
