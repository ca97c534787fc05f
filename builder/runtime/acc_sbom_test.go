package runtimebuilder

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
	"github.com/openhands-runtime/packer-plugin-openhands/sbom"
)

var sbomWritten = regexp.MustCompile(`SBOM written to (\S+) \(([0-9]+) components, (sha256:[0-9a-f]{64})\), provenance to (\S+), in ([0-9.]+(?:ms|s))`)

// TestAccBuilderSBOM: the builder's SBOM file exists and parses, describes the image by its
// content tag and id, and lists as many deb packages as dpkg-query -W and as many Python
// distributions as uv in the image; an unchanged second run keeps it, as it describes the
// same image id.
func TestAccBuilderSBOM(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	repo, src := accRepository(t, "sbom")
	path := filepath.Join(t.TempDir(), "image.cdx.json")
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "builder_sbom_first",
		Template: builderTemplate(repo, src, fmt.Sprintf("  sbom_path = %q\n", path), ""),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			m := sbomWritten.FindStringSubmatch(rig.ReadLog(t, logfile))
			if m == nil || m[1] != path || m[4] != sbom.ProvenancePath(path) {
				return fmt.Errorf("the build output does not report the SBOM at %s and the provenance beside it", path)
			}
			took, err := time.ParseDuration(m[5])
			if err != nil {
				return err
			}
			t.Logf("SBOM of %s components in %s", m[2], took)
			return nil
		},
	})
	written, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	provenance, err := os.ReadFile(sbom.ProvenancePath(path))
	if err != nil {
		t.Fatal(err)
	}
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "builder_sbom_unchanged",
		Template: builderTemplate(repo, src, fmt.Sprintf("  sbom_path = %q\n", path), ""),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			if !strings.Contains(rig.ReadLog(t, logfile), "kept: "+path) {
				return fmt.Errorf("the unchanged run did not keep the SBOM of the same image")
			}
			return nil
		},
	})
	if kept, err := os.ReadFile(path); err != nil || string(kept) != string(written) {
		t.Errorf("the unchanged run rewrote the SBOM (%v)", err)
	}
	if kept, err := os.ReadFile(sbom.ProvenancePath(path)); err != nil || string(kept) != string(provenance) {
		t.Errorf("the unchanged run rewrote the provenance (%v)", err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(f, cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatal(err)
	}
	image := repo + ":acc"
	subject := bom.Metadata.Component
	if subject == nil || subject.Version != imageID(t, image) || !strings.HasPrefix(subject.Name, repo+":oh_v") {
		t.Errorf("the SBOM describes %+v, want %s by its content tag", subject, imageID(t, image))
	}
	counts := map[string]int{}
	for _, c := range *bom.Components {
		typ, _, _ := strings.Cut(strings.TrimPrefix(c.PackageURL, "pkg:"), "/")
		counts[typ]++
	}
	debs, err := strconv.Atoi(strings.TrimSpace(rig.InImage(t, image, "root", "dpkg-query -W | wc -l")))
	if err != nil {
		t.Fatal(err)
	}
	freeze := strings.TrimSpace(rig.InImage(t, image, "openhands", "/openhands/bin/uv pip list --python /openhands/micromamba/envs/openhands/bin/python3.12 --format freeze"))
	if counts["deb"] != debs || counts["pypi"] != len(strings.Split(freeze, "\n")) || counts["generic"] != 4 {
		t.Errorf("the SBOM counts %v; the image has %d deb packages, %d distributions (and 3 tools, Chromium)", counts, debs, len(strings.Split(freeze, "\n")))
	}
}
