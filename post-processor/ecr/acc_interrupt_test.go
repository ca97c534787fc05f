package ecrpostprocessor

import (
	"fmt"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/ecrtest"
	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
)

// TestAccECRPushInterrupted presses Ctrl-C (SIGINT to packer's process group) while
// openhands-ecr uploads blobs to a slow registry: packer ends cancelled within 15 s, no
// manifest reached the registry (so no tag points at a partial image), and a second build
// pushes the whole image and tags it.
func TestAccECRPushInterrupted(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	cleanupImages(t)
	reg := ecrtest.NewRegistry(t, "AWS", registryPwd)
	// Each upload request takes 30 s: the push is still uploading when Ctrl-C comes.
	reg.SlowUploads(30 * time.Second)
	uploading := make(chan struct{})
	var once sync.Once
	reg.OnUpload(func(string) { once.Do(func() { close(uploading) }) })
	ecr := ecrtest.NewECR(t, reg, ecrtest.ECROptions{AccessKeyID: accessKey, SecretAccessKey: secretKey})
	// What is tested is the push: no verification container, the fastest gzip level.
	template := pushTemplate(t, ecr, fixtureSource(t), "    skip_verify = true\n    layer_compression_level = 1")

	run := rig.StartPacker(t, rigEnv.Packer, template)
	run.WaitFor(t, "a blob upload to the registry", 10*time.Minute, func() bool {
		select {
		case <-uploading:
			return true
		default:
			return false
		}
	})
	run.Interrupt(t)
	// Half an upload request's 30 s: a push that waited for its requests in flight would take
	// longer (3-5 s measured, on 2 busy cores).
	if code := run.Wait(t, 15*time.Second); code == 0 {
		t.Errorf("an interrupted build exited 0:\n%s", run.Output())
	}
	t.Logf("packer ended %s after the interrupt", rig.Elapsed(run.Interrupted()))
	run.RequireLines(t, "Cleanly cancelled builds after being interrupted")
	if n := reg.ManifestPuts(); n != 0 {
		t.Errorf("the interrupted push put %d manifests", n)
	}
	if tags, err := reg.Tags(repo); err == nil && len(tags) > 0 {
		t.Errorf("the interrupted push left tags %q", tags)
	}

	reg.SlowUploads(0)
	reg.OnUpload(nil)
	var digest string
	rig.Rerun(t, "ecr_push_after_interrupt", template, func(cmd *exec.Cmd, logfile string) error {
		if err := rig.BuildSucceeded(cmd, logfile); err != nil {
			return err
		}
		m := pushedLine.FindStringSubmatch(rig.ReadLog(t, logfile))
		if m == nil {
			return fmt.Errorf("no push summary in the output; see %s", logfile)
		}
		digest = m[2]
		return nil
	})
	for _, tag := range []string{"latest", "v1"} {
		if got, err := reg.Digest(repo, tag); err != nil || got != digest {
			t.Errorf("%s:%s is %s (%v), the re-run pushed %s", repo, tag, got, err, digest)
		}
	}
	// Every blob is whole: its bytes hash to the manifest's digests.
	checkBlobs(t, registryImage(t, reg, digest))
}

// registryImage is the image digest names in reg's repository.
func registryImage(t *testing.T, reg *ecrtest.Registry, digest string) v1.Image {
	t.Helper()
	ref, err := name.ParseReference(reg.Host() + "/" + repo + "@" + digest)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(ref, remote.WithAuth(reg.Authenticator()))
	if err != nil {
		t.Fatal(err)
	}
	return img
}
