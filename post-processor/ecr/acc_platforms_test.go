package ecrpostprocessor

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/ecrtest"
	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
	"github.com/openhands-runtime/packer-plugin-openhands/sbom"
)

var (
	builtImage  = regexp.MustCompile(`Built sha256:[0-9a-f]+ in \S+ with `)
	pushedIndex = regexp.MustCompile(`Pushed (\S+)@(sha256:[0-9a-f]{64}), an index of 2 platforms \(linux/amd64=sha256:[0-9a-f]{64} linux/arm64=sha256:[0-9a-f]{64}\)`)
)

// TestAccTwoPlatformsBuildAndPush builds amd64 and arm64 images of the runtime with the
// builder (arm64 on real arm64 userland, emulated here) from the rig's two base images,
// verifies each and pushes them to the ECR doubles as one index; the same build again builds
// and pushes nothing. Then, with the built images gone from the engine, `docker pull
// --platform` of the index's tag gives each platform's very image (its image id), which runs
// as its architecture.
func TestAccTwoPlatformsBuildAndPush(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	if rigEnv.Arm64Image == "" {
		t.Skip("this machine cannot run arm64 userland (scripts/rig.sh arm64-image says why)")
	}
	cleanupImages(t)
	repository := fmt.Sprintf("openhands-acc-ecr-%d", os.Getpid())
	reg := ecrtest.NewRegistry(t, "AWS", registryPwd)
	ecr := ecrtest.NewECR(t, reg, ecrtest.ECROptions{AccessKeyID: accessKey, SecretAccessKey: secretKey})
	src := fixtureSource(t)
	// The arm64 base carries the tools the checks use, not every system package.
	attributes := fmt.Sprintf("  tags = [\"acc\"]\n  platforms = [\"linux/amd64\", \"linux/arm64\"]\n  base_images = { \"linux/arm64\" = %q }\n  system_packages = false\n", rigEnv.Arm64Image)
	template := buildAndPushTemplateWith(t, ecr, repository, src, secretKey, attributes, "")

	var index string
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "ecr_two_platforms",
		Template: template,
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			log := rig.ReadLog(t, logfile)
			if n := len(builtImage.FindAllString(log, -1)); n != 2 {
				return fmt.Errorf("%d images built, want one per platform", n)
			}
			if n := strings.Count(log, "(openhands-ecr): verification passed"); n != 2 {
				return fmt.Errorf("%d verifications passed, want one per platform", n)
			}
			m := pushedIndex.FindStringSubmatch(log)
			if m == nil {
				return fmt.Errorf("no index push summary in the output")
			}
			index = m[2]
			return nil
		},
	})
	if t.Failed() {
		return
	}
	for _, tag := range []string{"latest", "v1"} {
		if got, err := reg.Digest(repo, tag); err != nil || got != index {
			t.Errorf("%s:%s is %s (%v), want the index %s", repo, tag, got, err, index)
		}
	}
	// Each platform's manifest carries its own SBOM and provenance as referrers.
	raw, _, err := reg.Manifest(repo, index)
	if err != nil {
		t.Fatal(err)
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range im.Manifests {
		listed, err := reg.Referrers(repo, m.Digest.String())
		var types []string
		for _, d := range listed {
			types = append(types, d.ArtifactType)
		}
		slices.Sort(types)
		if want := []string{sbom.MediaType, sbom.ProvenanceMediaType}; err != nil || !slices.Equal(types, want) {
			t.Errorf("the %s manifest's referrers are %v (%v), want %v", m.Platform, types, err, want)
		}
	}
	uploaded, puts := reg.UploadedBytes(), reg.ManifestPuts()
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "ecr_two_platforms_unchanged",
		Template: template,
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			log := rig.ReadLog(t, logfile)
			if n := len(builtImage.FindAllString(log, -1)); n != 0 || strings.Count(log, "nothing to build") != 2 {
				return fmt.Errorf("the unchanged build built %d images", n)
			}
			if m := pushedIndex.FindStringSubmatch(log); m == nil || m[2] != index {
				return fmt.Errorf("the unchanged build pushed %v, want the index %s again", m, index)
			}
			return nil
		},
	})
	if reg.UploadedBytes() != uploaded || reg.ManifestPuts() != puts {
		t.Errorf("the unchanged push uploaded %d bytes and put %d manifests", reg.UploadedBytes()-uploaded, reg.ManifestPuts()-puts)
	}

	platforms := []struct{ platform, tag, uname string }{
		{"linux/amd64", "acc-amd64", "x86_64"},
		{"linux/arm64", "acc-arm64", "aarch64"},
	}
	built := map[string]string{} // platform -> image id
	for _, p := range platforms {
		ref := repository + ":" + p.tag
		out, err := rig.Docker("image", "inspect", "--format", "{{.Id}} {{.Os}}/{{.Architecture}}", ref)
		id, platform, _ := strings.Cut(strings.TrimSpace(out), " ")
		if err != nil || platform != p.platform {
			t.Fatalf("%s is %q (%v), want %s", ref, platform, err, p.platform)
		}
		built[p.platform] = id
	}
	// Without the built images (the bases stay), each pull downloads the runtime's layers.
	out, _ := rig.Docker("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference="+repository)
	rig.RemoveImages(strings.Fields(out)...)
	client, err := engine.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	tagged := reg.Host() + "/" + repo + ":latest"
	for _, p := range platforms {
		pulled, err := enginePull(t, client, reg, tagged, p.platform)
		if err != nil {
			t.Errorf("docker pull --platform %s %s: %v\n%s", p.platform, tagged, err, pulled)
			continue
		}
		if id, err := rig.Docker("image", "inspect", "--format", "{{.Id}}", tagged); err != nil || strings.TrimSpace(id) != built[p.platform] {
			t.Errorf("docker pull --platform %s gave image %s (%v), want the built %s", p.platform, strings.TrimSpace(id), err, built[p.platform])
		}
		run, err := rig.Docker("run", "--rm", "--network=none", "--platform", p.platform, "--entrypoint", "/bin/bash", tagged, "-c", "uname -m; test -x /openhands/micromamba/envs/openhands/bin/python && echo env")
		if got := strings.TrimSpace(run); err != nil || got != p.uname+"\nenv" {
			t.Errorf("the pulled %s image says %q (%v), want %s and its environment", p.platform, got, err, p.uname)
		}
		t.Logf("docker pull --platform %s: %d layers pulled", p.platform, strings.Count(pulled, "Pull complete"))
		rig.RemoveImages(tagged)
	}
}
