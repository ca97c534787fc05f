package plan

import "time"

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
