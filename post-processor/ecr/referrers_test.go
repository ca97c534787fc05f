package ecrpostprocessor

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/registry"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/ecrtest"
	"github.com/openhands-runtime/packer-plugin-openhands/sbom"
)

// TestAttachSBOM: the SBOM pushed after the image is listed by the registry's referrers API
// for the image's digest, with the CycloneDX artifact type, and holds the file's bytes; an
// image with none lists nothing, and a missing file or image fails naming it.
func TestAttachSBOM(t *testing.T) {
	reg := ecrtest.NewRegistry(t, "AWS", "s3cret")
	auth := registry.AuthConfig{Username: "AWS", Password: "s3cret"}
	repository := reg.Host() + "/openhands-runtime"
	push := func() string {
		t.Helper()
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		ref, err := name.NewDigest(repository + "@" + d.String())
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img, remote.WithAuth(reg.Authenticator())); err != nil {
			t.Fatal(err)
		}
		return d.String()
	}
	doc := []byte(`{"bomFormat": "CycloneDX", "specVersion": "1.6"}`)
	path := filepath.Join(t.TempDir(), "image.cdx.json")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	image, other := push(), push()

	cases := []struct {
		name, digest, path, err string
	}{
		{name: "attached", digest: image, path: path},
		{name: "missing file", digest: image, path: path + ".missing", err: "attaching the SBOM: open"},
		{name: "missing image", digest: "sha256:" + strings.Repeat("0", 64), path: path, err: "reading the image's manifest descriptor"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			referrer, err := attachSBOM(context.Background(), &packersdk.MockUi{}, repository, tc.digest, tc.path, auth)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			listed, err := reg.Referrers("openhands-runtime", tc.digest)
			if err != nil {
				t.Fatal(err)
			}
			if len(listed) != 1 || listed[0].Digest.String() != referrer || listed[0].ArtifactType != sbom.MediaType {
				t.Fatalf("referrers of %s: %+v, want %s of type %s", tc.digest, listed, referrer, sbom.MediaType)
			}
			ref, err := name.NewDigest(repository + "@" + referrer)
			if err != nil {
				t.Fatal(err)
			}
			artifact, err := remote.Image(ref, remote.WithAuth(reg.Authenticator()))
			if err != nil {
				t.Fatal(err)
			}
			layers, err := artifact.Layers()
			if err != nil || len(layers) != 1 {
				t.Fatalf("layers %v, %v", layers, err)
			}
			rc, err := layers[0].Compressed()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			if got, _ := io.ReadAll(rc); string(got) != string(doc) {
				t.Errorf("the referrer holds %q, want the SBOM file", got)
			}
			manifest, err := artifact.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			if manifest.Subject == nil || manifest.Subject.Digest.String() != tc.digest || manifest.Config.MediaType != "application/vnd.oci.empty.v1+json" {
				t.Errorf("manifest %+v", manifest)
			}
		})
	}
	if listed, err := reg.Referrers("openhands-runtime", other); err != nil || len(listed) != 0 {
		t.Errorf("an image without an SBOM lists referrers %v (%v)", listed, err)
	}
}
