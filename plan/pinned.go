package plan

import (
	"fmt"
	"sort"
	"strings"
)

// Download is a release file and its checksum.
type Download struct {
	URL    string
	SHA256 string
}

// PinnedDownloads are the releases installed when the user supplies neither a URL nor a
// file, by tool and by `uname -m`. Bumping one is a deliberate, reviewed change: the uv sums
// are those of astral-sh/setup-uv's known-checksums.json, the micromamba sums those that
// projects pinning micromamba-releases 2.9.0-0 check against. openvscode-server is the release
// OpenHands 0.62 installs; gitpod-io publishes no checksums for it and none could be verified
// from a public source, so its SHA256 is left empty and the user's vscode_server_sha256 is
// required (never a made-up sum).
var PinnedDownloads = map[string]map[string]Download{
	"uv": {
		"x86_64": {
			URL:    "https://github.com/astral-sh/uv/releases/download/0.12.16/uv-x86_64-unknown-linux-gnu.tar.gz",
			SHA256: "8e5c6e5523dffc2dcf615bd995554c84c9feb4e577808a3fb8698a639d3f8d9c",
		},
		"aarch64": {
			URL:    "https://github.com/astral-sh/uv/releases/download/0.12.16/uv-aarch64-unknown-linux-gnu.tar.gz",
			SHA256: "36d913ee9c647481d64f1a0a0485f85ff2feaee605c341fc22e73398f9212c26",
		},
	},
	"vscode_server": {
		"x86_64":  {URL: "https://github.com/gitpod-io/openvscode-server/releases/download/openvscode-server-v1.98.2/openvscode-server-v1.98.2-linux-x64.tar.gz"},
		"aarch64": {URL: "https://github.com/gitpod-io/openvscode-server/releases/download/openvscode-server-v1.98.2/openvscode-server-v1.98.2-linux-arm64.tar.gz"},
	},
	"micromamba": {
		"x86_64": {
			URL:    "https://github.com/mamba-org/micromamba-releases/releases/download/2.9.0-0/micromamba-linux-64",
			SHA256: "366cd9cd8be14df1ab8ed50352a82111082a36686b2d389fdb79a92c3fafb3e3",
		},
		"aarch64": {
			URL:    "https://github.com/mamba-org/micromamba-releases/releases/download/2.9.0-0/micromamba-linux-aarch64",
			SHA256: "9f93b974adcb4d166996af969b6cd371287d1a3e52733704727884d9b74cb7a7",
		},
	},
}

// pinnedSummary is what a pinned tool's stamp records, so a bump re-installs it.
func pinnedSummary(tool string) string {
	var parts []string
	for _, arch := range sortedKeys(PinnedDownloads[tool]) {
		d := PinnedDownloads[tool][arch]
		parts = append(parts, arch+"="+d.URL+"@"+d.SHA256)
	}
	return strings.Join(parts, " ")
}

// renderPinnedDownloads fills OH_<TOOL>_URL from the pinned table for the detected
// architecture when the user set none, and OH_<TOOL>_SHA256 with it unless the user gave the
// sum of the default release (openvscode-server, which has no pinned sum).
func renderPinnedDownloads(b *strings.Builder) {
	tools := make([]string, 0, len(PinnedDownloads))
	for t := range PinnedDownloads {
		tools = append(tools, t)
	}
	sort.Strings(tools)
	for _, tool := range tools {
		upper := strings.ToUpper(tool)
		fmt.Fprintf(b, "\tif [ -z \"$OH_%[1]s_URL\" ]; then\n\t\tcase $OH_ARCH in\n", upper)
		for _, arch := range sortedKeys(PinnedDownloads[tool]) {
			d := PinnedDownloads[tool][arch]
			fmt.Fprintf(b, "\t\t%[1]s) OH_%[2]s_URL=%[3]s OH_%[2]s_SHA256=${OH_%[2]s_SHA256:-%[4]s} ;;\n", arch, upper, shellQuote(d.URL), d.SHA256)
		}
		fmt.Fprintf(b, "\t\tesac\n\t\texport OH_%[1]s_URL OH_%[1]s_SHA256\n\tfi\n", upper)
	}
}
