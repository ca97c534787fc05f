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

	"github.com/openhands-runtime/packer-plugin-openhands/plan/projectfile"
)

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
		} else if err := checkSHA256(sumOption, sum); err != nil {
			errs = append(errs, err)
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
	for _, name := range []string{"pyproject.toml", projectfile.PoetryLockFile} {
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

// runtimeErrors checks the runtime options of the layout.
func (l *Layout) runtimeErrors() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !slices.Contains(RuntimeNames(), l.Runtime) {
		add("runtime: %q is not a runtime the plugin builds; use \"%s\"", l.Runtime, strings.Join(RuntimeNames(), `" or "`))
		return errs
	}
	if l.Runtime != RuntimeAgentServer {
		for _, set := range []struct {
			option string
			isSet  bool
		}{{"agent_server_version", l.AgentServerVersion != ""}, {"agent_server_port", l.AgentServerPort != nil},
			{"install_nodejs", *l.InstallNodeJS}, {"python_source", l.PythonSource != PythonSourceMicromamba}} {
			if set.isSet {
				add("%s: set, but runtime is %q; set runtime = %q to build the agent-server, or remove %s", set.option, l.Runtime, RuntimeAgentServer, set.option)
			}
		}
		return errs
	}
	if !slices.Contains(pythonSources, l.PythonSource) {
		add("python_source: %q is not a source of Python; use \"%s\"", l.PythonSource, strings.Join(pythonSources, `" or "`))
	}
	if *l.AgentServerPort < 1 || *l.AgentServerPort > 65535 {
		add("agent_server_port: %d is not a TCP port (1-65535)", *l.AgentServerPort)
	}
	switch {
	case l.AgentServerVersion == "":
		add("agent_server_version: required with runtime = %q: the version of openhands-agent-server (and the SDK packages released with it), such as \"1.58.2\"; use the version of the SDK your OpenHands app runs, whose major.minor it checks (or give source_dir, a software-agent-sdk checkout)", RuntimeAgentServer)
	case !releasePattern.MatchString(l.AgentServerVersion):
		add("agent_server_version: %q is not a release version such as \"1.58.2\"", l.AgentServerVersion)
	}
	if m := pythonPattern.FindStringSubmatch(l.PythonVersion); m != nil && len(m[1]) == 1 || m != nil && m[1] < "12" {
		add("python_version: %q is too old for the agent-server, which needs Python 3.12 or later; set \"3.12\" or \"3.13\" (the default)", l.PythonVersion)
	}
	if *l.InstallBrowser {
		add("install_browser: the action server's Playwright browser is not part of the agent-server runtime; remove install_browser")
	}
	return errs
}

// packagedRuntimeErrors checks the options of the agent-server installed from packages: none
// of Poetry's lock options apply.
func (o *Options) packagedRuntimeErrors(groupsSet bool) []error {
	var errs []error
	for _, set := range []struct {
		option string
		isSet  bool
	}{
		{"use_lock", o.UseLock != nil && *o.UseLock},
		{"lock_groups", groupsSet},
	} {
		if set.isSet {
			errs = append(errs, fmt.Errorf("%s: runtime = %q installs released packages at agent_server_version, not a checkout; remove %s", set.option, o.Runtime, set.option))
		}
	}
	return errs
}

// checkSHA256 refuses a sum option's value that is not a SHA-256.
func checkSHA256(sumOption, sum string) error {
	if !projectfile.SHA256Pattern.MatchString(sum) {
		return fmt.Errorf("%s: %q is not 64 hexadecimal digits", sumOption, sum)
	}
	return nil
}
