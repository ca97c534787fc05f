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
	// A venv of another Python (python_version changed) is made anew: uv would keep its
	// interpreter.
	recreate := map[string]string{"RECREATE_VENV": stepShell("recreate-venv", nil)}
	if o.usesUVPython() {
		return stepShell("agent-server-venv-uv-python", recreate)
	}
	return stepShell("agent-server-venv", recreate)
}

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
	shell := checkFile("self-contained-venv.sh", nil)
	if o.usesUVPython() {
		shell = checkFile("self-contained-venv-uv-python.sh", nil)
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
