package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// pinnedReleaseMentions find a pinned release named in prose, examples and scripts, by the
// version each must equal. The plan's constants are the one place the versions are set.
var pinnedReleaseMentions = []struct {
	pattern *regexp.Regexp
	version string
}{
	{regexp.MustCompile("openvscode-server[- ]`?v?([0-9]+\\.[0-9]+\\.[0-9]+)"), plan.VSCodeServerVersion},
	{regexp.MustCompile(`\btini v?([0-9]+\.[0-9]+\.[0-9]+)`), plan.TiniVersion},
	{regexp.MustCompile(`\bmicromamba v?([0-9]+\.[0-9]+\.[0-9]+(?:-[0-9]+)?)`), plan.MicromambaVersion},
	{regexp.MustCompile(`micromamba-releases/releases/download/([^/\s"]+)`), plan.MicromambaVersion},
	{regexp.MustCompile(`krallin/tini/releases/download/v([^/\s"]+)`), plan.TiniVersion},
	{regexp.MustCompile(`\buv v?([0-9]+\.[0-9]+\.[0-9]+)`), plan.UVVersion},
	{regexp.MustCompile(`astral-sh/uv/releases/download/([^/\s"]+)`), plan.UVVersion},
	{regexp.MustCompile(`\bUV_VERSION=([0-9.]+)`), plan.UVVersion},
	{regexp.MustCompile(`\bNode\.js v?([0-9]+\.[0-9]+\.[0-9]+)`), plan.NodeJSVersion},
	{regexp.MustCompile(`\bnode(?:-| |js\.org/dist/)v([0-9]+\.[0-9]+\.[0-9]+)`), plan.NodeJSVersion},
	{regexp.MustCompile(`\bNODEJS_VERSION=([0-9.]+)`), plan.NodeJSVersion},
}

// TestDocsNameThePinnedReleases: every page, example, generated doc, script, test and comment
// of the repository that names a pinned release names the one the plan installs, so bumping
// a version in plan/tools.go fails here until each mention follows. CHANGELOG.md keeps the
// versions of its time; the rig's stand-ins say "stand-in" beside versions of their own.
func TestDocsNameThePinnedReleases(t *testing.T) {
	var files []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && path != "." && strings.HasPrefix(d.Name(), ".") && d.Name() != ".web-docs":
			return filepath.SkipDir
		case !d.IsDir() && d.Type().IsRegular() && path != "CHANGELOG.md" && path != "pinned_versions_test.go":
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "stand-in") {
				continue // the rig's stand-ins print versions of their own
			}
			for _, m := range pinnedReleaseMentions {
				for _, sub := range m.pattern.FindAllStringSubmatch(line, -1) {
					found++
					if sub[1] != m.version {
						t.Errorf("%s:%d names %q; the plan pins %s (plan/tools.go)", path, i+1, sub[0], m.version)
					}
				}
			}
		}
	}
	if found == 0 {
		t.Fatal("no mention of a pinned release found: the patterns no longer match the docs")
	}
}
