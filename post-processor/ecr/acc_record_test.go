package ecrpostprocessor

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/ecrtest"
	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// builtLayout is a runtime's layout away from every default the checks would look in: no
// browser, another prefix and runtime user.
var builtLayout = plan.Layout{Prefix: "/srv/oh", User: "agent", InstallBrowser: new(bool)}

// builtLayoutHCL is builtLayout as attributes of a source or provisioner block.
const builtLayoutHCL = `    install_browser = false
    prefix          = "/srv/oh"
    user            = "agent"
`

// pushedWith checks a build that verified and pushed the runtime with the options it was
// built with, from where the post-processor says, and returns the pushed digest.
func pushedWith(t *testing.T, from string, digest *string) func(*exec.Cmd, string) error {
	return func(cmd *exec.Cmd, logfile string) error {
		if err := rig.BuildSucceeded(cmd, logfile); err != nil {
			return err
		}
		log := rig.ReadLog(t, logfile)
		for _, want := range []string{from, "(openhands-ecr): check micromamba ownership: ok", "(openhands-ecr): verification passed"} {
			if !strings.Contains(log, want) {
				return fmt.Errorf("the output lacks %q", want)
			}
		}
		if strings.Contains(log, "check chromium") {
			return fmt.Errorf("a runtime built without the browser was checked for it")
		}
		m := pushedLine.FindStringSubmatch(log)
		if m == nil {
			return fmt.Errorf("no push summary in the output")
		}
		*digest = m[2]
		return nil
	}
}

// checkLatest: the registry holds the pushed digest under the latest tag.
func checkLatest(t *testing.T, reg *ecrtest.Registry, digest string) {
	t.Helper()
	if got, err := reg.Digest(repo, "latest"); err != nil || got != digest {
		t.Errorf("%s:latest is %s (%v), the build pushed %s", repo, got, err, digest)
	}
}

// TestAccECRVerifiesWithTheBuilderOptions builds a runtime with the builder with
// install_browser = false, another prefix and another user, and pushes it with openhands-ecr
// with none of them repeated: verified with the options it was built with, handed over by
// the builder's artifact, and pushed. The image holds the same record, for a push from
// another template. The same template with a post-processor that sets prefix and
// install_browser to other values is refused before the verification, naming both values of
// each, and pushes nothing.
func TestAccECRVerifiesWithTheBuilderOptions(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	cleanupImages(t)
	repository := fmt.Sprintf("openhands-acc-ecr-%d", os.Getpid())
	reg := ecrtest.NewRegistry(t, "AWS", registryPwd)
	ecr := ecrtest.NewECR(t, reg, ecrtest.ECROptions{AccessKeyID: accessKey, SecretAccessKey: secretKey})
	src := fixtureSource(t)
	attributes := builtLayoutHCL + "    tags            = [\"record\"]\n"

	var digest string
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "ecr_builder_options",
		Template: buildAndPushTemplateWith(t, ecr, repository, src, secretKey, attributes, ""),
		Check:    pushedWith(t, "with the options it was built with, from the openhands-runtime builder's record", &digest),
	})
	if t.Failed() {
		return
	}
	checkLatest(t, reg, digest)
	written := rig.InImage(t, repository+":record", "", "cat "+plan.RecordPath)
	if r, err := plan.ReadRecord([]byte(written)); err != nil || r.Prefix != builtLayout.Prefix || r.User != builtLayout.User || *r.InstallBrowser {
		t.Errorf("the image's record %q (%v) is not the build's options", written, err)
	}

	puts := reg.ManifestPuts()
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "ecr_builder_options_contradicted",
		Template: buildAndPushTemplateWith(t, ecr, repository, src, secretKey, attributes, "    install_browser = true\n    prefix = \"/openhands\"\n    user = \"agent\""),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildFailed(cmd, logfile); err != nil {
				return err
			}
			// Packer wraps diagnostics at 80 columns.
			log := strings.Join(strings.Fields(rig.ReadLog(t, logfile)), " ")
			for _, want := range []string{
				`install_browser: the post-processor sets true, and the image sha256:`,
				`was built with false (the openhands-runtime builder's record): remove install_browser from the post-processor`,
				`prefix: the post-processor sets "/openhands", and the image sha256:`,
				`was built with "/srv/oh" (the openhands-runtime builder's record): remove prefix from the post-processor`,
			} {
				if !strings.Contains(log, want) {
					return fmt.Errorf("the output lacks %q", want)
				}
			}
			if strings.Contains(log, "user: the post-processor sets") {
				return fmt.Errorf("user, set to the value the image was built with, was refused")
			}
			if strings.Contains(log, "Verifying") {
				return fmt.Errorf("the verification ran despite the contradiction")
			}
			return nil
		},
	})
	if n := reg.ManifestPuts(); n != puts {
		t.Errorf("%d manifests were pushed after the contradiction", n-puts)
	}
}

// TestAccECRVerifiesWithTheProvisionerOptions provisions a runtime with the docker builder
// and the provisioner with install_browser = false, another prefix and another user, tags it
// with docker-tag (an artifact that carries nothing of the build) and pushes it with
// openhands-ecr with none of the options repeated: verified with the options the image
// records, and pushed. Then the same image without its record, as another tool would make
// it, is pushed from a template of its own: verified with the post-processor's options.
func TestAccECRVerifiesWithTheProvisionerOptions(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	cleanupImages(t)
	provisioned := fmt.Sprintf("openhands-acc-ecr-provisioned-%d:acc", os.Getpid())
	noRecord := fmt.Sprintf("openhands-acc-ecr-norecord-%d:acc", os.Getpid())
	t.Cleanup(func() { rig.RemoveImages(provisioned, noRecord) })
	standins, err := rig.StandinAttributes("    ")
	if err != nil {
		t.Fatal(err)
	}
	reg := ecrtest.NewRegistry(t, "AWS", registryPwd)
	ecr := ecrtest.NewECR(t, reg, ecrtest.ECROptions{AccessKeyID: accessKey, SecretAccessKey: secretKey})
	template := fmt.Sprintf(`
source "docker" "acc" {
  image       = %q
  pull        = false
  commit      = true
  run_command = ["-d", "-i", "-t", "--network=none", "--", "{{.Image}}"]
  changes     = %s
}

build {
  sources = ["source.docker.acc"]

  provisioner "openhands-runtime" {
    source_dir = %q
%s%s  }

  post-processors {
    post-processor "docker-tag" {
      repository = %q
      tags       = ["acc"]
    }
    %s
  }
}
`, rigEnv.BaseImage, rig.DockerChangesFor(builtLayout), fixtureSource(t), standins, builtLayoutHCL,
		strings.TrimSuffix(provisioned, ":acc"), ecrPostProcessor(t, ecr, secretKey, ""))

	var digest string
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "ecr_provisioner_options",
		Template: template,
		Check:    pushedWith(t, "with the options it was built with, from "+plan.RecordPath+" in the image", &digest),
	})
	if t.Failed() {
		return
	}
	checkLatest(t, reg, digest)

	if err := rig.DeriveImage(provisioned, noRecord, "rm "+plan.RecordPath); err != nil {
		t.Fatal(err)
	}
	template = fmt.Sprintf(`
source "docker" "norecord" {
  image       = %q
  pull        = false
  commit      = true
  run_command = ["-d", "-i", "-t", "--network=none", "--", "{{.Image}}"]
}

build {
  sources = ["source.docker.norecord"]

  %s
}
`, noRecord, ecrPostProcessor(t, ecr, secretKey, builtLayoutHCL))
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "ecr_no_record",
		Template: template,
		Check:    pushedWith(t, "it has no record of its build options ("+plan.RecordPath+"): the post-processor's options", &digest),
	})
	if !t.Failed() {
		checkLatest(t, reg, digest)
	}
}
