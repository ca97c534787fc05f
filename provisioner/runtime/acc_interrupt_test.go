package runtimeprovisioner

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
)

// slowDependencies makes the uv stand-in's installs take ten minutes: the dependency step is
// still running when the test interrupts the build.
const slowDependencies = "    environment_vars = [\"UV_STANDIN_SLOW=600\"]\n"

// slowWhile is slowDependencies for as long as the file /tmp/slow exists on the target.
const slowWhile = "    environment_vars = [\"UV_STANDIN_SLOW=600\", \"UV_STANDIN_SLOW_WHILE=/tmp/slow\"]\n"

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
// in the container container() names (once the build's output tells), presses Ctrl-C, and
// returns the run once packer has ended, having failed.
//
// Packer ends 100-200 ms after a Ctrl-C without waiting for a cancelled provisioner (the
// SDK's provision step returns at once, the builder returns, packer kills the plugins, and
// the provisioner's output goes through the builder's connection): what the provisioner says
// then ("Build cancelled: stopping ...", "Stopped the OpenHands runtime plan ...") reaches
// the output only when it wins that race, so the tests check the target instead, and log
// whether the lines came. TestAccProvisionerTimeoutOverSSH requires them, where packer waits.
func interruptDuringDependencies(t *testing.T, template string, container func(output string) string) *rig.PackerRun {
	t.Helper()
	run := rig.StartPacker(t, rigEnv.Packer, template)
	run.WaitFor(t, "uv pip install on the target", 5*time.Minute, func() bool {
		name := container(run.Output())
		if name == "" {
			return false
		}
		out, _ := exec.Command("docker", "exec", name, "ps", "-eo", "args").Output()
		return strings.Contains(string(out), "pip install")
	})
	run.Interrupt(t)
	if code := run.Wait(t, 2*time.Minute); code == 0 {
		t.Errorf("an interrupted build exited 0:\n%s", run.Output())
	}
	t.Logf("packer ended %s after the interrupt; in the output: the stopping line %t, the stopped line %t", rig.Elapsed(run.Interrupted()),
		strings.Contains(run.Output(), "Build cancelled: stopping the OpenHands runtime plan"), strings.Contains(run.Output(), "Stopped the OpenHands runtime plan"))
	return run
}

// checkPlanStopped fails the test when a process of the plan is left in container a few
// seconds after the build ended.
func checkPlanStopped(t *testing.T, run *rig.PackerRun, container string) {
	t.Helper()
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

// checkSSHPlanStopped fails the test when a process of the plan, its bundle, unpacked
// directory or pid file is left on the SSH target.
func checkSSHPlanStopped(t *testing.T, run *rig.PackerRun, target *sshTarget) {
	t.Helper()
	checkPlanStopped(t, run, target.container)
	if left := target.exec(t, "ls /tmp | grep openhands-plan || true"); left != "" {
		t.Errorf("the stopped plan left %s in /tmp", left)
	}
}

// TestAccProvisionerTimeoutOverSSH: the provisioner's timeout cancels it while the plan runs,
// and Packer, unlike after a Ctrl-C, waits for it: the plan stops on the target and the
// provisioner says so once the target has confirmed it.
func TestAccProvisionerTimeoutOverSSH(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	target := startSSHTarget(t)
	standins := standinAttributes(t)
	// Wherever the plan is after 20 s (the dependency step takes ten minutes), it is stopped.
	run := rig.StartPacker(t, rigEnv.Packer, target.template(copyFixture(t), standins+slowDependencies+"    timeout = \"20s\"\n"))
	if code := run.Wait(t, 2*time.Minute); code == 0 {
		t.Fatalf("a build whose provisioner timed out exited 0:\n%s", run.Output())
	}
	run.RequireLines(t, "Build cancelled: stopping the OpenHands runtime plan on the target",
		"Stopped the OpenHands runtime plan on the target", "the OpenHands runtime plan was cancelled")
	checkSSHPlanStopped(t, run, target)
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
	standins := standinAttributes(t)
	run := interruptDuringDependencies(t, target.template(src, standins+slowDependencies), func(string) string { return target.container })
	checkSSHPlanStopped(t, run, target)
	rig.Rerun(t, "provisioner_ssh_after_interrupt", target.template(src, standins), rig.VerifiedBuild(t))
}

// containerID is the docker builder's container, from its "Container ID: ..." line.
var containerID = regexp.MustCompile(`Container ID: ([0-9a-f]{12,})`)

// TestAccProvisionerInterruptedOnDocker presses Ctrl-C during the dependency step on the docker
// builder: the build container is removed with everything running in it, no image is
// tagged, and a second build completes and passes verification.
func TestAccProvisionerInterruptedOnDocker(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	repo := "openhands-acc-interrupted"
	t.Cleanup(func() { rig.RemoveImages(repo + ":acc") })
	src := copyFixture(t)
	run := interruptDuringDependencies(t, accTemplateFrom(t, src, rigEnv.BaseImage, offlineRun, slowDependencies, repo), func(out string) string {
		if m := containerID.FindStringSubmatch(out); m != nil {
			return m[1]
		}
		return ""
	})
	id := containerID.FindStringSubmatch(run.Output())[1]
	rig.WaitContainerGone(t, id, run.Interrupted(), 10*time.Second)
	if out, _ := exec.Command("docker", "images", "-q", repo).Output(); strings.TrimSpace(string(out)) != "" {
		t.Errorf("the interrupted build tagged an image %s: %s", repo, out)
	}
	rig.Rerun(t, "provisioner_docker_after_interrupt", accTemplateFrom(t, src, rigEnv.BaseImage, offlineRun, "", repo), rig.VerifiedBuild(t))
}

// dropSSHSessions kills the target's per-connection sshd processes (the listener, PID 1, stays):
// to the build, the connection is lost mid-plan.
func (s *sshTarget) dropSSHSessions(t *testing.T) {
	t.Helper()
	// Bracketed: the pattern must not match this shell's own command line.
	s.exec(t, `for p in $(ps -eo pid,args | awk '$2 ~ /^ss[h]d:/ {print $1}'); do kill -9 "$p"; done`)
}

// TestAccProvisionerLostConnection kills the SSH connection mid-plan: without max_retries the
// build fails saying the connection was lost, and the plan stops on the machine and leaves
// nothing in /tmp; with max_retries the plan runs again, skips the steps done, and completes.
func TestAccProvisionerLostConnection(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	standins := standinAttributes(t)
	for _, tc := range []struct {
		name, retries string
		want          []string
	}{
		{"no retries", "", []string{"the connection to the target was lost"}},
		{"max_retries", "    max_retries = 2\n", []string{"verification passed", "python-env: skipped (already done)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := startSSHTarget(t)
			// The install is slow in the first attempt only: the connection drops during it.
			target.exec(t, "touch /tmp/slow")
			run := rig.StartPacker(t, rigEnv.Packer, target.template(copyFixture(t), standins+slowWhile+tc.retries))
			run.WaitFor(t, "uv pip install on the target", 5*time.Minute, func() bool {
				return strings.Contains(planProcesses(t, target.container), "pip install")
			})
			target.dropSSHSessions(t)
			dropped := time.Now()
			target.exec(t, "rm /tmp/slow")
			code := run.Wait(t, 5*time.Minute)
			t.Logf("exit %d\n%s", code, run.Output())
			if (code == 0) != (tc.retries != "") {
				t.Errorf("exit status %d", code)
			}
			if code == 0 {
				t.Logf("recovered in %s: max_retries ran the plan again to the end", rig.Elapsed(dropped))
			}
			run.RequireLines(t, tc.want...)
			if tc.retries == "" {
				checkSSHPlanStopped(t, run, target)
			}
		})
	}
}
