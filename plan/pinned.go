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
// file, by tool and by `uname -m`. Bumping one is a deliberate, reviewed change.
var PinnedDownloads = map[string]map[string]Download{}

// pinnedSummary is what a pinned tool's stamp records, so a bump re-installs it.
func pinnedSummary(tool string) string {
	var parts []string
	for _, arch := range sortedKeys(PinnedDownloads[tool]) {
		d := PinnedDownloads[tool][arch]
		parts = append(parts, arch+"="+d.URL+"@"+d.SHA256)
	}
	return strings.Join(parts, " ")
}

// renderPinnedDownloads fills OH_<TOOL>_URL/_SHA256 from the pinned table for the detected
// architecture when the user set neither.
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
			fmt.Fprintf(b, "\t\t%s) OH_%s_URL=%s OH_%s_SHA256=%s ;;\n", arch, upper, shellQuote(d.URL), upper, d.SHA256)
		}
		fmt.Fprintf(b, "\t\tesac\n\t\texport OH_%[1]s_URL OH_%[1]s_SHA256\n\tfi\n", upper)
	}
}
