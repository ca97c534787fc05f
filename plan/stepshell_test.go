package plan

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestStepShellFiles reads every step file as shell on its own: bash -n, and shellcheck at
// style level when it is installed (make test requires it). Each file is read by the plan
// (stepShell names it in the package's Go source). The rendered scripts, with the files
// filled in, are checked by TestScriptShellSyntax.
func TestStepShellFiles(t *testing.T) {
	files, err := filepath.Glob("steps/*.sh")
	if err != nil || len(files) == 0 {
		t.Fatalf("no step files: %v", err)
	}
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
	shellcheck, scErr := exec.LookPath("shellcheck")
	if scErr != nil && os.Getenv("PACKER_ACC") != "" {
		t.Fatal("shellcheck is not on PATH (make test requires it: make rig installs it)")
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".sh")
		t.Run(name, func(t *testing.T) {
			if !regexp.MustCompile(`stepShell\("` + regexp.QuoteMeta(name) + `"`).MatchString(source.String()) {
				t.Errorf("%s is read by no stepShell call of the plan", path)
			}
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
