package rig

import (
	"fmt"
	"path/filepath"
)

// RealInstallAttributes are the plugin options (HCL lines, each indented by indent) of a real
// install on the rig: OpenHands' dependencies from PyPI through the local index (IndexURL),
// installed by the real uv (UV) into an environment of the Debian 13 base's Python 3.13.
// micromamba and openvscode-server stay stand-ins (conda-forge and GitHub releases are out of
// reach), and so does the browser (Playwright's download host): install_browser is off.
// The build container reaches the index with the host's network, so every other address is
// made unreachable on purpose: a proxy on a closed loopback port for anything but loopback,
// so a step that would download from elsewhere fails instead of leaving the machine.
func RealInstallAttributes(env *Env, indent string) (string, error) {
	tarball, err := VSCodeServerTarball()
	if err != nil {
		return "", err
	}
	lines := []string{
		fmt.Sprintf("micromamba_path    = %q", filepath.Join(StandinsDir(), "micromamba")),
		fmt.Sprintf("uv_path            = %q", env.UV),
		fmt.Sprintf("vscode_server_path = %q", tarball),
		fmt.Sprintf("index_url          = %q", env.IndexURL),
		`python_version     = "3.13"`,
		`install_browser    = false`,
		// The micromamba stand-in's stub modules for Poetry's dependencies would shadow the
		// real ones, which the real uv keeps when their versions satisfy it.
		`environment_vars   = ["MICROMAMBA_STANDIN_SITE_DEPS=none", "http_proxy=` + ClosedProxy + `", "https_proxy=` + ClosedProxy + `", "no_proxy=127.0.0.1,localhost"]`,
	}
	var out string
	for _, l := range lines {
		out += indent + l + "\n"
	}
	return out, nil
}

// ClosedProxy is a proxy URL on a loopback port nothing listens on (discard's port 9).
const ClosedProxy = "http://127.0.0.1:9"
