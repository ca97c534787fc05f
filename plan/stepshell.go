package plan

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
)

// stepFiles hold the steps' shell, one file per step or per part of one that the options
// choose, so shellcheck reads them as they are (TestStepShellFiles).
//
//go:embed steps/*.sh
var stepFiles embed.FS

// placeholder is an option-dependent part of a step or check file: @NAME@ alone on its
// line, or within one.
var placeholder = regexp.MustCompile(`(?m)^@([A-Z][A-Z0-9_]*)@\n|@([A-Z][A-Z0-9_]*)@`)

// stepShell is steps/<name>.sh with its placeholders filled from values (fill).
func stepShell(name string, values map[string]string) string {
	return fill(stepFiles, "steps/"+name+".sh", values)
}

// fill is the file at path without its last line break, its placeholders filled from values:
// a placeholder alone on its line takes the lines of its value (none when the value is
// empty), any other the value itself. Values are not read for placeholders. A placeholder
// without a value, or a value without its placeholder, is a fault of the plan that every
// rendering of the file shows: it panics.
func fill(fsys fs.FS, path string, values map[string]string) string {
	data, err := fs.ReadFile(fsys, path)
	if err != nil {
		panic(fmt.Sprintf("plan: no file %s: %v", path, err))
	}
	used := map[string]bool{}
	out := placeholder.ReplaceAllStringFunc(string(data), func(m string) string {
		key := strings.Trim(m, "@\n")
		value, ok := values[key]
		if !ok {
			panic(fmt.Sprintf("plan: %s has @%s@, which no value fills", path, key))
		}
		used[key] = true
		if !strings.HasSuffix(m, "\n") {
			return value
		}
		if value == "" {
			return ""
		}
		return strings.TrimSuffix(value, "\n") + "\n"
	})
	for key := range values {
		if !used[key] {
			panic(fmt.Sprintf("plan: %s has no @%s@ for its value", path, key))
		}
	}
	return strings.TrimSuffix(out, "\n")
}
