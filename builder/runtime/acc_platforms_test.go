package runtimebuilder

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
)

// TestAccBuilderPerPlatformFiles builds an air-gapped (network_mode = "none") image for
// linux/amd64 and linux/arm64 (arm64 on real arm64 userland, emulated here) with the tools
// supplied per platform, and checks that each platform's image holds its own files, by their
// sha256 inside the image. Then `packer validate` refuses the rig's real x86_64 uv given for
// both platforms, naming the option and arm64.
//
// The installed files are the rig's stand-ins for micromamba and uv (Python scripts, so
// architecture-neutral): the real tools' download hosts are unreachable here and the rig has
// no arm64 build of either. Each platform's copy carries a line of its own, so the two files
// differ and the image shows which it got.
func TestAccBuilderPerPlatformFiles(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	if rigEnv.Arm64Image == "" {
		t.Skip("this machine cannot run arm64 userland (scripts/rig.sh arm64-image says why)")
	}
	repo, src := accRepository(t, "perplatform")
	files := t.TempDir()
	// tool -> platform -> the local file given for it, and its sha256.
	supplied, sums := map[string]map[string]string{}, map[string]map[string]string{}
	for _, tool := range []string{"micromamba", "uv"} {
		supplied[tool], sums[tool] = map[string]string{}, map[string]string{}
		for _, p := range []string{"linux/amd64", "linux/arm64"} {
			supplied[tool][p], sums[tool][p] = rig.PlatformStandin(t, files, tool, p)
		}
	}
	// The arm64 base carries the tools the checks use, not every system package. The
	// stand-in openvscode-server tarball (no `node`, so of no architecture) goes to both.
	attributes := fmt.Sprintf(`  platforms = ["linux/amd64", "linux/arm64"]
  base_images = { "linux/arm64" = %q }
  system_packages = false
  micromamba_path_by_platform = { "linux/amd64" = %q, "linux/arm64" = %q }
  uv_path_by_platform = { "linux/amd64" = %q, "linux/arm64" = %q }
`, rigEnv.Arm64Image, supplied["micromamba"]["linux/amd64"], supplied["micromamba"]["linux/arm64"],
		supplied["uv"]["linux/amd64"], supplied["uv"]["linux/arm64"])
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "builder_per_platform_files",
		Template: perPlatformTemplate(repo, src, attributes),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			if log := rig.ReadLog(t, logfile); !strings.Contains(log, "linux/arm64") || !strings.Contains(log, "linux/amd64") {
				return fmt.Errorf("the output does not name both platforms")
			}
			return nil
		},
	})
	if t.Failed() {
		return
	}
	installed := map[string]string{"micromamba": "/openhands/micromamba/bin/micromamba", "uv": "/openhands/bin/uv"}
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		image := repo + ":" + platformTag("acc", p)
		got := rig.InstalledSHA256(t, image, p, installed["micromamba"], installed["uv"])
		for tool, path := range installed {
			if want := sums[tool][p]; got[path] != want {
				t.Errorf("%s: %s is %s, want the %s copy given for %s (%s)", image, path, got[path], tool, p, want)
			}
		}
	}

	// A real x86_64 executable (the rig's uv) for both platforms: refused at validate.
	if rigEnv.UV == "" {
		t.Skip("the rig has no real uv binary to give both platforms")
	}
	path := filepath.Join(t.TempDir(), "x86_64-for-both.pkr.hcl")
	bad := perPlatformTemplate(repo, src, fmt.Sprintf("  platforms = [\"linux/amd64\", \"linux/arm64\"]\n  uv_path = %q\n", rigEnv.UV))
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(rigEnv.Packer, "validate", path).CombinedOutput()
	want := fmt.Sprintf(`uv_path: %q is an x86_64 executable, but linux/arm64 is built; give uv_path_by_platform["linux/arm64"] an aarch64 one`, rigEnv.UV)
	if err == nil || !strings.Contains(string(out), want) {
		t.Errorf("packer validate of an x86_64 uv for both platforms (%v) does not say %q:\n%s", err, want, out)
	}
}

// perPlatformTemplate is builderTemplate without the stand-ins' micromamba_path and uv_path
// (rig.StandinAttributes), for attributes that give those tools per platform.
func perPlatformTemplate(repo, src, attributes string) string {
	const here = "# per-platform attributes"
	var out []string
	for _, line := range strings.Split(builderTemplate(repo, src, here, ""), "\n") {
		if f := strings.Fields(line); len(f) > 0 && (f[0] == "micromamba_path" || f[0] == "uv_path") {
			continue
		}
		out = append(out, line)
	}
	return strings.Replace(strings.Join(out, "\n"), here, attributes, 1)
}
