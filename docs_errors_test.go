package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// quotedPlaceholder splits a quoted error at what stands for a value: `...`, `<url>`.
var quotedPlaceholder = regexp.MustCompile(`\.\.\.|<[^>]*>`)

// TestTroubleshootingQuotesRealErrors: every error the troubleshooting guide's table quotes
// (the first code span of each row) is printed by the plugin: each literal piece between its
// placeholders is in a non-test Go file or a shell file of the repository, so a reworded
// message fails here until the guide follows. A row marked "printed by `<program>`" quotes
// another program.
func TestTroubleshootingQuotesRealErrors(t *testing.T) {
	var code strings.Builder
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") || strings.HasSuffix(path, ".sh") {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			// Go strings escape the quotes shell messages print.
			code.WriteString(strings.ReplaceAll(string(data), `\"`, `"`) + "\n")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("docs", "guides", "troubleshooting.mdx"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(data), "## Common errors")
	if !ok {
		t.Fatal("the guide has no Common errors section")
	}
	rows := 0
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, " | ")
		if !strings.HasPrefix(line, "| `") || len(cells) < 2 {
			continue
		}
		rows++
		if strings.Contains(cells[0], ", printed by `") {
			continue // another program's message, such as docker-push's
		}
		if strings.TrimSpace(strings.TrimSuffix(cells[len(cells)-1], "|")) == "" {
			t.Errorf("%s: the row says nothing to do", cells[0])
		}
		// The first code span is the message; later ones are examples of its values.
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(cells[0], 1) {
			for _, piece := range quotedPlaceholder.Split(m[1], -1) {
				piece = strings.TrimSpace(piece)
				if len(piece) >= 6 && !strings.Contains(code.String(), piece) {
					t.Errorf("the guide quotes %q, but no Go or shell file prints %q", m[1], piece)
				}
			}
		}
	}
	if rows < 10 {
		t.Errorf("found %d error rows, want at least 10: was the table reshaped?", rows)
	}
}
