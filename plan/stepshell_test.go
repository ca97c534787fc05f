package plan

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
			// The variables are the script's (OH_*, upper case, which shellcheck takes as the
			// environment's). A placeholder is one word where the plan puts a list: SC2043.
			if out, err := exec.Command(shellcheck, "-s", "bash", "-S", "style", "-e", "SC2043", path).CombinedOutput(); err != nil {
				t.Errorf("shellcheck: %v\n%s", err, out)
			}
		})
	}
}

// TestCheckPythonFiles compiles every Python file of the checks as the body of a function,
// which the checks are (the probe's header and the agent-server's client are programs, which
// compile as one too).
func TestCheckPythonFiles(t *testing.T) {
	files := embeddedFiles(t, "checks/*.py", "checkFile", filepath.Base)
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 on this machine")
	}
	for _, path := range files {
		t.Run(path, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			body := "def check():\n" + indent(string(data), "    ")
			cmd := exec.Command(python, "-c", "import sys; compile(sys.stdin.read(), sys.argv[1], 'exec')", path)
			cmd.Stdin = strings.NewReader(body)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s does not compile as a function's body: %v\n%s", path, err, out)
			}
		})
	}
}
