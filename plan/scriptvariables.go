package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// BundleSecrets is the bundle's file of the variables whose values hold a secret (credentials
// in a URL option, secret environment variables): readable by root only, sourced by plan.sh,
// removed with the bundle.
const BundleSecrets = "secrets.sh"

// variable is one of the script's option variables.
type variable struct {
	name string
	// value is shell-quoted.
	value string
	// secret: the value holds a secret, so only the secrets file has it.
	secret bool
	// env marks a user's environment variable, exported to every step; a plan variable that
	// holds a secret is exported only for the run of the steps that read it (Step.Secrets).
	env bool
}

// SecretsScript renders the variables whose values hold a secret, for BundleSecrets; empty
// when no option holds one.
func (p *Plan) SecretsScript() string {
	var b strings.Builder
	for _, v := range p.variables() {
		switch {
		case v.secret && v.env:
			fmt.Fprintf(&b, "export %s=%s\n", v.name, v.value)
		case v.secret:
			fmt.Fprintf(&b, "%s=%s\n", v.name, v.value)
		}
	}
	return b.String()
}

// envVar is an entry of environment_vars or secret_environment_vars.
type envVar struct {
	Name, Value string
	// Marked: from secret_environment_vars, the whole value a secret.
	Marked bool
}

// Secret tells whether the variable's value holds a secret: it is marked so, or it holds a URL
// with credentials.
func (e envVar) Secret() bool { return e.Marked || holdsCredentialURL(e.Value) }

// environment lists environment_vars, then secret_environment_vars.
func (o *Options) environment() []envVar {
	var out []envVar
	for i, list := range [][]string{o.EnvironmentVars, o.SecretEnvironmentVars} {
		for _, kv := range list {
			name, value, _ := strings.Cut(kv, "=")
			out = append(out, envVar{Name: name, Value: value, Marked: i == 1})
		}
	}
	return out
}

// urlOption is a URL option and the script variable that holds it.
type urlOption struct{ name, variable, url string }

// urlOptions are the options that hold a URL, which may carry credentials.
func (o *Options) urlOptions() []urlOption {
	out := []urlOption{{"index_url", "OH_INDEX_URL", o.IndexURL}, {"channel_alias", "OH_CHANNEL_ALIAS", o.ChannelAlias},
		{"python_install_mirror", "OH_PYTHON_INSTALL_MIRROR", o.PythonInstallMirror},
		{"python_downloads_json_url", "OH_PYTHON_DOWNLOADS_JSON_URL", o.PythonDownloadsJSONURL}}
	for _, t := range Tools {
		url, _, _ := t.values(*o)
		out = append(out, urlOption{t.Name + "_url", t.shellName() + "_URL", url})
		out = append(out, t.platformURLOptions(*o)...)
	}
	for i, u := range o.ExtraIndexURLs {
		out = append(out, urlOption{fmt.Sprintf("extra_index_urls[%d]", i), "OH_EXTRA_INDEX_URLS", u})
	}
	return out
}

// OptionsDigest is the SHA-256 ("sha256:<hex>") of the options as the plan renders them, with
// every secret replaced: the provenance names the options a runtime was built with, and a
// token must not be guessable from it. Options must have been prepared.
func OptionsDigest(o Options) string {
	secrets := o.Secrets()
	h := sha256.New()
	for _, v := range New(o, Inputs{}).variables() {
		if v.secret {
			for _, s := range secrets {
				v.value = strings.ReplaceAll(v.value, s, "xxxxx")
			}
		}
		fmt.Fprintf(h, "%s=%s\n", v.name, v.value)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// renderVariablesAndHelpers writes the exported option variables and the shared helpers. A
// variable whose value holds a secret is not written here: its value is in the plan's secrets
// file (SecretsScript), which the launcher writes from its standard input (SecretsFrame) and
// the plan reads, so no script, bundle or layer ever holds it. A plan
// variable of that kind is set empty first and left unexported: oh_run_step exports it for the
// steps that read it alone.
func (p *Plan) renderVariablesAndHelpers(b *strings.Builder) {
	for _, v := range p.variables() {
		switch {
		case !v.secret:
			fmt.Fprintf(b, "export %s=%s\n", v.name, v.value)
		case !v.env:
			fmt.Fprintf(b, "%s=''\n", v.name)
		}
	}
	fmt.Fprintf(b, `if [ -n "${OH_BUNDLE:-}" ] && [ -f "$OH_BUNDLE/%s" ]; then
	# shellcheck disable=SC1091 # written by the launcher from its standard input
	. "$OH_BUNDLE/%[1]s"
fi
`, BundleSecrets)
	fmt.Fprintf(b, "\n# oh_step_failed NAME CODE: the line that tells the plugin which step failed.\noh_step_failed() { oh_say \"%s\"; }\n", StepFailedLine("$1", "$2"))
	b.WriteString(libShell)
	b.WriteString("\n")
}

// variables are the script's option variables, the user's environment variables last.
func (p *Plan) variables() []variable {
	o := p.Options
	uid := ""
	if o.UID != nil {
		uid = fmt.Sprint(*o.UID)
	}
	vars := [][2]string{
		{"OH_PREFIX", shellQuote(o.Prefix)},
		{"OH_USER", shellQuote(o.User)},
		{"OH_UID", shellQuote(uid)},
		{"OH_ENV", shellQuote(o.EnvName)},
		{"OH_PYTHON_VERSION", shellQuote(o.PythonVersion)},
		{"OH_CODE", `"$OH_PREFIX/` + CodeDir + `"`},
		{"OH_KEEP_UID_OWNER", shellQuote(map[bool]string{true: "1"}[o.KeepUIDOwner])},
		// Stamps live outside the prefix, which belongs to the runtime user entirely.
		{"OH_STAMPS", `"/var/lib/openhands-runtime$OH_PREFIX"`},
		{"OH_STEP_COUNT", fmt.Sprint(len(p.Steps))},
		{"OH_NETWORK_RETRIES", fmt.Sprint(*o.NetworkRetries)},
		{"OH_DOWNLOAD_CONNECT_TIMEOUT", fmt.Sprint(wholeSeconds(o.DownloadConnectTimeout))},
		{"OH_DOWNLOAD_STALL_TIMEOUT", fmt.Sprint(wholeSeconds(o.DownloadStallTimeout))},
		{"OH_MIN_FREE_DISK_GB", fmt.Sprint(*o.MinFreeDiskGB)},
		{"OH_CONDA_CHANNEL", shellQuote(o.CondaChannel)},
		{"OH_CHANNEL_ALIAS", shellQuote(o.ChannelAlias)},
		{"OH_INDEX_URL", shellQuote(o.IndexURL)},
		{"OH_EXTRA_INDEX_URLS", shellQuote(strings.Join(o.ExtraIndexURLs, " "))},
		{"OH_EXTRA_PIP_PACKAGES", shellQuote(strings.Join(o.ExtraPipPackages, " "))},
		// Root steps run the env's Python: root-owned __pycache__ files in site-packages
		// would make the next install as the runtime user fail with "Permission denied" (an
		// install as root leaving files the user cannot replace).
		{"PYTHONDONTWRITEBYTECODE", "1"},
	}
	// The plan's micromamba and Playwright find the env and the browsers where the runtime does.
	vars = append(vars, [2]string{"MAMBA_ROOT_PREFIX", shellQuote(o.mambaRoot())})
	if *o.InstallBrowser {
		vars = append(vars, [2]string{"PLAYWRIGHT_BROWSERS_PATH", shellQuote(o.PlaywrightBrowsersPath)})
	}
	vars = append(vars, [2]string{"OH_ENV_BIN", `"$MAMBA_ROOT_PREFIX/envs/$OH_ENV/bin"`}, [2]string{"OH_ENV_PY", `"$OH_ENV_BIN/python$OH_PYTHON_VERSION"`})
	if o.lockInUse() {
		vars = append(vars, [2]string{"OH_LOCK", `"$OH_PREFIX/lock"`})
	}
	vars = append(vars, runtimeOf(o.Layout).vars(o)...)
	for _, t := range Tools {
		url, sum, _ := t.values(o)
		vars = append(vars, [2]string{t.Var, t.Dest},
			[2]string{t.shellName() + "_URL", shellQuote(url)},
			[2]string{t.shellName() + "_SHA256", shellQuote(strings.ToLower(sum))})
		vars = append(vars, t.platformVariables(o)...)
	}
	secret := p.secretVariables()
	out := make([]variable, 0, len(vars)+len(o.EnvironmentVars)+len(o.SecretEnvironmentVars))
	for _, kv := range vars {
		out = append(out, variable{name: kv[0], value: kv[1], secret: secret[kv[0]]})
	}
	for _, e := range o.environment() {
		out = append(out, variable{name: e.Name, value: shellQuote(e.Value), secret: e.Secret(), env: true})
	}
	return out
}

// secretVariables are the plan variables that hold a URL with credentials.
func (p *Plan) secretVariables() map[string]bool {
	secret := map[string]bool{}
	for _, u := range p.Options.urlOptions() {
		secret[u.variable] = secret[u.variable] || hasCredentials(u.url)
	}
	// A tool's variable takes the detected architecture's URL (renderPlatformSources): a
	// secret when any of them is.
	for _, t := range Tools {
		for _, u := range t.platformURLOptions(p.Options) {
			secret[t.shellName()+"_URL"] = secret[t.shellName()+"_URL"] || hasCredentials(u.url)
		}
	}
	return secret
}
