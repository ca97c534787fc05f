package runtimeprovisioner

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/rig"
)

// slowDependencies makes the uv stand-in's installs take ten minutes: the dependency step is
// still running when the test interrupts the build.
const slowDependencies = "    environment_vars = [\"UV_STANDIN_SLOW=600\"]\n"

// planProcess matches the command lines of the plan and its children on a target.
var planProcess = regexp.MustCompile(`openhands-plan|plan\.sh|pip install|UV_STANDIN|runuser`)

// planProcesses lists the plan's processes left in a container, one command line a line.
func planProcesses(t *testing.T, container string) string {
	t.Helper()
	out, err := exec.Command("docker", "exec", container, "ps", "-eo", "pid,args").Output()
	if err != nil {
		t.Fatalf("ps in %s: %v", container, err)
	}
	var left []string
	for _, line := range strings.Split(string(out), "\n") {
		// ps's own line never matches; a zombie is reaped with its parent.
		if planProcess.MatchString(line) {
			left = append(left, line[:min(len(line), 160)])
		}
	}
	return strings.Join(left, "\n")
}

// interruptDuringDependencies starts a build whose dependency step hangs, waits until uv runs
// in container, presses Ctrl-C, and checks the build stopped the plan: it says so, and no
// process of the plan is left in the container a few seconds later.
func interruptDuringDependencies(t *testing.T, template, container string) {
	t.Helper()
	run := rig.StartPacker(t, rigEnv.Packer, template)
	run.WaitFor(t, "uv pip install on the target", 5*time.Minute, func() bool {
		out, _ := exec.Command("docker", "exec", container, "ps", "-eo", "args").Output()
		return strings.Contains(string(out), "pip install")
	})
	interrupted := time.Now()
	run.Interrupt(t)
	if code := run.Wait(t, 2*time.Minute); code == 0 {
		t.Errorf("an interrupted build exited 0:\n%s", run.Output())
	}
	t.Logf("packer ended %s after the interrupt", rig.Elapsed(interrupted))
	run.RequireLines(t, "Stopped the OpenHands runtime plan on the target")
	// The launcher's traps and the group's SIGTERM take a moment after packer has ended.
	var left string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if left = planProcesses(t, container); left == "" {
			break
		}
	}
	if left != "" {
		t.Errorf("the plan still runs on the target after the interrupt:\n%s\nbuild output:\n%s", left, run.Output())
	}
}

// TestAccProvisionerInterruptedOverSSH presses Ctrl-C (SIGINT to packer's process group, as a
// terminal sends it) during the dependency step over SSH: no process of the plan is left on
// the machine, nor its bundle, unpacked directory or pid file in /tmp, and a second build
// completes and passes verification.
func TestAccProvisionerInterruptedOverSSH(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	target := startSSHTarget(t)
	src := copyFixture(t)
	standins, err := rig.StandinAttributes("    ")
	if err != nil {
		t.Fatal(err)
	}
	interruptDuringDependencies(t, target.template(src, standins+slowDependencies), target.container)
	if left := target.exec(t, "ls /tmp | grep openhands-plan || true"); left != "" {
		t.Errorf("the interrupted plan left %s in /tmp", left)
	}
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "provisioner_ssh_after_interrupt",
		Template: target.template(src, standins),
		Check:    rig.VerifiedBuild(t),
	})
}
