package runtimebuilder

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
)

// runningIn is the legacy builder's line naming the container of the instruction it runs.
var runningIn = regexp.MustCompile(`---> Running in ([0-9a-f]{12,})`)

// TestAccBuilderInterrupted presses Ctrl-C (SIGINT to packer's process group) while the
// image's dependency layer builds: the build container goes, no tag of the repository is
// left, and a second build completes and passes verification.
func TestAccBuilderInterrupted(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	repo, src := accRepository(t, "interrupted")
	// The uv stand-in's installs take ten minutes: the layer is building when Ctrl-C comes.
	run := rig.StartPacker(t, rigEnv.Packer, builderTemplate(repo, src, "  environment_vars = [\"UV_STANDIN_SLOW=600\"]\n", ""))
	var container string
	run.WaitFor(t, "uv pip install in a build container", 5*time.Minute, func() bool {
		m := runningIn.FindAllStringSubmatch(run.Output(), -1)
		if len(m) == 0 {
			return false
		}
		container = m[len(m)-1][1]
		out, _ := exec.Command("docker", "exec", container, "ps", "-eo", "args").Output()
		return strings.Contains(string(out), "pip install")
	})
	run.Interrupt(t)
	if code := run.Wait(t, 2*time.Minute); code == 0 {
		t.Errorf("an interrupted build exited 0:\n%s", run.Output())
	}
	t.Logf("packer ended %s after the interrupt", rig.Elapsed(run.Interrupted()))
	rig.WaitContainerGone(t, container, run.Interrupted(), 30*time.Second)
	if out, _ := exec.Command("docker", "images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference="+repo+"*").Output(); strings.TrimSpace(string(out)) != "" {
		t.Errorf("the interrupted build left tags: %s", out)
	}
	// A variable of this run's own makes the plan new to the engine: with the options of the
	// other tests, the engine's layer cache (an earlier run's) would serve every layer, and
	// the verification would not run.
	rig.Rerun(t, "builder_after_interrupt", builderTemplate(repo, src, "  environment_vars = [\"ACC_RUN="+repo+"\"]\n", ""), rig.VerifiedBuild(t))
}
