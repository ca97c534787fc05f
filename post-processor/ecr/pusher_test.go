package ecrpostprocessor

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/ecrtest"
	"github.com/openhands-runtime/packer-plugin-openhands/acctest/enginefake"
	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
	"github.com/openhands-runtime/packer-plugin-openhands/internal/imagepush"
)

// exportDriver is an engine holding one enginefake.SavedImage.
type exportDriver struct{ *platformsDriver }

func newExportDriver(img enginefake.SavedImage) *exportDriver {
	return &exportDriver{newPlatformsDriver(map[string]enginefake.SavedImage{"linux/amd64": img})}
}

const (
	pluginKey    = "AKIDPLUGINPUSH"
	pluginSecret = "plugin-push-secret"
)

// pluginTarget is a registry double behind an ECR double.
func pluginTarget(t *testing.T) *ecrtest.Registry {
	t.Helper()
	reg := ecrtest.NewRegistry(t, "AWS", "registry-password")
	t.Cleanup(func() { reg.OnUpload(nil) })
	return reg
}

// newPluginPostProcessor is a post-processor pushing with the plugin's pusher to reg
// through a new ECR double, with the blob cache in cacheDir.
func newPluginPostProcessor(t *testing.T, reg *ecrtest.Registry, raw map[string]interface{}, driver engine.Driver, cacheDir string) *PostProcessor {
	t.Helper()
	ecr := ecrtest.NewECR(t, reg, ecrtest.ECROptions{AccessKeyID: pluginKey, SecretAccessKey: pluginSecret})
	return newPluginPostProcessorFor(t, ecr, raw, driver, cacheDir)
}

func newPluginPostProcessorFor(t *testing.T, ecr *ecrtest.ECR, raw map[string]interface{}, driver engine.Driver, cacheDir string) *PostProcessor {
	t.Helper()
	base := map[string]interface{}{
		"repository": repoName, "region": "us-east-1", "access_key": pluginKey, "secret_key": pluginSecret,
		"ecr_endpoint": ecr.URL(), "skip_metadata_api_check": true, "skip_credential_validation": true,
		"tags": []string{"latest", "v1"},
	}
	for k, v := range raw {
		base[k] = v
	}
	p := &PostProcessor{driver: driver, cacheDir: cacheDir, progressEvery: time.Hour}
	if err := p.Configure(base); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return p
}

const repoName = "agents/openhands-runtime"

func postProcess(t *testing.T, ctx context.Context, p *PostProcessor, ui packersdk.Ui, img enginefake.SavedImage) (*Artifact, error) {
	t.Helper()
	art, _, _, err := p.PostProcess(ctx, ui, &imageArtifact{builderID: "packer.post-processor.docker-import", id: img.ID})
	if err != nil {
		return nil, err
	}
	return art.(*Artifact), nil
}

// checkPushed reads the image back from the registry at digest and checks every blob
// against its digest and the layers against the config's diff ids (go-containerregistry's
// validate), the tags, and the media types of the compression.
func checkPushed(t *testing.T, reg *ecrtest.Registry, img enginefake.SavedImage, digest string, comp imagepush.Compression) {
	t.Helper()
	ref, err := name.ParseReference(reg.Host() + "/" + repoName + "@" + digest)
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := remote.Image(ref, remote.WithAuth(reg.Authenticator()))
	if err != nil {
		t.Fatalf("reading back %s: %v", ref, err)
	}
	// validate reads layers as gzip only: for zstd, the manifest and config only, and the
	// blobs below.
	var fast []validate.Option
	if comp.Algorithm == imagepush.Zstd {
		fast = append(fast, validate.Fast)
	}
	if err := validate.Image(pulled, fast...); err != nil {
		t.Errorf("the pushed image does not validate: %v", err)
	}
	checkBlobs(t, pulled)
	if id, _ := pulled.ConfigName(); id.String() != img.ID {
		t.Errorf("the pushed config is %s, the engine's image %s", id, img.ID)
	}
	m, _ := pulled.Manifest()
	wantManifest, wantConfig := comp.ManifestMediaTypes()
	if m.MediaType != wantManifest || m.Config.MediaType != wantConfig {
		t.Errorf("manifest %s with config %s, want %s with %s", m.MediaType, m.Config.MediaType, wantManifest, wantConfig)
	}
	var diffIDs []string
	for _, l := range m.Layers {
		if l.MediaType != comp.LayerMediaType() {
			t.Errorf("layer %s is %s, want %s", l.Digest, l.MediaType, comp.LayerMediaType())
		}
	}
	layers, _ := pulled.Layers()
	for _, l := range layers {
		d, _ := l.DiffID()
		diffIDs = append(diffIDs, d.String())
	}
	if !slices.Equal(diffIDs, img.DiffIDs) {
		t.Errorf("pushed layers %v, want %v", diffIDs, img.DiffIDs)
	}
	for _, tag := range []string{"latest", "v1"} {
		if got, err := reg.Digest(repoName, tag); err != nil || got != digest {
			t.Errorf("%s is at %s (%v), want %s", tag, got, err, digest)
		}
	}
}

// checkBlobs reads every layer blob of img: its bytes hash to its digest and size, and
// uncompressed (gzip or zstd) to the config's diff id.
func checkBlobs(t *testing.T, img v1.Image) {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Layers) != len(cf.RootFS.DiffIDs) {
		t.Fatalf("%d layers for %d diff ids", len(m.Layers), len(cf.RootFS.DiffIDs))
	}
	for i, desc := range m.Layers {
		l, err := img.LayerByDigest(desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		for _, blob := range []struct {
			open func() (io.ReadCloser, error)
			want v1.Hash
			size int64
		}{{l.Compressed, desc.Digest, desc.Size}, {l.Uncompressed, cf.RootFS.DiffIDs[i], -1}} {
			rc, err := blob.open()
			if err != nil {
				t.Fatalf("layer %d: %v", i, err)
			}
			got, n, err := v1.SHA256(rc)
			rc.Close()
			if err != nil || got != blob.want || (blob.size >= 0 && n != blob.size) {
				t.Errorf("layer %d: %s of %d bytes (%v), want %s of %d", i, got, n, err, blob.want, blob.size)
			}
		}
	}
}

// TestPluginPush pushes with every imagepush.Compression, then pushes the unchanged image again: the
// second push exports nothing and uploads nothing.
func TestPluginPush(t *testing.T) {
	img := enginefake.NewSavedImage(t, "linux/amd64", 1, 3<<20+12345, 4096, 200<<10, 4096)
	for _, tc := range []struct {
		name string
		raw  map[string]interface{}
		want imagepush.Compression
	}{
		{"gzip by default", nil, imagepush.Compression{Algorithm: imagepush.Gzip, Level: 6}},
		{"gzip level 1", map[string]interface{}{"layer_compression_level": 1}, imagepush.Compression{Algorithm: imagepush.Gzip, Level: 1}},
		{"zstd", map[string]interface{}{"layer_compression": "zstd"}, imagepush.Compression{Algorithm: imagepush.Zstd, Level: 3}},
		{"zstd level 19", map[string]interface{}{"layer_compression": "zstd", "layer_compression_level": 19}, imagepush.Compression{Algorithm: imagepush.Zstd, Level: 19}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := pluginTarget(t)
			driver := newExportDriver(img)
			p := newPluginPostProcessor(t, reg, tc.raw, driver, t.TempDir())
			if got := p.config.compression(); got != tc.want {
				t.Fatalf("imagepush.Compression %+v, want %+v", got, tc.want)
			}
			art, err := postProcess(t, context.Background(), p, packersdk.TestUi(t), img)
			if err != nil {
				t.Fatal(err)
			}
			checkPushed(t, reg, img, art.digest, tc.want)
			// The repeated layer is uploaded once: 3 distinct layers and the config.
			if n := reg.BlobUploads(); n != 4 {
				t.Errorf("%d blob uploads, want 4", n)
			}
			if driver.Pushed != nil || driver.Tagged != nil {
				t.Errorf("the engine pushed %v or tagged %v", driver.Pushed, driver.Tagged)
			}

			uploaded, manifests := reg.UploadedBytes(), reg.ManifestPuts()
			var out bytes.Buffer
			ui := &packersdk.BasicUi{Writer: &out, ErrorWriter: &out}
			again, err := postProcess(t, context.Background(), p, ui, img)
			if err != nil {
				t.Fatal(err)
			}
			if again.digest != art.digest {
				t.Errorf("the unchanged image was pushed as %s, first as %s", again.digest, art.digest)
			}
			if n := driver.Saves.Load(); n != 1 {
				t.Errorf("the engine exported the image %d times, want once (the unchanged push exports nothing)", n)
			}
			if got := reg.UploadedBytes(); got != uploaded || reg.ManifestPuts() != manifests {
				t.Errorf("the unchanged push uploaded %d bytes and %d manifests", got-uploaded, reg.ManifestPuts()-manifests)
			}
			if !strings.Contains(out.String(), "nothing to upload") || strings.Count(out.String(), "not pushed again") != 2 {
				t.Errorf("the unchanged push said:\n%s", out.String())
			}
		})
	}
}

// TestPluginPushChangedTopLayer pushes an image, then one that shares its bottom layer and
// has another top layer, to the same repository: the shared layer is neither compressed nor
// uploaded again (the legacy export is read through a file to learn each layer's diff id).
func TestPluginPushChangedTopLayer(t *testing.T) {
	first := enginefake.NewSavedImage(t, "linux/amd64", 5, 3<<20, 100<<10)
	second := enginefake.NewSavedImage(t, "linux/amd64", 5, 3<<20, 200<<10)
	if first.DiffIDs[0] != second.DiffIDs[0] || first.DiffIDs[1] == second.DiffIDs[1] {
		t.Fatal("the images should share their bottom layer only")
	}
	reg := pluginTarget(t)
	ecr := ecrtest.NewECR(t, reg, ecrtest.ECROptions{AccessKeyID: pluginKey, SecretAccessKey: pluginSecret})
	cache := t.TempDir()
	p := newPluginPostProcessorFor(t, ecr, nil, newExportDriver(first), cache)
	if _, err := postProcess(t, context.Background(), p, packersdk.TestUi(t), first); err != nil {
		t.Fatal(err)
	}
	uploaded := reg.UploadedBytes()

	var logged, out bytes.Buffer
	prev := log.Writer()
	log.SetOutput(&logged)
	defer log.SetOutput(prev)
	p = newPluginPostProcessorFor(t, ecr, nil, newExportDriver(second), cache)
	art, err := postProcess(t, context.Background(), p, &packersdk.BasicUi{Writer: &out, ErrorWriter: &out}, second)
	log.SetOutput(prev)
	if err != nil {
		t.Fatal(err)
	}
	checkPushed(t, reg, second, art.digest, imagepush.Compression{Algorithm: imagepush.Gzip, Level: 6})
	if n := strings.Count(logged.String(), " bytes compressed to "); n != 1 {
		t.Errorf("%d layers compressed, want the changed one only:\n%s", n, logged.String())
	}
	if !strings.Contains(out.String(), "1 of 2 layers to compress") {
		t.Errorf("the push said:\n%s", out.String())
	}
	// The new top layer and the config: well under the shared 3 MiB layer.
	if n := reg.UploadedBytes() - uploaded; n > 1<<20 {
		t.Errorf("the second push uploaded %d bytes", n)
	}
}

// stagingRepo is the second repository of the registry that the mount tests push to.
const stagingRepo = "agents/openhands-runtime-staging"

// pushedToFirstRepository pushes img to repoName of a new registry, which mounts blobs when
// mounting is set, and returns the registry, its ECR double, the blob cache's directory and
// the driver, for a push of the same image to another repository.
func pushedToFirstRepository(t *testing.T, img enginefake.SavedImage, mounting bool) (*ecrtest.Registry, *ecrtest.ECR, string, *exportDriver) {
	t.Helper()
	reg := pluginTarget(t)
	if mounting {
		reg.EnableBlobMounting()
	}
	ecr := ecrtest.NewECR(t, reg, ecrtest.ECROptions{AccessKeyID: pluginKey, SecretAccessKey: pluginSecret})
	cache := t.TempDir()
	driver := newExportDriver(img)
	if _, err := postProcess(t, context.Background(), newPluginPostProcessorFor(t, ecr, nil, driver, cache), packersdk.TestUi(t), img); err != nil {
		t.Fatal(err)
	}
	return reg, ecr, cache, driver
}

// checkValidates reads the image at repository@digest back from reg and validates it.
func checkValidates(t *testing.T, reg *ecrtest.Registry, repository, digest string) {
	t.Helper()
	ref, err := name.ParseReference(reg.Host() + "/" + repository + "@" + digest)
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := remote.Image(ref, remote.WithAuth(reg.Authenticator()))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(pulled); err != nil {
		t.Errorf("the image in %s does not validate: %v", repository, err)
	}
}

// TestPluginPushMountsFromAnotherRepository pushes an image to one repository, then to
// another of the same registry: nothing is exported or compressed again. A registry with blob
// mounting enabled (ECR's BLOB_MOUNTING) mounts every layer and the config, and nothing is
// uploaded; one without it is sent the blobs read from the first repository.
func TestPluginPushMountsFromAnotherRepository(t *testing.T) {
	img := enginefake.NewSavedImage(t, "linux/amd64", 7, 2<<20, 64<<10, 2<<20)
	for _, tc := range []struct {
		name     string
		mounting bool
	}{{"mounting enabled", true}, {"mounting disabled", false}} {
		t.Run(tc.name, func(t *testing.T) {
			reg, ecr, cache, driver := pushedToFirstRepository(t, img, tc.mounting)
			uploads, uploaded := reg.BlobUploads(), reg.UploadedBytes()

			var out bytes.Buffer
			p := newPluginPostProcessorFor(t, ecr, map[string]interface{}{"repository": stagingRepo}, driver, cache)
			art, err := postProcess(t, context.Background(), p, &packersdk.BasicUi{Writer: &out, ErrorWriter: &out}, img)
			if err != nil {
				t.Fatal(err)
			}
			if n := driver.Saves.Load(); n != 1 {
				t.Errorf("the engine exported the image %d times, want once (the second repository's push exports nothing)", n)
			}
			wantMounts, wantUploads := 3, 0 // two distinct layers and the config
			if !tc.mounting {
				wantMounts, wantUploads = 0, 3
			}
			if reg.Mounts() != wantMounts || reg.BlobUploads()-uploads != wantUploads {
				t.Errorf("%d mounts and %d blob uploads, want %d and %d", reg.Mounts(), reg.BlobUploads()-uploads, wantMounts, wantUploads)
			}
			if tc.mounting && reg.UploadedBytes() != uploaded {
				t.Errorf("the mounted push uploaded %d bytes", reg.UploadedBytes()-uploaded)
			}
			if !strings.Contains(out.String(), "Took 2 layers from other repositories") || !strings.Contains(out.String(), "nothing to upload") {
				t.Errorf("the push said:\n%s", out.String())
			}
			checkValidates(t, reg, stagingRepo, art.digest)
		})
	}
}

// TestPluginPushUploadsWhatItMayNotMount: credentials that may not read the repository the
// blob cache would mount from (a least-privilege IAM policy naming the pushed repository
// only: 401 or 403 there) push to another repository by uploading every blob, asking the
// unreadable repository once and saying so once in the log.
func TestPluginPushUploadsWhatItMayNotMount(t *testing.T) {
	img := enginefake.NewSavedImage(t, "linux/amd64", 8, 2<<20, 64<<10, 2<<20)
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			reg, ecr, cache, driver := pushedToFirstRepository(t, img, true)
			reg.DenyReads(repoName, status)
			uploads, requests := reg.BlobUploads(), len(reg.Requests())

			var logged bytes.Buffer
			prev := log.Writer()
			log.SetOutput(&logged)
			defer log.SetOutput(prev)
			p := newPluginPostProcessorFor(t, ecr, map[string]interface{}{"repository": stagingRepo}, driver, cache)
			art, err := postProcess(t, context.Background(), p, packersdk.TestUi(t), img)
			log.SetOutput(prev)
			if err != nil {
				t.Fatalf("the push failed on the repository it may not read: %v", err)
			}
			if reg.Mounts() != 0 || reg.BlobUploads()-uploads != 3 {
				t.Errorf("%d mounts and %d blob uploads, want 0 and 3 (two distinct layers and the config)", reg.Mounts(), reg.BlobUploads()-uploads)
			}
			asked := 0
			for _, r := range reg.Requests()[requests:] {
				if strings.HasPrefix(r.Path, "/v2/"+repoName+"/") {
					asked++
				}
			}
			if asked != 1 {
				t.Errorf("the unreadable repository was asked %d times, want once", asked)
			}
			if n := strings.Count(logged.String(), "no blob is mounted from "+reg.Host()+"/"+repoName); n != 1 {
				t.Errorf("the log says %d times that nothing is mounted from %s, want once:\n%s", n, repoName, logged.String())
			}
			checkValidates(t, reg, stagingRepo, art.digest)
		})
	}
}

// TestPluginPushDigestsAreStable pushes one image twice, with one and with four cores and
// no cache, to two registries: the same blobs and manifest, byte for byte.
func TestPluginPushDigestsAreStable(t *testing.T) {
	img := enginefake.NewSavedImage(t, "linux/amd64", 2, 5<<20+7, 300<<10)
	for _, algorithm := range []string{imagepush.Gzip, imagepush.Zstd} {
		t.Run(algorithm, func(t *testing.T) {
			var digests []string
			for _, procs := range []int{1, 4} {
				prev := runtime.GOMAXPROCS(procs)
				reg := pluginTarget(t)
				p := newPluginPostProcessor(t, reg, map[string]interface{}{"layer_compression": algorithm}, newExportDriver(img), t.TempDir())
				art, err := postProcess(t, context.Background(), p, packersdk.TestUi(t), img)
				runtime.GOMAXPROCS(prev)
				if err != nil {
					t.Fatal(err)
				}
				digests = append(digests, art.digest)
			}
			if digests[0] != digests[1] {
				t.Errorf("the same image gave manifests %s (1 core) and %s (4 cores)", digests[0], digests[1])
			}
		})
	}
}

// TestPluginPushFaults: failures in the middle of blobs are retried; a push killed in the
// middle of its uploads leaves no tag, and the next run completes it.
func TestPluginPushFaults(t *testing.T) {
	img := enginefake.NewSavedImage(t, "linux/amd64", 3, 2<<20, 100<<10, 50<<10)
	comp := imagepush.Compression{Algorithm: imagepush.Gzip, Level: 6}

	t.Run("5xx in the middle of blobs", func(t *testing.T) {
		reg := pluginTarget(t)
		reg.FailMidBlob(2, 500)
		p := newPluginPostProcessor(t, reg, nil, newExportDriver(img), t.TempDir())
		art, err := postProcess(t, context.Background(), p, packersdk.TestUi(t), img)
		if err != nil {
			t.Fatal(err)
		}
		if n := reg.InjectedFailures(); n != 2 {
			t.Errorf("%d injected failures, want 2", n)
		}
		checkPushed(t, reg, img, art.digest, comp)
	})

	t.Run("an export without uncompressed layers", func(t *testing.T) {
		driver := newExportDriver(img.WithoutUncompressedLayers(t))
		reg := pluginTarget(t)
		p := newPluginPostProcessor(t, reg, nil, driver, t.TempDir())
		_, err := postProcess(t, context.Background(), p, packersdk.TestUi(t), img)
		var lacks *imagepush.ExportLacksLayerError
		if !errors.As(err, &lacks) || !strings.Contains(err.Error(), `set push_method = "engine"`) {
			t.Errorf("got %v, want the missing layer named and the engine push suggested", err)
		}
		if n := driver.Saves.Load(); n != 1 {
			t.Errorf("the engine exported the image %d times: the same export cannot do better, so once", n)
		}
		if n := reg.ManifestPuts(); n != 0 {
			t.Errorf("%d manifests were put", n)
		}
	})

	t.Run("killed halfway", func(t *testing.T) {
		reg := pluginTarget(t)
		ecr := ecrtest.NewECR(t, reg, ecrtest.ECROptions{AccessKeyID: pluginKey, SecretAccessKey: pluginSecret})
		cache := t.TempDir()
		driver := newExportDriver(img)
		ctx, kill := context.WithCancel(context.Background())
		var once sync.Once
		reg.OnUpload(func(method string) {
			if method == "PATCH" {
				once.Do(kill)
			}
		})
		p := newPluginPostProcessorFor(t, ecr, nil, driver, cache)
		if _, err := postProcess(t, ctx, p, packersdk.TestUi(t), img); err == nil {
			t.Fatal("the killed push succeeded")
		}
		reg.OnUpload(nil)
		if n := reg.ManifestPuts(); n != 0 {
			t.Fatalf("the killed push put %d manifests", n)
		}
		if tags, _ := reg.Tags(repoName); len(tags) != 0 {
			t.Fatalf("the killed push left tags %v", tags)
		}
		// The next run, with the cache the killed one wrote, completes.
		p = newPluginPostProcessorFor(t, ecr, nil, driver, cache)
		art, err := postProcess(t, context.Background(), p, packersdk.TestUi(t), img)
		if err != nil {
			t.Fatal(err)
		}
		checkPushed(t, reg, img, art.digest, comp)
	})
}

// TestPluginPushProgress: a slow export reports every interval, a few lines each, not a
// line per chunk.
func TestPluginPushProgress(t *testing.T) {
	img := enginefake.NewSavedImage(t, "linux/amd64", 4, 4<<20)
	driver := newExportDriver(img)
	driver.ExportDelay = 5 * time.Millisecond // 64 chunks: about 0.35 s
	reg := pluginTarget(t)
	p := newPluginPostProcessor(t, reg, nil, driver, t.TempDir())
	p.progressEvery = 100 * time.Millisecond
	var out bytes.Buffer
	ui := &packersdk.BasicUi{Writer: &out, ErrorWriter: &out}
	started := time.Now()
	if _, err := postProcess(t, context.Background(), p, ui, img); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(started)
	reports := strings.Count(out.String(), "Push progress after")
	if reports < 2 || reports > int(elapsed/p.progressEvery)+1 {
		t.Errorf("%d progress reports in %s, want one every %s:\n%s", reports, elapsed, p.progressEvery, out.String())
	}
	for _, want := range []string{"compressing", "MiB of 4.0 MiB (", "MiB/s)", "uploaded 0.0 MiB"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the progress lacks %q:\n%s", want, out.String())
		}
	}
}
