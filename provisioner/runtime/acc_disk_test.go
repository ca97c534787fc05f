package runtimeprovisioner

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
)

// diskFullOptions: the prefix's filesystem is far below the preflight's 5 GiB, and a full
// disk is not worth retrying (three retries would wait 30 s).
const diskFullOptions = "    min_free_disk_gb = 0\n    network_retries  = 0\n"

// TestAccProvisionerDiskFull fills the prefix's filesystem (a 32 MiB tmpfs on the SSH target)
// while uv installs the dependencies: the build fails saying the disk is full, in which step
// and what to do, no stamp claims the dependencies done, and once the space is freed a second
// build on the same machine skips the steps done, installs the dependencies and passes
// verification.
func TestAccProvisionerDiskFull(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	target := startSSHTarget(t, "--tmpfs", "/openhands:rw,exec,size=32m")
	standins := standinAttributes(t)
	src := copyFixture(t)
	// uv waits while /tmp/slow exists: the disk fills before it writes anything.
	target.exec(t, "touch /tmp/slow")
	run := rig.StartPacker(t, rigEnv.Packer, target.template(src, standins+slowWhile+diskFullOptions))
	run.WaitFor(t, "uv pip install on the target", 5*time.Minute, func() bool {
		return strings.Contains(planProcesses(t, target.container), "pip install")
	})
	// dd writes until the filesystem is full, and fails then.
	target.exec(t, "dd if=/dev/zero of=/openhands/ballast bs=1M 2>/dev/null || true; df -k /openhands; rm /tmp/slow")
	if code := run.Wait(t, 2*time.Minute); code == 0 {
		t.Fatalf("the build exited 0 on a full disk:\n%s", run.Output())
	}
	run.RequireLines(t, `step "dependencies" failed: the target's disk is full (No space left on device)`,
		"free space on the filesystem of the prefix", "Failed to install: ", "No space left on device (os error 28)")

	// The stamps of the steps that finished are there, the failed step's is not.
	stamps := strings.Fields(target.exec(t, "ls /var/lib/openhands-runtime/openhands"))
	if !slices.Contains(stamps, "python-env") || slices.Contains(stamps, "dependencies") {
		t.Errorf("stamps after the failed dependency step: %q, want python-env's and not dependencies'", stamps)
	}

	target.exec(t, "rm /openhands/ballast")
	rig.Rerun(t, "provisioner_ssh_after_disk_full", target.template(src, standins+diskFullOptions), func(cmd *exec.Cmd, logfile string) error {
		if err := rig.VerifiedBuild(t)(cmd, logfile); err != nil {
			return err
		}
		log := rig.ReadLog(t, logfile)
		for _, want := range []string{"python-env: skipped (already done)", "] dependencies: done in "} {
			if !strings.Contains(log, want) {
				return fmt.Errorf("the re-run's output lacks %q; see %s", want, logfile)
			}
		}
		return nil
	})
}
