package plan

import (
	"fmt"
	"path"
	"strings"
)

// The sources of the agent-server's Python (python_source).
const (
	// PythonSourceMicromamba is the micromamba environment's Python, from conda-forge or a
	// mirror of it (channel_alias): the action server's environment, and the default.
	PythonSourceMicromamba = "micromamba"
	// PythonSourceUV is a python-build-standalone build that `uv python install` puts under
	// the prefix, as upstream's agent-server image has it.
	PythonSourceUV = "uv"
)

var pythonSources = []string{PythonSourceMicromamba, PythonSourceUV}

// uvPythonDir is where `uv python install` puts Python, below the prefix: owned by the
// runtime user, who installs it.
const uvPythonDir = "python"

// usesUVPython tells whether the options take Python from uv rather than micromamba.
func (l Layout) usesUVPython() bool { return l.PythonSource == PythonSourceUV }

// uvPythonVars are the script variables of a Python from uv: where it goes and where it
// comes from (URLs that may carry credentials: Step.Secrets of the step that installs it).
func uvPythonVars(o Options) [][2]string {
	if !o.usesUVPython() {
		return nil
	}
	return [][2]string{
		{"OH_UV_PYTHON", `"$OH_PREFIX/` + uvPythonDir + `"`},
		{"OH_PYTHON_INSTALL_MIRROR", shellQuote(o.PythonInstallMirror)},
		{"OH_PYTHON_DOWNLOADS_JSON_URL", shellQuote(o.PythonDownloadsJSONURL)},
	}
}

// uvPythonSecrets are the variables of uvPythonVars whose URLs may hold credentials.
var uvPythonSecrets = []string{"OH_PYTHON_INSTALL_MIRROR", "OH_PYTHON_DOWNLOADS_JSON_URL"}

// agentServerVenvShell makes the agent-server's venv on the options' Python when it is
// missing. uv never downloads a Python on its own: with micromamba's there is nothing to
// download, and uv's is installed here, from where the options say.
func agentServerVenvShell(o Options) string {
	if !o.usesUVPython() {
		return `export UV_PYTHON_DOWNLOADS=never
` + recreateVenvShell + `if [ ! -x "$OH_AGENT_PY" ]; then
	"$OH_UV" venv --no-config --python "$OH_ENV_PY" "$OH_AGENT_VENV"
fi
`
	}
	return `export UV_PYTHON_DOWNLOADS=manual UV_PYTHON_INSTALL_DIR="$OH_UV_PYTHON"
if [ -n "$OH_PYTHON_INSTALL_MIRROR" ]; then export UV_PYTHON_INSTALL_MIRROR="$OH_PYTHON_INSTALL_MIRROR"; fi
if [ -n "$OH_PYTHON_DOWNLOADS_JSON_URL" ]; then export UV_PYTHON_DOWNLOADS_JSON_URL="$OH_PYTHON_DOWNLOADS_JSON_URL"; fi
# --no-bin: the interpreter is the venv's, not a command of the user's PATH.
oh_retry "$OH_UV" python install --no-config --no-bin "$OH_PYTHON_VERSION"
` + recreateVenvShell + `if [ ! -x "$OH_AGENT_PY" ]; then
	"$OH_UV" venv --no-config --managed-python --python "$OH_PYTHON_VERSION" "$OH_AGENT_VENV"
fi
`
}

// recreateVenvShell removes a venv of another Python (python_version changed): uv would keep
// its interpreter.
const recreateVenvShell = `if [ -x "$OH_AGENT_PY" ] && [ "$("$OH_AGENT_PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$OH_PYTHON_VERSION" ]; then
	rm -rf "$OH_AGENT_VENV"
fi
`

// pythonSourceStamp is what the agent-server step's stamp records of where Python comes from.
func pythonSourceStamp(o Options) []string {
	if !o.usesUVPython() {
		return nil
	}
	return []string{"uv python", RedactURL(o.PythonInstallMirror), RedactURL(o.PythonDownloadsJSONURL)}
}

// selfContainedVenvCheck checks that the venv runs the options' Python, whatever python3 the
// base has.
func selfContainedVenvCheck(o Options) Check {
	shell := `real=$(readlink -f "$OH_AGENT_PY") env_real=$(readlink -f "$OH_ENV_PY")
if [ "$real" != "$env_real" ]; then
	echo "$OH_AGENT_PY runs $real, not the micromamba environment's $OH_ENV_PY ($env_real)"
	exit 1
fi
echo "$OH_AGENT_PY runs the micromamba environment's $OH_ENV_PY"`
	if o.usesUVPython() {
		shell = `real=$(readlink -f "$OH_AGENT_PY") installs=$(readlink -f "$OH_UV_PYTHON")
case $real in
"$installs"/*) echo "$OH_AGENT_PY runs $real, installed by uv" ;;
*)
	echo "$OH_AGENT_PY runs $real, not a Python uv installed in $OH_UV_PYTHON"
	exit 1
	;;
esac`
	}
	return Check{Name: "self-contained venv", Root: true, Shell: shell}
}

// pythonSourceErrors checks the options of where Python comes from, each error naming its
// option.
func (o *Options) pythonSourceErrors() []error {
	var errs []error
	for _, u := range []struct{ option, value string }{
		{"python_install_mirror", o.PythonInstallMirror}, {"python_downloads_json_url", o.PythonDownloadsJSONURL},
	} {
		switch {
		case u.value == "":
		case !o.usesUVPython():
			errs = append(errs, fmt.Errorf("%s: set, but python_source is %q, which takes no download of uv's; set python_source = %q, or remove %s",
				u.option, o.PythonSource, PythonSourceUV, u.option))
		case u.option == "python_downloads_json_url" && strings.HasPrefix(u.value, "/"):
			if path.Clean(u.value) != u.value || strings.ContainsAny(u.value, " \t\n'\"`\\") {
				errs = append(errs, fmt.Errorf("%s: %q must be a clean absolute path without spaces, quotes or backslashes", u.option, u.value))
			}
		default:
			if err := checkURL(u.value); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", u.option, err))
			}
		}
	}
	if o.usesUVPython() && o.ChannelAlias != "" {
		errs = append(errs, fmt.Errorf("channel_alias: set, but python_source = %q installs no conda package; remove channel_alias, or set python_source = %q",
			PythonSourceUV, PythonSourceMicromamba))
	}
	return errs
}
