package runtimeprovisioner

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// TestAccProvisionerSBOM: the SBOM of a docker-provisioned image lists what the image holds,
// as the image's own tools count it: every distribution the stand-ins installed at its
// version, as many deb packages as dpkg-query -W lists, and the supplied tools with the
// digests of the files uploaded.
func TestAccProvisionerSBOM(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	tag := "openhands-acc-sbom"
	t.Cleanup(func() { rig.RemoveImages(tag + ":acc") })
	path := filepath.Join(t.TempDir(), "acc.sbom.cdx.json")
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "provisioner_sbom",
		Template: accTemplate(t, rigEnv.BaseImage, offlineRun, fmt.Sprintf("    sbom_path = %q\n", path), tag),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			log := rig.ReadLog(t, logfile)
			if !regexp.MustCompile(`SBOM written to ` + regexp.QuoteMeta(path) + ` \([0-9]+ components, sha256:[0-9a-f]{64}\)`).MatchString(log) {
				return fmt.Errorf("the build output does not report the SBOM")
			}
			if strings.Contains(log, "openhands-inventory") {
				return fmt.Errorf("the inventory lines were shown in the build output")
			}
			return nil
		},
	})
	byType := readSBOM(t, path)
	image := tag + ":acc"
	freeze := strings.TrimSpace(rig.InImage(t, image, "openhands", "/openhands/bin/uv pip list --python /openhands/micromamba/envs/openhands/bin/python3.12 --format freeze"))
	lines := strings.Split(freeze, "\n")
	for _, line := range lines {
		name, version, _ := strings.Cut(line, "==")
		if c, ok := findPypi(byType["pypi"], name); !ok || c.Version != version {
			t.Errorf("the SBOM has %s as %+v, the image %s", name, c, version)
		}
	}
	if len(byType["pypi"]) != len(lines) {
		t.Errorf("the SBOM lists %d Python distributions, uv %d", len(byType["pypi"]), len(lines))
	}
	for _, locked := range fixtureLocked {
		name, _, _ := strings.Cut(locked, "==")
		if c, _ := findPypi(byType["pypi"], name); c.ExternalReferences == nil {
			t.Errorf("%s, pinned by the lock, has none of the lock's file hashes", locked)
		}
	}

	debs, err := strconv.Atoi(strings.TrimSpace(rig.InImage(t, image, "root", "dpkg-query -W | wc -l")))
	if err != nil {
		t.Fatal(err)
	}
	if len(byType["deb"]) != debs || debs < 50 {
		t.Errorf("the SBOM lists %d deb packages, dpkg-query -W %d", len(byType["deb"]), debs)
	}

	tarball, err := rig.VSCodeServerTarball()
	if err != nil {
		t.Fatal(err)
	}
	for name, file := range map[string]string{"micromamba": filepath.Join(rig.StandinsDir(), "micromamba"),
		"uv": filepath.Join(rig.StandinsDir(), "uv"), "vscode_server": tarball} {
		want, err := plan.FileSHA256(file)
		if err != nil {
			t.Fatal(err)
		}
		c, ok := byType["generic"][name]
		if !ok || c.Hashes == nil || (*c.Hashes)[0].Value != want {
			t.Errorf("tool %s: %+v, want the sha256 of the supplied %s, %s", name, c, file, want)
		}
	}
	if _, ok := byType["generic"]["playwright-chromium"]; !ok {
		t.Errorf("the SBOM lacks Playwright's Chromium")
	}
}

// readSBOM decodes the SBOM at path into its components by purl type and name.
func readSBOM(t *testing.T, path string) map[string]map[string]cdx.Component {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(f, cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatal(err)
	}
	byType := map[string]map[string]cdx.Component{}
	for _, c := range *bom.Components {
		typ, _, _ := strings.Cut(strings.TrimPrefix(c.PackageURL, "pkg:"), "/")
		if byType[typ] == nil {
			byType[typ] = map[string]cdx.Component{}
		}
		byType[typ][c.Name] = c
	}
	return byType
}

// findPypi finds a distribution by its name as any tool spells it.
func findPypi(components map[string]cdx.Component, name string) (cdx.Component, bool) {
	norm := func(s string) string { return strings.NewReplacer("_", "-", ".", "-").Replace(strings.ToLower(s)) }
	for n, c := range components {
		if norm(n) == norm(name) {
			return c, true
		}
	}
	return cdx.Component{}, false
}
