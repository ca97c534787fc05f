package plan

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyScriptReportsEveryFailedCheck runs the standalone verification on a machine
// without any runtime: every check fails, and each is named.
func TestVerifyScriptReportsEveryFailedCheck(t *testing.T) {
	o := Options{Prefix: filepath.Join(t.TempDir(), "nothing-here"), User: "nobody", Verify: Verify{Commands: []string{"true", "false"}}}
	o.SetDefaults()
	p := New(o, Inputs{})
	script := p.VerifyScript("test")
	path := filepath.Join(t.TempDir(), "verify.sh")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", path).CombinedOutput()
	if err == nil {
		t.Fatalf("verification passed on an empty machine:\n%s", out)
	}
	for _, c := range p.Checks {
		want := "check " + c.Name + ": FAILED"
		if c.Name == "command 1" {
			want = "check command 1: ok"
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(string(out), "verification failed: import pydantic, import openai") {
		t.Errorf("the summary does not list the failed checks:\n%s", out)
	}
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Log("shellcheck is not installed; `make rig` installs it")
		return
	}
	if out, err := exec.Command("shellcheck", "-s", "bash", "-S", "warning", path).CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}
