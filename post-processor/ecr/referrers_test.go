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

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/ecrtest"
	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
	"github.com/openhands-runtime/packer-plugin-openhands/sbom"
)

// provenanceFile writes a provenance statement of an image id, as the builder writes one.
func provenanceFile(t *testing.T, path string) []byte {
	t.Helper()
	statement := `{"_type": "https://in-toto.io/Statement/v1",
		"subject": [{"name": "runtime:latest", "digest": {"sha256": "` + strings.Repeat("ab", 32) + `"}}],
		"predicateType": "https://slsa.dev/provenance/v1",
		"predicate": {"buildDefinition": {"buildType": "` + sbom.BuildType + `", "externalParameters": {"options_sha256": "sha256:00"}},
			"runDetails": {"builder": {"id": "` + sbom.BuilderID + `"}}}}`
	if err := os.WriteFile(path, []byte(statement), 0o644); err != nil {
		t.Fatal(err)
	}
	return []byte(statement)
}

// TestAttachDocuments: the SBOM (with the artifact type of its format) and the provenance
// pushed after the image are listed by the registry's referrers API for the image's digest;
// the SBOM referrer holds the file's bytes and the provenance names the pushed digest as its
// subject. Without a provenance file the SBOM alone is attached; an image with none lists
// nothing; a missing SBOM, a file that is no SBOM, or a missing image fails naming it.
func TestAttachDocuments(t *testing.T) {
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
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cyclonedx := write("image.sbom.cdx.json", `{"bomFormat": "CycloneDX", "specVersion": "1.6"}`)
	spdxDoc := write("image.sbom.spdx.json", `{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"}`)
	provenance := filepath.Join(dir, "image.provenance.intoto.json")
	provenanceFile(t, provenance)
	notSBOM := write("notes.json", `{"hello": "world"}`)
	other := push()

	cases := []struct {
		name, digest, sbomPath, provenancePath, err string
		// want are the artifact types listed for the image, SBOM first.
		want []string
	}{
		{name: "cyclonedx and provenance", sbomPath: cyclonedx, provenancePath: provenance, want: []string{sbom.MediaType, sbom.ProvenanceMediaType}},
		{name: "spdx and provenance", sbomPath: spdxDoc, provenancePath: provenance, want: []string{sbom.SPDXMediaType, sbom.ProvenanceMediaType}},
		{name: "no provenance file", sbomPath: cyclonedx, provenancePath: provenance + ".missing", want: []string{sbom.MediaType}},
		{name: "no sbom", want: nil},
		{name: "missing file", sbomPath: cyclonedx + ".missing", provenancePath: provenance, err: "attaching the SBOM: open"},
		{name: "not an sbom", sbomPath: notSBOM, provenancePath: provenance, err: "neither CycloneDX JSON"},
		{name: "missing image", digest: "sha256:" + strings.Repeat("0", 64), sbomPath: cyclonedx, provenancePath: provenance, err: "reading the image's manifest descriptor"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			digest := tc.digest
			if digest == "" {
				digest = push()
			}
			got, err := attachDocuments(context.Background(), &packersdk.MockUi{}, repository, digest, tc.sbomPath, tc.provenancePath, auth)
			if fixture.WantError(t, err, tc.err) {
				return
			}
			listed, err := reg.Referrers("openhands-runtime", digest)
			if err != nil {
				t.Fatal(err)
			}
			byType := map[string]string{}
			for _, l := range listed {
				byType[l.ArtifactType] = l.Digest.String()
			}
			if len(listed) != len(tc.want) {
				t.Fatalf("referrers of %s: %+v, want types %v", digest, listed, tc.want)
			}
			wantDigests := []string{got.sbom, got.provenance}
			for i, mediaType := range tc.want {
				if byType[mediaType] == "" || byType[mediaType] != wantDigests[i] {
					t.Errorf("referrer of type %s: %q, want %q (listed %+v)", mediaType, byType[mediaType], wantDigests[i], listed)
				}
			}
			if len(tc.want) < 2 && got.provenance != "" {
				t.Errorf("a provenance referrer %s was reported", got.provenance)
			}
			if len(tc.want) == 0 {
				return
			}
			if content := referrerContent(t, reg, repository, got.sbom, digest); content != readFile(t, tc.sbomPath) {
				t.Errorf("the SBOM referrer holds %q, want the SBOM file", content)
			}
			if got.provenance == "" {
				return
			}
			st, err := sbom.DecodeStatement([]byte(referrerContent(t, reg, repository, got.provenance, digest)))
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Subject) != 1 || st.Subject[0].Name != repository || "sha256:"+st.Subject[0].Digest["sha256"] != digest {
				t.Errorf("the pushed provenance's subject is %v, want %s@%s", st.Subject, repository, digest)
			}
		})
	}
	if listed, err := reg.Referrers("openhands-runtime", other); err != nil || len(listed) != 0 {
		t.Errorf("an image without documents lists referrers %v (%v)", listed, err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// referrerContent is the one layer of the referrer manifest at referrer, whose subject must be
// the image at subject and whose config the OCI empty descriptor.
func referrerContent(t *testing.T, reg *ecrtest.Registry, repository, referrer, subject string) string {
	t.Helper()
	ref, err := name.NewDigest(repository + "@" + referrer)
	if err != nil {
		t.Fatal(err)
	}
	artifact, err := remote.Image(ref, remote.WithAuth(reg.Authenticator()))
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := artifact.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if manifest.Subject == nil || manifest.Subject.Digest.String() != subject || manifest.Config.MediaType != "application/vnd.oci.empty.v1+json" {
		t.Errorf("manifest %+v", manifest)
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
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
