package runtimeprovisioner

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// TestAccProvisionerPerPlatformFiles runs one provisioner block, with micromamba and uv given
// for linux/arm64 in the *_by_platform options and the stand-ins as the tools' own files for
// the other platform, on an amd64 container and on an arm64 one (real arm64 userland,
// emulated here), as one block serves the x86_64 and the Graviton source of an AMI build: the
// bundle carries both files and each machine installs the one of its `uname -m`, told apart by
// their sha256 in the committed images. The tools are the rig's stand-ins (Python scripts, of
// no architecture; the real tools' download hosts are unreachable here), the arm64 copy with a
// line of its own.
func TestAccProvisionerPerPlatformFiles(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	if rigEnv.Arm64Image == "" {
		t.Skip("this machine cannot run arm64 userland (scripts/rig.sh arm64-image says why)")
	}
	files := t.TempDir()
	armMicromamba, armMicromambaSum := rig.PlatformStandin(t, files, "micromamba", "linux/arm64")
	armUV, armUVSum := rig.PlatformStandin(t, files, "uv", "linux/arm64")
	body := fmt.Sprintf("    system_packages = false\n    micromamba_path_by_platform = { \"linux/arm64\" = %q }\n    uv_path_by_platform = { \"linux/arm64\" = %q }\n",
		armMicromamba, armUV)
	own := map[string]string{} // the stand-ins' sums, which the amd64 machine installs
	for _, tool := range []string{"micromamba", "uv"} {
		sum, err := plan.FileSHA256(filepath.Join(rig.StandinsDir(), tool))
		if err != nil {
			t.Fatal(err)
		}
		own[tool] = sum
	}
	installed := map[string]string{"micromamba": "/openhands/micromamba/bin/micromamba", "uv": "/openhands/bin/uv"}
	for _, tc := range []struct {
		platform, base, machine string
		want                    map[string]string // tool -> sha256 installed
	}{
		{"linux/amd64", rigEnv.BaseImage, "x86_64", own},
		{"linux/arm64", rigEnv.Arm64Image, "aarch64", map[string]string{"micromamba": armMicromambaSum, "uv": armUVSum}},
	} {
		tag := fmt.Sprintf("openhands-acc-perplatform-%s-%d", tc.machine, os.Getpid())
		t.Cleanup(func() { rig.RemoveImages(tag + ":acc") })
		acctest.TestPlugin(t, &acctest.PluginTestCase{
			Name:     "provisioner_per_platform_" + tc.machine,
			Template: accTemplate(t, tc.base, offlineRun, body, tag),
			Check: func(cmd *exec.Cmd, logfile string) error {
				if err := rig.VerifiedBuild(t)(cmd, logfile); err != nil {
					return err
				}
				if log := rig.ReadLog(t, logfile); !strings.Contains(log, "("+tc.machine+")") {
					return fmt.Errorf("the plan did not detect %s", tc.machine)
				}
				return nil
			},
		})
		got := rig.InstalledSHA256(t, tag+":acc", tc.platform, installed["micromamba"], installed["uv"])
		for tool, path := range installed {
			if got[path] != tc.want[tool] {
				t.Errorf("%s: %s is %s, want %s", tc.platform, path, got[path], tc.want[tool])
			}
		}
	}
}
