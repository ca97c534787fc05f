package projectfile

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

// poetry18Pair is a project locked by the real Poetry 1.8.5 (lock-version 2.0): requests with
// the socks extra, colorama under a marker, pytest in group dev.
const poetry18Pair = "testdata/poetry-1.8"

// TestPoetry18ContentHash: the hash Poetry 1.8 wrote is the one computed by its rule, which
// ignores [project] (Poetry 2's rule does not).
func TestPoetry18ContentHash(t *testing.T) {
	lock := readLock(t, poetry18Pair)
	pyproject := readPyproject(t, poetry18Pair)
	for _, tt := range []struct {
		name string
		add  map[string]any
	}{
		{name: "as Poetry 1.8 locked it"},
		{name: "a [project] table Poetry 1.8 does not read", add: map[string]any{"requires-python": ">=3.10", "dependencies": []any{"httpx"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.add != nil {
				pyproject["project"] = tt.add
			}
			got, err := lock.AcceptedContentHashes(pyproject)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, []string{lock.Metadata.ContentHash}) {
				t.Errorf("hashes %q, want the lock's %s", got, lock.Metadata.ContentHash)
			}
		})
	}
}

// TestAssignLegacyGroups: the walk of a 2.0 lock's graph, on the forms Poetry 1.x writes.
func TestAssignLegacyGroups(t *testing.T) {
	tests := []struct {
		name      string
		pyproject string
		lock      string
		want      map[string]string // package: groups and markers as Select renders them for all groups
	}{
		{name: "legacy dev-dependencies are group dev; an optional main requirement is left out",
			pyproject: "[tool.poetry.dependencies]\npython = \"^3.12\"\na = \"1\"\nb = {version = \"1\", optional = true}\n[tool.poetry.dev-dependencies]\nc = \"1\"\n",
			lock:      "[[package]]\nname = \"a\"\nversion = \"1\"\n[[package]]\nname = \"b\"\nversion = \"1\"\n[[package]]\nname = \"c\"\nversion = \"1\"\n",
			want:      map[string]string{"a": "[main] ", "c": "[dev] "}},
		{name: "a list of tables, one per marker; names compared as PEP 503 says",
			pyproject: "[tool.poetry.dependencies]\nTop_Pkg = [{version = \"1\", markers = \"sys_platform == 'linux'\"}, {version = \"2\", markers = \"sys_platform == 'darwin'\"}]\n",
			lock:      "[[package]]\nname = \"top-pkg\"\nversion = \"1\"\n",
			want:      map[string]string{"top-pkg": "[main] (sys_platform == 'linux') or (sys_platform == 'darwin')"}},
		{name: "an optional dependency follows only the extra asked for",
			pyproject: "[tool.poetry.dependencies]\nr = {version = \"1\", extras = [\"socks\"]}\n",
			lock: "[[package]]\nname = \"r\"\nversion = \"1\"\n[package.dependencies]\nPySocks = {version = \"1\", optional = true, markers = \"extra == \\\"socks\\\"\"}\n" +
				"h2 = {version = \"1\", optional = true, markers = \"extra == \\\"http2\\\"\"}\n[package.extras]\nsocks = [\"PySocks (>=1)\"]\nhttp2 = [\"h2 (>=1)\"]\n" +
				"[[package]]\nname = \"pysocks\"\nversion = \"1\"\n[[package]]\nname = \"h2\"\nversion = \"1\"\n",
			want: map[string]string{"r": "[main] ", "pysocks": "[main] "}},
		{name: "past maxMarkerPaths paths a package is taken as always",
			pyproject: "[tool.poetry.dependencies]\n" + func() string {
				s := ""
				for i := range maxMarkerPaths + 1 {
					s += fmt.Sprintf("p%d = {version = \"1\", markers = \"python_version == '3.%d'\"}\n", i, i)
				}
				return s
			}(),
			lock: func() string {
				s := "[[package]]\nname = \"leaf\"\nversion = \"1\"\n"
				for i := range maxMarkerPaths + 1 {
					s += fmt.Sprintf("[[package]]\nname = \"p%d\"\nversion = \"1\"\n[package.dependencies]\nleaf = \"1\"\n", i)
				}
				return s
			}(),
			want: func() map[string]string {
				w := map[string]string{"leaf": "[main] "}
				for i := range maxMarkerPaths + 1 {
					w[fmt.Sprintf("p%d", i)] = fmt.Sprintf("[main] python_version == '3.%d'", i)
				}
				return w
			}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pyproject map[string]any
			if err := toml.Unmarshal([]byte(tt.pyproject), &pyproject); err != nil {
				t.Fatal(err)
			}
			lock, err := ParsePoetryLock([]byte(tt.lock + "[metadata]\nlock-version = \"2.0\"\ncontent-hash = \"" + strings.Repeat("0", 64) + "\"\n"))
			if err != nil {
				t.Fatal(err)
			}
			lock.AssignLegacyGroups(pyproject)
			got := map[string]string{}
			for _, p := range lock.Select(lock.Groups()) {
				got[p.Name] = fmt.Sprint(p.Groups) + " " + p.Marker
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
