//go:generate go tool packer-sdc struct-markdown
//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Verify

package plan

import (
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
