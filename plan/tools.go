package plan

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
)

// Download is a release file and its checksum.
type Download struct {
	URL    string
	SHA256 string
}

// Tool is a program the plan installs from a pinned release, from a URL with its checksum, or
// from a file the user supplies (air-gapped builds). Tools is the one description of each: the
// options' validation, the script's variables, the bundle, the builder's build context, the
// input digests and the install steps all read it, so adding a tool is adding a row.
type Tool struct {
	// Name is the options' prefix (<name>_url, <name>_sha256, <name>_path) and the tool's name
	// in messages and in Inputs.Supplied.
	Name string
	// Step is the name of the plan step that installs it; the runtime's row (toolBefore) places
	// it in the plan.
	Step StepID
	// Var is the script variable holding the installed path, Dest that path in shell.
	Var, Dest string
	// Bundle is the path of a supplied file in the bundle and in the builder's context.
	Bundle string
	// Member is the executable taken from a release archive; for a Tree, the executable whose
	// directory's parent is the tree's root.
	Member string
	// Tree installs the whole release directory at Dest instead of one executable.
	Tree bool
	// Pinned are the releases installed by default, by `uname -m`. Bumping one is a
	// deliberate, reviewed change. An empty SHA256 means no checksum could be verified from a
	// public source: a download then needs the user's <name>_sha256 (never a made-up sum).
	Pinned map[string]Download
	// Switch is the option that leaves the tool out, when there is one.
	Switch string
	// OnlyWith names the options a tool without a Switch is installed with (its enabled), for
	// the error about its options set without them.
	OnlyWith string
	// present is shell that succeeds when the target has the tool already (from its packages):
	// the step then installs nothing.
	present string
	// enabled reads Switch; nil means always installed.
	enabled func(Options) bool
	// settings are the tool's options: its own three and their per-platform maps.
	settings func(o *Options) toolOptions
	// check is more of the step's check, beyond the executable being there.
	check string
	// configure is shell run after the install, with what it depends on (part of the stamp).
	configure func(Options) (shell string, stampParts []string)
	// version is shell that prints the installed version first, for the SBOM; empty runs the
	// executable with --version.
	version string
}

// Versions of the releases the tools' Pinned entries install, each written here alone: the
// URLs are made from them, and tests and docs that name a pinned release read them or are
// checked against them (TestDocsNameThePinnedReleases). Bumping one is a deliberate, reviewed
// change, with the sums beside its URLs.
const (
	MicromambaVersion   = "2.9.0-0"
	UVVersion           = "0.12.16"
	VSCodeServerVersion = "1.98.2"
	TiniVersion         = "0.19.0"
	NodeJSVersion       = "22.14.0"
)

// Tools are the installed tools, in the order their digests enter the content tags.
var Tools = []Tool{toolMicromamba, toolUV, toolVSCodeServer, toolTini, toolNodeJS}

// Where each tool's pinned release is downloaded from.
const (
	micromambaReleases   = "https://github.com/mamba-org/micromamba-releases/releases/download/" + MicromambaVersion
	uvReleases           = "https://github.com/astral-sh/uv/releases/download/" + UVVersion
	vscodeServerReleases = "https://github.com/gitpod-io/openvscode-server/releases/download/openvscode-server-v" + VSCodeServerVersion
	tiniReleases         = "https://github.com/krallin/tini/releases/download/v" + TiniVersion
	nodeJSReleases       = "https://nodejs.org/dist/v" + NodeJSVersion
)

var toolMicromamba = Tool{
	Name: "micromamba", Step: StepMicromamba, Var: "OH_MM", Dest: `"$MAMBA_ROOT_PREFIX/bin/micromamba"`,
	Bundle: "bin/micromamba", Member: "micromamba",
	OnlyWith: `python_source = "micromamba"`,
	enabled:  func(o Options) bool { return !o.usesUVPython() },
	// The sums projects pinning this micromamba-releases release check against.
	Pinned: map[string]Download{
		"x86_64": {
			URL:    micromambaReleases + "/micromamba-linux-64",
			SHA256: "366cd9cd8be14df1ab8ed50352a82111082a36686b2d389fdb79a92c3fafb3e3",
		},
		"aarch64": {
			URL:    micromambaReleases + "/micromamba-linux-aarch64",
			SHA256: "9f93b974adcb4d166996af969b6cd371287d1a3e52733704727884d9b74cb7a7",
		},
	},
	settings: func(o *Options) toolOptions {
		return toolOptions{&o.MicromambaURL, &o.MicromambaSHA256, &o.MicromambaPath,
			&o.MicromambaURLByPlatform, &o.MicromambaSHA256ByPlatform, &o.MicromambaPathByPlatform}
	},
	configure: func(o Options) (string, []string) {
		shell := `# "defaults" is absent from a fresh configuration, which micromamba may report as an error
"$OH_MM" config remove channels defaults >/dev/null 2>&1 || true`
		// The plan's own calls take the alias from MAMBA_CHANNEL_ALIAS (the python-env step);
		// it is kept in the configuration for later use only when it holds no credentials.
		if o.ChannelAlias != "" && !hasCredentials(o.ChannelAlias) {
			shell += "\n\"$OH_MM\" config set channel_alias \"$OH_CHANNEL_ALIAS\""
		}
		return shell, []string{RedactURL(o.ChannelAlias)}
	},
}

var toolUV = Tool{
	Name: "uv", Step: StepUV, Var: "OH_UV", Dest: `"$OH_PREFIX/bin/uv"`,
	Bundle: "bin/uv", Member: "uv",
	// The sums of astral-sh/setup-uv's known-checksums.json.
	Pinned: map[string]Download{
		"x86_64": {
			URL:    uvReleases + "/uv-x86_64-unknown-linux-gnu.tar.gz",
			SHA256: "8e5c6e5523dffc2dcf615bd995554c84c9feb4e577808a3fb8698a639d3f8d9c",
		},
		"aarch64": {
			URL:    uvReleases + "/uv-aarch64-unknown-linux-gnu.tar.gz",
			SHA256: "36d913ee9c647481d64f1a0a0485f85ff2feaee605c341fc22e73398f9212c26",
		},
	},
	settings: func(o *Options) toolOptions {
		return toolOptions{&o.UVURL, &o.UVSHA256, &o.UVPath, &o.UVURLByPlatform, &o.UVSHA256ByPlatform, &o.UVPathByPlatform}
	},
}

// toolVSCodeServer is the openvscode-server release OpenHands' vscode plugin starts, owned by
// the runtime user (the plugin chowns it to the user it runs as, through sudo), with the
// `code` remote CLI beside it as upstream's template has it. The release is the one OpenHands
// 0.62 installs; gitpod-io publishes no checksums for it.
var toolVSCodeServer = Tool{
	Name: "vscode_server", Step: StepVSCodeServer, Var: "OH_VSCODE_SERVER", Dest: `"$OH_PREFIX/` + vscodeServerDir + `"`,
	Bundle: "bin/openvscode-server.tar.gz", Member: "bin/openvscode-server", Tree: true,
	Pinned: map[string]Download{
		"x86_64":  {URL: vscodeServerReleases + "/openvscode-server-v" + VSCodeServerVersion + "-linux-x64.tar.gz"},
		"aarch64": {URL: vscodeServerReleases + "/openvscode-server-v" + VSCodeServerVersion + "-linux-arm64.tar.gz"},
	},
	Switch:  "install_vscode_server",
	enabled: func(o Options) bool { return *o.InstallVSCodeServer },
	settings: func(o *Options) toolOptions {
		return toolOptions{&o.VSCodeServerURL, &o.VSCodeServerSHA256, &o.VSCodeServerPath,
			&o.VSCodeServerURLByPlatform, &o.VSCodeServerSHA256ByPlatform, &o.VSCodeServerPathByPlatform}
	},
	check: `[ -x "$OH_VSCODE_SERVER/bin/remote-cli/code" ]`,
	// From the release's package.json: --version starts Node, a few hundred ms on every run.
	version: `sed -n 's/^  "version": "\([^"]*\)".*/\1/p' "$OH_VSCODE_SERVER/package.json"`,
	configure: func(Options) (string, []string) {
		return `cp "$OH_VSCODE_SERVER/bin/remote-cli/openvscode-server" "$OH_VSCODE_SERVER/bin/remote-cli/code"
chown -R "$OH_USER:$OH_USER" "$OH_VSCODE_SERVER"`, nil
	},
}

// toolTini is tini, the agent-server image's init, for bases without a package of it (Amazon
// Linux 2023); apt bases get Debian's or Ubuntu's package with the system packages, and the
// step then installs nothing. The sums of the release's published .sha256sum files.
var toolTini = Tool{
	Name: "tini", Step: StepTini, Var: "OH_TINI", Dest: `"$OH_PREFIX/bin/tini"`,
	Bundle: "bin/tini", Member: "tini",
	Pinned: map[string]Download{
		"x86_64": {
			URL:    tiniReleases + "/tini-static-amd64",
			SHA256: "c5b0666b4cb676901f90dfcb37106783c5fe2077b04590973b885950611b30ee",
		},
		"aarch64": {
			URL:    tiniReleases + "/tini-static-arm64",
			SHA256: "eae1d3aa50c48fb23b8cbdf4e369d0910dfc538566bfd09df89a774aa84a48b9",
		},
	},
	OnlyWith: `runtime = "agent-server"`,
	enabled:  func(o Options) bool { return o.Runtime == RuntimeAgentServer },
	settings: func(o *Options) toolOptions {
		return toolOptions{&o.TiniURL, &o.TiniSHA256, &o.TiniPath, &o.TiniURLByPlatform, &o.TiniSHA256ByPlatform, &o.TiniPathByPlatform}
	},
	present: `command -v tini >/dev/null 2>&1`,
}

// toolNodeJS is the Node.js release upstream's agent-server image installs beside the server
// (its ACP servers are npm packages), unpacked whole: npm and npx are scripts of the tree run
// by its node. The sums of the release's SHASUMS256.txt.
var toolNodeJS = Tool{
	Name: "nodejs", Step: StepNodeJS, Var: "OH_NODEJS", Dest: `"$OH_PREFIX/` + nodeJSDir + `"`,
	Bundle: "bin/nodejs.tar.gz", Member: "bin/node", Tree: true,
	Pinned: map[string]Download{
		"x86_64": {
			URL:    nodeJSReleases + "/node-v" + NodeJSVersion + "-linux-x64.tar.gz",
			SHA256: "9d942932535988091034dc94cc5f42b6dc8784d6366df3a36c4c9ccb3996f0c2",
		},
		"aarch64": {
			URL:    nodeJSReleases + "/node-v" + NodeJSVersion + "-linux-arm64.tar.gz",
			SHA256: "8cf30ff7250f9463b53c18f89c6c606dfda70378215b2c905d0a9a8b08bd45e0",
		},
	},
	Switch:  "install_nodejs",
	enabled: func(o Options) bool { return o.Runtime == RuntimeAgentServer && *o.InstallNodeJS },
	settings: func(o *Options) toolOptions {
		return toolOptions{&o.NodeJSURL, &o.NodeJSSHA256, &o.NodeJSPath, &o.NodeJSURLByPlatform, &o.NodeJSSHA256ByPlatform, &o.NodeJSPathByPlatform}
	},
	check: `[ -f "$OH_NODEJS/lib/node_modules/npm/bin/npm-cli.js" ]`,
}

// nodeJSDir is where install_nodejs puts Node.js, below the prefix.
const nodeJSDir = "nodejs"

// values are the tool's url, sha256 and path options.
func (t Tool) values(o Options) (url, sum, path string) {
	s := t.settings(&o)
	return *s.URL, *s.SHA256, *s.Path
}

// Enabled tells whether the options install the tool.
func (t Tool) Enabled(o Options) bool { return t.enabled == nil || t.enabled(o) }

// executable is the installed executable, a quoted shell word.
func (t Tool) executable() string {
	if t.Tree {
		return fmt.Sprintf(`"$%s/%s"`, t.Var, t.Member)
	}
	return fmt.Sprintf(`"$%s"`, t.Var)
}

// versionShell prints the installed version on its first line.
func (t Tool) versionShell() string {
	if t.version != "" {
		return t.version
	}
	return t.executable() + " --version"
}

// shellName is the tool's part of its script variables: OH_<NAME>_URL, OH_<NAME>_SHA256.
func (t Tool) shellName() string { return "OH_" + strings.ToUpper(t.Name) }

// pinnedSums tells whether every pinned release has a checksum.
func (t Tool) pinnedSums() bool {
	for _, d := range t.Pinned {
		if d.SHA256 == "" {
			return false
		}
	}
	return true
}

// pinnedSummary is what the tool's stamp records of its pinned releases, so a bump
// re-installs it.
func (t Tool) pinnedSummary() string {
	var parts []string
	for _, arch := range slices.Sorted(maps.Keys(t.Pinned)) {
		d := t.Pinned[arch]
		parts = append(parts, arch+"="+d.URL+"@"+d.SHA256)
	}
	return strings.Join(parts, " ")
}

// step installs the tool: the supplied file, the user's URL, or the pinned release for the
// target's architecture; then its configuration. Its stamp changes with whichever was used. A
// tool with per-platform entries takes the detected architecture's (renderPlatformSources).
func (t Tool) step(o Options, in Inputs) Step {
	src := t.sourceFor(o, "")
	source := `""`
	if src.path != "" {
		source = `"$OH_BUNDLE/` + t.Bundle + `"`
	}
	stamp := t.sourceStamp(src, in.Supplied[t.Name])
	// The option a checksum mismatch names: none for the pinned sum.
	sumOption := shellQuote("")
	if src.sum != "" {
		sumOption = shellQuote(t.sumOption(o))
	}
	if t.perPlatform(o) {
		source, sumOption = fmt.Sprintf(`"$%s_FILE"`, t.shellName()), fmt.Sprintf(`"$%s_SUM_OPTION"`, t.shellName())
		stamp = t.platformStamp(o, in)
	}
	run := fmt.Sprintf(`oh_install_binary %s %s "$%[3]s_URL" "$%[3]s_SHA256" "$%s" %s`, t.Member, source, t.shellName(), t.Var, sumOption)
	check := "[ -x " + t.executable() + " ]"
	if t.Tree {
		run = fmt.Sprintf(`oh_install_tree %s %s %s "$%[4]s_URL" "$%[4]s_SHA256" "$%s" %s`, t.Name, t.Member, source, t.shellName(), t.Var, sumOption)
	}
	if t.check != "" {
		check += " && " + t.check
	}
	if t.present != "" {
		check = t.present + " || " + check
		run = fmt.Sprintf("if %s; then\n\toh_say \"%s: $(command -v %s) is installed\"\nelse\n%s\nfi", t.present, t.Name, t.Name, indent(run, "\t"))
	}
	if t.configure != nil {
		shell, parts := t.configure(o)
		run += "\n" + shell
		if len(parts) > 0 {
			stamp = digest(append([]string{stamp}, parts...)...)
		}
	}
	return Step{Name: t.Step, User: RootUser, Check: check, Stamp: stamp, Secrets: []string{t.shellName() + "_URL"}, Commands: []Command{{Shell: run}}}
}

// sourceStamp is what a step's stamp records of a source: the digest of its supplied file,
// its URL and sum, or the pinned releases (with the user's sum of them).
func (t Tool) sourceStamp(src source, supplied string) string {
	sum := strings.ToLower(src.sum)
	switch {
	case src.path != "":
		return digest(string(t.Step), "supplied", supplied)
	case src.url != "":
		return digest(string(t.Step), RedactURL(src.url), sum)
	}
	parts := []string{string(t.Step), "pinned", t.pinnedSummary()}
	if sum != "" {
		parts = append(parts, sum)
	}
	return digest(parts...)
}

// errors checks the tool's options, each error naming its option.
func (t Tool) errors(o Options) []error {
	if !t.Enabled(o) {
		return t.disabledErrors(o)
	}
	return t.platformErrors(o)
}

// disabledErrors refuses the options of a tool the options leave out.
func (t Tool) disabledErrors(o Options) []error {
	url, sum, path := t.values(o)
	set := []struct{ option, value string }{{t.Name + "_url", url}, {t.sumOption(o), sum}, {t.Name + "_path", path}}
	for _, f := range t.settings(&o).byPlatform() {
		if len(f.m) > 0 {
			set = append(set, struct{ option, value string }{t.Name + "_" + f.field + "_by_platform", "set"})
		}
	}
	for _, s := range set {
		switch {
		case s.value == "":
		case t.Switch == "":
			return []error{fmt.Errorf("%s: set, but only %s installs %s; remove it", s.option, t.OnlyWith, t.Name)}
		default:
			return []error{fmt.Errorf("%s: set, but %s = false leaves %s out; remove one of them", s.option, t.Switch, t.Name)}
		}
	}
	return nil
}

// sourceErrors checks one source of the tool (its own options, or one platform's entries),
// and returns what it read of a supplied file; used tells whether any platform takes it, so
// that a download needs its sum.
func (t Tool) sourceErrors(o Options, src source, used bool) ([]error, executable) {
	url, sum, path := src.url, src.sum, src.path
	sumOption := t.sourceSumOption(o, src)
	if path == "" && url == "" && !t.pinnedSums() {
		// The default release, whose checksum only the user can vouch for.
		if sum == "" {
			if !used {
				return nil, executable{}
			}
			return []error{&MissingSumError{Tool: t.Name, msg: fmt.Sprintf("%[1]s_sha256: required to download %[4]s, whose project publishes no checksums, so the plugin pins none: "+
				"set %[1]s_sha256 to the SHA-256 of %[2]s for the target's architecture (or %[1]s_url with its sum), "+
				"upload the file with %[1]s_path%[3]s", t.Name, t.defaultRelease(), t.switchHint(), filepath.Base(t.Member))}}, executable{}
		}
		if err := checkSHA256(sumOption, sum); err != nil {
			return []error{err}, executable{}
		}
		return nil, executable{}
	}
	errs := checkArtifact(t.option("path", src.platform), t.option("url", src.platform), sumOption, url, sum, path)
	if path != "" && len(errs) == 0 {
		return t.suppliedErrors(t.option("path", src.platform), path)
	}
	return errs, executable{}
}

// defaultRelease names the pinned release files, for messages.
func (t Tool) defaultRelease() string {
	var names []string
	for _, arch := range slices.Sorted(maps.Keys(t.Pinned)) {
		u := t.Pinned[arch].URL
		names = append(names, u[strings.LastIndex(u, "/")+1:])
	}
	return strings.Join(names, " or ")
}

func (t Tool) switchHint() string {
	if t.Switch == "" {
		return ""
	}
	return ", or set " + t.Switch + " = false"
}

// renderPinnedDownloads fills OH_<TOOL>_URL from the pinned releases for the detected
// architecture when the user set none, and OH_<TOOL>_SHA256 with it unless the user gave the
// sum of the default release (a tool without pinned sums).
func renderPinnedDownloads(b *strings.Builder) {
	for _, t := range Tools {
		fmt.Fprintf(b, "\tif [ -z \"$%[1]s_URL\" ]; then\n\t\tcase $OH_ARCH in\n", t.shellName())
		for _, arch := range slices.Sorted(maps.Keys(t.Pinned)) {
			d := t.Pinned[arch]
			fmt.Fprintf(b, "\t\t%[1]s) %[2]s_URL=%[3]s %[2]s_SHA256=${%[2]s_SHA256:-%[4]s} ;;\n", arch, t.shellName(), shellQuote(d.URL), d.SHA256)
		}
		fmt.Fprintf(b, "\t\tesac\n\t\texport %[1]s_URL %[1]s_SHA256\n\tfi\n", t.shellName())
	}
}
