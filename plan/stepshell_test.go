package plan

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// planSource is the package's Go source, tests left out.
func planSource(t *testing.T) string {
	t.Helper()
	var source strings.Builder
	goFiles, _ := filepath.Glob("*.go")
	for _, f := range goFiles {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		source.Write(data)
	}
	return source.String()
}

// embeddedFiles are the files of glob, each checked to be read by the plan: its name (as
// name gives it) is the argument of a call of reader in the package's Go source.
func embeddedFiles(t *testing.T, glob, reader string, name func(path string) string) []string {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no files %s: %v", glob, err)
	}
	source := planSource(t)
	for _, path := range files {
		if !regexp.MustCompile(regexp.QuoteMeta(reader + `("` + name(path) + `"`)).MatchString(source) {
			t.Errorf("%s is read by no %s call of the plan", path, reader)
		}
	}
	return files
}

// TestStepShellFiles reads every step and check file of shell on its own: bash -n, and
// shellcheck at style level when it is installed (make test requires it). The rendered
// scripts, with the files filled in, are checked by TestScriptShellSyntax.
func TestStepShellFiles(t *testing.T) {
	files := embeddedFiles(t, "steps/*.sh", "stepShell", func(path string) string { return strings.TrimSuffix(filepath.Base(path), ".sh") })
	files = append(files, embeddedFiles(t, "checks/*.sh", "checkFile", filepath.Base)...)
	for path := range shellcheckContext {
		if !slices.Contains(files, path) {
			t.Errorf("shellcheckContext names %s, which is no step or check file", path)
		}
	}
	shellcheck, scErr := exec.LookPath("shellcheck")
	if scErr != nil && os.Getenv("PACKER_ACC") != "" {
		t.Fatal("shellcheck is not on PATH (make test requires it: make rig installs it)")
	}
	for _, path := range files {
		t.Run(path, func(t *testing.T) {
			if out, err := exec.Command("bash", "-n", path).CombinedOutput(); err != nil {
				t.Errorf("bash -n: %v\n%s", err, out)
			}
			if scErr != nil {
				t.Skip("shellcheck is not on PATH")
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// The script's variables are upper case (OH_*), which shellcheck takes as the
			// environment's; those a fragment shares with the file around it are declared on a
			// first line (line 1 is the test's) or read on a last one.
			around := shellcheckContext[path]
			text := string(data)
			if around.reads != "" {
				text = "declare " + around.reads + "\n" + text
			}
			if around.assigns != "" {
				text += ": \"$" + strings.Join(strings.Fields(around.assigns), `" "$`) + "\"\n"
			}
			checked := filepath.Join(t.TempDir(), filepath.Base(path))
			if err := os.WriteFile(checked, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			// A placeholder is one word where the plan puts a list: SC2043.
			exclude := strings.Join(append([]string{"SC2043"}, strings.Fields(around.exclude)...), ",")
			if out, err := exec.Command(shellcheck, "-s", "bash", "-S", "style", "-e", exclude, checked).CombinedOutput(); err != nil {
				t.Errorf("shellcheck: %v\n%s", err, out)
			}
		})
	}
}

// shellcheckContext is what the rendering around a file gives it, for shellcheck: the
// variables it reads that a fragment filled in at a placeholder assigns (the session key,
// checks/session-key.sh; the probe's run, checks/agent-server-probe.sh) or, for a fragment,
// the file it goes into; those a fragment assigns for the file it goes into; and the
// warnings of what is meant as written.
var shellcheckContext = map[string]struct{ reads, assigns, exclude string }{
	"checks/agent-server-launch.sh": {reads: "key rc out"},
	// systemctl daemon-reload && systemctl restart || report: either failing is reported.
	"checks/agent-server-unit.sh":  {reads: "key rc out", exclude: "SC2015"},
	"checks/agent-server-probe.sh": {reads: "key", assigns: "rc out"},
	"checks/session-key.sh":        {assigns: "key"},
}

// TestFill: a placeholder alone on its line takes its value's lines, or none; any other the
// value itself; values are not read for placeholders; a placeholder without a value or a
// value without its placeholder panics.
func TestFill(t *testing.T) {
	fsys := fstest.MapFS{"f.sh": {Data: []byte("a @WORD@ b\n@LINES@\n@NONE@\nlast\n")}}
	got := fill(fsys, "f.sh", map[string]string{"WORD": "@NONE@", "LINES": "one\ntwo\n", "NONE": ""})
	if want := "a @NONE@ b\none\ntwo\nlast"; got != want {
		t.Errorf("fill gave %q, want %q", got, want)
	}
	for name, values := range map[string]map[string]string{
		"a placeholder without a value": {"WORD": "", "LINES": ""},
		"a value without a placeholder": {"WORD": "", "LINES": "", "NONE": "", "OTHER": ""},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("fill did not panic")
				}
			}()
			fill(fsys, "f.sh", values)
		})
	}
}
