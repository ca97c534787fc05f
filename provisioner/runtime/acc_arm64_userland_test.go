package runtimeprovisioner

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
)

// TestAccProvisionerArm64 provisions a container of the arm64 base image (real arm64
// userland, emulated here) through the docker builder: the plan detects aarch64, installs,
// passes its checks, and the committed image is an arm64 image whose userland says aarch64.
// The arm64 base image carries the tools the checks use but not every system package, and
// the container has no network: system_packages is off.
func TestAccProvisionerArm64(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	if rigEnv.Arm64Image == "" {
		t.Skip("this machine cannot run arm64 userland (scripts/rig.sh arm64-image says why)")
	}
	tag := fmt.Sprintf("openhands-acc-arm64-%d", os.Getpid())
	t.Cleanup(func() { rig.RemoveImages(tag + ":acc") })
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "provisioner_arm64",
		Template: accTemplate(t, rigEnv.Arm64Image, offlineRun, "    system_packages = false\n", tag),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.VerifiedBuild(t)(cmd, logfile); err != nil {
				return err
			}
			if log := rig.ReadLog(t, logfile); !strings.Contains(log, "platform: Debian 13 (aarch64)") {
				return fmt.Errorf("the plan did not detect aarch64")
			}
			return nil
		},
	})
	image := tag + ":acc"
	if arch, err := rig.Docker("image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", image); err != nil || strings.TrimSpace(arch) != "linux/arm64" {
		t.Errorf("the committed image is %q (%v), want linux/arm64", arch, err)
	}
	out, err := rig.Docker("run", "--rm", "--network=none", "--platform", "linux/arm64", "--user", "openhands", "--entrypoint", "/bin/bash", image,
		"-c", "uname -m; micromamba run -n openhands python -c 'import platform; print(platform.machine())'")
	if got := strings.TrimSpace(out); err != nil || got != "aarch64\naarch64" {
		t.Errorf("the image's userland says %q (%v), want aarch64 twice", got, err)
	}
}
