package ecrpostprocessor

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/registry"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/ecrtest"
	"github.com/openhands-runtime/packer-plugin-openhands/acctest/enginefake"
	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
	"github.com/openhands-runtime/packer-plugin-openhands/sbom"
)

// platformsDriver is an engine holding one image per platform, each also under its content
// tag local/runtime:oh_v1_<arch>.
type platformsDriver struct{ *enginefake.Engine }

func newPlatformsDriver(images map[string]enginefake.SavedImage) *platformsDriver {
	d := &platformsDriver{enginefake.New()}
	for platform, img := range images {
		d.AddSaved(img, platform, contentRef(platform))
	}
	return d
}

// contentRef is the local content-tagged reference of a platform's image.
func contentRef(platform string) string {
	_, arch, _ := strings.Cut(platform, "/")
	return "local/runtime:oh_v1_" + arch
}

// verified are the images verified, in order.
func (d *platformsDriver) verified() []string {
	var ids []string
	for _, s := range d.Scripts {
		id, _, _ := strings.Cut(s, " ")
		ids = append(ids, id)
	}
	return ids
}

// platformsArtifact is the openhands-runtime builder's artifact of a two-platform build.
func platformsArtifact(d *platformsDriver, platforms []string, sboms []string) *imageArtifact {
	a := &imageArtifact{builderID: "packer.post-processor.docker-import", sboms: sboms}
	for _, platform := range platforms {
		id := d.Refs[contentRef(platform)]
		if a.id == "" {
			a.id = id
		}
		a.platforms = append(a.platforms, platform+"="+id)
		a.tags = append(a.tags, contentRef(platform))
	}
	return a
}

// TestPushIndex pushes a two-platform build as one index, with each compression: each
// platform's image is verified, pushed under its own content tag and named in the index with
// its platform; the index is under every configured tag, of the media type that goes with the
// manifests, and resolves per platform as `docker pull --platform` resolves it. Each image's
// SBOM is its manifest's referrer. An unchanged push uploads and puts nothing, index included.
func TestPushIndex(t *testing.T) {
	platforms := []string{"linux/amd64", "linux/arm64"}
	images := map[string]enginefake.SavedImage{
		"linux/amd64": enginefake.NewSavedImage(t, "linux/amd64", 11, 1<<20, 4096),
		"linux/arm64": enginefake.NewSavedImage(t, "linux/arm64", 12, 1<<20, 4096),
	}
	sbomDir := t.TempDir()
	var sboms []string
	for _, platform := range platforms {
		path := filepath.Join(sbomDir, strings.ReplaceAll(platform, "/", "-")+".cdx.json")
		if err := os.WriteFile(path, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","serialNumber":"`+platform+`"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		sboms = append(sboms, platform+"="+path)
	}
	// The amd64 image has its provenance beside its SBOM, the arm64 image none.
	provenanceFile(t, sbom.ProvenancePath(filepath.Join(sbomDir, "linux-amd64.cdx.json")))
	wantTypes := map[string][]string{"linux/amd64": {sbom.MediaType, sbom.ProvenanceMediaType}, "linux/arm64": {sbom.MediaType}}
	for _, tc := range []struct {
		name      string
		raw       map[string]interface{}
		indexType types.MediaType
	}{
		{"gzip: a Docker manifest list", nil, types.DockerManifestList},
		{"zstd: an OCI image index", map[string]interface{}{"layer_compression": "zstd"}, types.OCIImageIndex},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := pluginTarget(t)
			driver := newPlatformsDriver(images)
			p := newPluginPostProcessor(t, reg, tc.raw, driver, t.TempDir())
			source := platformsArtifact(driver, platforms, sboms)
			out, _, _, err := p.PostProcess(context.Background(), packersdk.TestUi(t), source)
			if err != nil {
				t.Fatal(err)
			}
			art := out.(*Artifact)
			if want := []string{images["linux/amd64"].ID, images["linux/arm64"].ID}; !slices.Equal(driver.verified(), want) {
				t.Errorf("verified %v, want every platform's image %v", driver.verified(), want)
			}
			for _, tag := range []string{"latest", "v1"} {
				if got, err := reg.Digest(repoName, tag); err != nil || got != art.digest {
					t.Errorf("%s is at %s (%v), want the index %s", tag, got, err, art.digest)
				}
			}
			auth := remote.WithAuth(reg.Authenticator())
			indexRef, err := name.ParseReference(reg.Host() + "/" + repoName + ":latest")
			if err != nil {
				t.Fatal(err)
			}
			index, err := remote.Index(indexRef, auth)
			if err != nil {
				t.Fatal(err)
			}
			im, err := index.IndexManifest()
			if err != nil {
				t.Fatal(err)
			}
			if im.MediaType != tc.indexType || len(im.Manifests) != 2 {
				t.Fatalf("index %s of %d manifests, want %s of 2", im.MediaType, len(im.Manifests), tc.indexType)
			}
			var manifests []string
			for i, desc := range im.Manifests {
				platform := platforms[i]
				img := images[platform]
				if desc.Platform == nil || desc.Platform.String() != platform {
					t.Errorf("manifest %d is for %v, want %s", i, desc.Platform, platform)
				}
				manifests = append(manifests, platform+"="+desc.Digest.String())
				_, arch, _ := strings.Cut(platform, "/")
				if got, err := reg.Digest(repoName, "oh_v1_"+arch); err != nil || got != desc.Digest.String() {
					t.Errorf("the %s content tag is at %s (%v), want its manifest %s", platform, got, err, desc.Digest)
				}
				// As `docker pull --platform` resolves the tag.
				want, err := v1.ParsePlatform(platform)
				if err != nil {
					t.Fatal(err)
				}
				pulled, err := remote.Image(indexRef, auth, remote.WithPlatform(*want))
				if err != nil {
					t.Fatal(err)
				}
				checkBlobs(t, pulled)
				if id, _ := pulled.ConfigName(); id.String() != img.ID {
					t.Errorf("latest for %s resolves to config %s, want the image %s", platform, id, img.ID)
				}
				listed, err := reg.Referrers(repoName, desc.Digest.String())
				var types []string
				for _, l := range listed {
					types = append(types, l.ArtifactType)
				}
				slices.Sort(types)
				if want := slices.Sorted(slices.Values(wantTypes[platform])); err != nil || !slices.Equal(types, want) {
					t.Errorf("referrers of the %s manifest: %+v (%v), want %v", platform, listed, err, want)
				}
			}
			if got := art.State(StatePlatformManifests); !slices.Equal(got.([]string), manifests) {
				t.Errorf("platform_manifests %v, want %v", got, manifests)
			}
			if got := art.State(StatePlatformSBOMReferrers).([]string); len(got) != 2 {
				t.Errorf("SBOM referrers %v, want one per platform", got)
			}
			if got := art.State(StatePlatformProvenanceReferrers).([]string); len(got) != 1 || !strings.HasPrefix(got[0], "linux/amd64=sha256:") {
				t.Errorf("provenance referrers %v, want the amd64 image's", got)
			}
			if art.sourceImageID != images["linux/amd64"].ID {
				t.Errorf("source image %s", art.sourceImageID)
			}

			uploaded, puts, saves := reg.UploadedBytes(), reg.ManifestPuts(), driver.Saves.Load()
			var said bytes.Buffer
			again, _, _, err := p.PostProcess(context.Background(), &packersdk.BasicUi{Writer: &said, ErrorWriter: &said}, platformsArtifact(driver, platforms, nil))
			if err != nil {
				t.Fatal(err)
			}
			if again.(*Artifact).digest != art.digest {
				t.Errorf("the unchanged index was pushed as %s, first as %s", again.(*Artifact).digest, art.digest)
			}
			if reg.UploadedBytes() != uploaded || reg.ManifestPuts() != puts || driver.Saves.Load() != saves {
				t.Errorf("the unchanged push uploaded %d bytes, put %d manifests and exported %d images",
					reg.UploadedBytes()-uploaded, reg.ManifestPuts()-puts, driver.Saves.Load()-saves)
			}
			// Two content tags and the index's two tags.
			if n := strings.Count(said.String(), "not pushed again"); n != 4 {
				t.Errorf("the unchanged push said:\n%s", said.String())
			}
		})
	}
}

// TestPushIndexRefusals: an artifact whose images are not what it says is not pushed, and the
// error says which image and what to check.
func TestPushIndexRefusals(t *testing.T) {
	platforms := []string{"linux/amd64", "linux/arm64"}
	images := map[string]enginefake.SavedImage{
		"linux/amd64": enginefake.NewSavedImage(t, "linux/amd64", 21, 4096),
		"linux/arm64": enginefake.NewSavedImage(t, "linux/arm64", 22, 4096),
	}
	other := enginefake.NewSavedImage(t, "linux/amd64", 23, 4096)
	for _, tc := range []struct {
		name  string
		alter func(*platformsDriver, *imageArtifact)
		err   string
		is    error // what the error matches, where it is typed
	}{
		{"an image of another platform than its entry", func(d *platformsDriver, _ *imageArtifact) {
			img := d.Images[images["linux/arm64"].ID]
			img.Platform = "linux/amd64"
			d.Images[img.ID] = img
		}, "is for linux/arm64, and the engine records it as linux/amd64", nil},
		{"a content tag of another image", func(d *platformsDriver, a *imageArtifact) {
			d.AddSaved(other, "linux/amd64", "local/runtime:oh_v1_other")
			a.tags = append(a.tags, "local/runtime:oh_v1_other")
		}, "which is none of the artifact's platform images", nil},
		{"an entry without a platform", func(_ *platformsDriver, a *imageArtifact) {
			a.platforms[1] = images["linux/arm64"].ID
		}, "is not platform=image", nil},
		{"an image missing from the engine", func(d *platformsDriver, _ *imageArtifact) {
			maps.DeleteFunc(d.Refs, func(_, id string) bool { return id == images["linux/arm64"].ID })
		}, "inspecting image " + images["linux/arm64"].ID, engine.ErrImageNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := pluginTarget(t)
			driver := newPlatformsDriver(images)
			p := newPluginPostProcessor(t, reg, nil, driver, t.TempDir())
			source := platformsArtifact(driver, platforms, nil)
			tc.alter(driver, source)
			_, _, _, err := p.PostProcess(context.Background(), &packersdk.MockUi{}, source)
			fixture.WantError(t, err, tc.err)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not match %v", err, tc.is)
			}
			if reg.ManifestPuts() != 0 || len(driver.verified()) != 0 {
				t.Errorf("%d manifests put and %d images verified after the refusal", reg.ManifestPuts(), len(driver.verified()))
			}
		})
	}
}

// TestPushIndexEngine: with push_method = "engine" the engine pushes each platform's image
// under its content tags, and the plugin puts the index of them.
func TestPushIndexEngine(t *testing.T) {
	reg := pluginTarget(t)
	ecr := ecrtest.NewECR(t, reg, ecrtest.ECROptions{AccessKeyID: pluginKey, SecretAccessKey: pluginSecret})
	images := map[string]enginefake.SavedImage{
		"linux/amd64": enginefake.NewSavedImage(t, "linux/amd64", 31, 4096),
		"linux/arm64": enginefake.NewSavedImage(t, "linux/arm64", 32, 4096),
	}
	driver := &enginePushDriver{platformsDriver: newPlatformsDriver(images), reg: reg}
	p := newPluginPostProcessorFor(t, ecr, map[string]interface{}{"push_method": "engine"}, driver, t.TempDir())
	out, _, _, err := p.PostProcess(context.Background(), packersdk.TestUi(t), platformsArtifact(driver.platformsDriver, []string{"linux/amd64", "linux/arm64"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(driver.pushed) != 2 {
		t.Errorf("the engine pushed %v, want each platform's content tag", driver.pushed)
	}
	if got, err := reg.Digest(repoName, "latest"); err != nil || got != out.(*Artifact).digest {
		t.Errorf("latest is at %s (%v), want the index %s", got, err, out.(*Artifact).digest)
	}
}

// enginePushDriver pushes as the engine would: the image written to the registry under the
// tag, with go-containerregistry.
type enginePushDriver struct {
	*platformsDriver
	reg    *ecrtest.Registry
	pushed []string
}

func (d *enginePushDriver) Push(_ context.Context, ref string, _ registry.AuthConfig, _ packersdk.Ui) (string, error) {
	export := d.Exports[d.Refs[ref]]
	tag, err := name.NewTag(ref)
	if err != nil {
		return "", err
	}
	pushed, err := tarball.Image(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(export)), nil }, nil)
	if err != nil {
		return "", err
	}
	if err := remote.Write(tag, pushed, remote.WithAuth(d.reg.Authenticator())); err != nil {
		return "", err
	}
	d.pushed = append(d.pushed, ref)
	digest, err := pushed.Digest()
	return digest.String(), err
}
