package imagepush

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/ecrtest"
	"github.com/openhands-runtime/packer-plugin-openhands/acctest/enginefake"
)

// pushTo is a pusher of the images of a new engine to a new registry double with the given
// compression, and the repository it pushes to.
func pushTo(t *testing.T, comp Compression) (*Pusher, *enginefake.Engine, *ecrtest.Registry, name.Repository) {
	t.Helper()
	reg := ecrtest.NewRegistry(t, "user", "password")
	repo, err := name.NewRepository(reg.Host() + "/team/app")
	if err != nil {
		t.Fatal(err)
	}
	e := enginefake.New()
	p := &Pusher{Source: e, Compression: comp, Cache: OpenBlobCache(t.TempDir() + "/blobs.json"),
		Options: []remote.Option{remote.WithAuth(reg.Authenticator())}, Interval: time.Hour}
	return p, e, reg, repo
}

// TestPushBlobs pushes an image of the engine to a registry that is not ECR with each
// compression: the blobs and the manifest, put by its digest, make an image of the image's
// layers, each blob what the manifest says; no tag is made.
func TestPushBlobs(t *testing.T) {
	img := enginefake.NewSavedImage(t, "linux/amd64", 41, 1<<20, 4096, 4096)
	for _, comp := range []Compression{{Algorithm: Gzip, Level: DefaultGzipLevel}, {Algorithm: Zstd, Level: DefaultZstdLevel}} {
		t.Run(comp.String(), func(t *testing.T) {
			p, e, reg, repo := pushTo(t, comp)
			e.AddSaved(img, "linux/amd64")
			m, err := p.PushBlobs(context.Background(), packersdk.TestUi(t), img.ID, repo)
			if err != nil {
				t.Fatal(err)
			}
			if tags, _ := reg.Tags("team/app"); len(tags) != 0 {
				t.Errorf("the blobs' push made tags %v", tags)
			}
			ref := repo.Digest(m.Digest().String())
			if err := remote.Put(ref, m, p.Options...); err != nil {
				t.Fatal(err)
			}
			pulled, err := remote.Image(ref, p.Options...)
			if err != nil {
				t.Fatal(err)
			}
			// go-containerregistry's validation reads layers as gzip.
			if comp.Algorithm == Gzip {
				if err := validate.Image(pulled); err != nil {
					t.Errorf("the pushed image does not validate: %v", err)
				}
			}
			layers, err := pulled.Layers()
			if err != nil || len(layers) != len(img.DiffIDs) {
				t.Fatalf("%d layers (%v), want %d", len(layers), err, len(img.DiffIDs))
			}
			for i, l := range layers {
				if d, err := l.DiffID(); err != nil || d.String() != img.DiffIDs[i] {
					t.Errorf("layer %d: diff id %s (%v), want %s", i, d, err, img.DiffIDs[i])
				}
				if mt, _ := l.MediaType(); mt != comp.LayerMediaType() {
					t.Errorf("layer %d: media type %s, want %s", i, mt, comp.LayerMediaType())
				}
				want, _ := l.Digest()
				rc, err := l.Compressed()
				if err != nil {
					t.Fatal(err)
				}
				got, _, err := v1.SHA256(rc)
				rc.Close()
				if err != nil || got != want {
					t.Errorf("layer %d: the registry's blob is %s (%v), the manifest says %s", i, got, err, want)
				}
			}
		})
	}
}

// TestPushBlobsExportLacksLayer: an export without the uncompressed layers (an engine with
// the containerd image store) fails with an ExportLacksLayerError naming a layer of the
// image, which is not worth trying again, and puts no manifest.
func TestPushBlobsExportLacksLayer(t *testing.T) {
	img := enginefake.NewSavedImage(t, "linux/amd64", 42, 4096, 8192).WithoutUncompressedLayers(t)

	p, e, reg, repo := pushTo(t, Compression{Algorithm: Gzip, Level: DefaultGzipLevel})
	e.AddSaved(img, "linux/amd64")
	_, err := p.PushBlobs(context.Background(), packersdk.TestUi(t), img.ID, repo)
	var lacks *ExportLacksLayerError
	if !errors.As(err, &lacks) {
		t.Fatalf("got %v, want an ExportLacksLayerError", err)
	}
	if lacks.DiffID != img.DiffIDs[0] {
		t.Errorf("the error names layer %s, want the first, %s", lacks.DiffID, img.DiffIDs[0])
	}
	if Retryable(err) {
		t.Error("Retryable: an export that lacks its layers is tried again")
	}
	if !Retryable(errors.New("received unexpected HTTP status: 500 Internal Server Error")) {
		t.Error("Retryable: a registry's 500 is not tried again")
	}
	if n := reg.ManifestPuts(); n != 0 {
		t.Errorf("%d manifests were put", n)
	}
}
