package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxProductionFileLines is the size above which a production file has become two concerns;
// the architecture notes say where each concern lives.
const maxProductionFileLines = 450

// productionGoFiles are the plugin's Go files that ship in its binary: not tests, not the
// generated HCL2 specs, not the test rig (acctest/) and not the development scripts.
func productionGoFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch path {
			case "acctest", "scripts", "bench", ".git", "docs", "example":
				return filepath.SkipDir
			}
			if strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") && !strings.HasSuffix(name, ".hcl2spec.go") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("found %d production files; the walk no longer sees the tree", len(files))
	}
	return files
}

// TestProductionFilesStaySmall keeps every production file at or under 450 lines.
func TestProductionFilesStaySmall(t *testing.T) {
	for _, path := range productionGoFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(data), "\n"); n > maxProductionFileLines {
			t.Errorf("%s has %d lines, more than %d: split it by concern (docs/ARCHITECTURE.md says what lives where)", path, n, maxProductionFileLines)
		}
	}
}

// TestProductionPackagesHaveDocs: every production package says what it holds in a package
// comment, which go doc and the architecture notes start from.
func TestProductionPackagesHaveDocs(t *testing.T) {
	documented := map[string]bool{}
	for _, path := range productionGoFiles(t) {
		dir := filepath.Dir(path)
		if _, seen := documented[dir]; !seen {
			documented[dir] = false
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
			documented[dir] = true
		}
	}
	for dir, ok := range documented {
		if !ok {
			t.Errorf("package %s has no package comment: say what it holds in a doc.go or above its package clause", dir)
		}
	}
}
