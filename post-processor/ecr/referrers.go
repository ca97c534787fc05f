package ecrpostprocessor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/docker/docker/api/types/registry"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/sbom"
)

// The SBOM travels with the image as an OCI 1.1 referrer: an artifact manifest whose subject
// is the pushed image, which `oras discover`, `aws ecr` (the referrers API) and scanners find
// from the image's digest.

// emptyConfig is the OCI empty descriptor's content, the config of an artifact manifest.
var emptyConfig = []byte("{}")

// sbomFile is the SBOM to attach: the sbom_path option, else the one the openhands-runtime
// builder wrote (its artifact names it); "" when there is none.
func sbomFile(c *Config, source packersdk.Artifact) string {
	if c.SBOMPath != "" {
		return c.SBOMPath
	}
	path, _ := source.State(sbom.StatePath).(string)
	return path
}

// attachSBOM pushes the SBOM at path as a referrer of the image at digest in repository
// name (registry/repository), and returns the referrer's manifest digest.
func attachSBOM(ctx context.Context, ui packersdk.Ui, repository, digest, path string, auth registry.AuthConfig) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("attaching the SBOM: %w", err)
	}
	referrer, err := pushReferrer(ctx, repository, digest, sbom.MediaType, data, auth)
	if err != nil {
		return "", fmt.Errorf("attaching the SBOM %s to %s@%s: %w", path, repository, digest, err)
	}
	ui.Sayf("Attached the SBOM %s to %s@%s as referrer %s", path, repository, digest, referrer)
	return referrer, nil
}

// pushReferrer pushes data as the one layer of an artifact manifest of artifactType whose
// subject is the image at subjectDigest in repository, and returns the manifest's digest.
func pushReferrer(ctx context.Context, repository, subjectDigest, artifactType string, data []byte, auth registry.AuthConfig) (string, error) {
	repo, err := name.NewRepository(repository)
	if err != nil {
		return "", err
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuth(authn.FromConfig(authn.AuthConfig{Username: auth.Username, Password: auth.Password}))}
	subject, err := remote.Head(repo.Digest(subjectDigest), opts...)
	if err != nil {
		return "", fmt.Errorf("reading the image's manifest descriptor: %w", err)
	}
	config := static.NewLayer(emptyConfig, types.OCIEmptyJSON)
	layer := static.NewLayer(data, types.MediaType(artifactType))
	manifest := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  artifactType,
		Subject:       &v1.Descriptor{MediaType: subject.MediaType, Size: subject.Size, Digest: subject.Digest},
	}
	for i, l := range []v1.Layer{config, layer} {
		if err := remote.WriteLayer(repo, l, opts...); err != nil {
			return "", fmt.Errorf("uploading a blob: %w", err)
		}
		d, err := l.Digest()
		if err != nil {
			return "", err
		}
		size, err := l.Size()
		if err != nil {
			return "", err
		}
		mt, err := l.MediaType()
		if err != nil {
			return "", err
		}
		desc := v1.Descriptor{MediaType: mt, Size: size, Digest: d}
		if i == 0 {
			manifest.Config = desc
		} else {
			manifest.Layers = []v1.Descriptor{desc}
		}
	}
	raw, err := json.Marshal(manifest)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	manifestDigest := "sha256:" + hex.EncodeToString(sum[:])
	// The same document of the same image is the same manifest: an unchanged push puts none.
	if _, err := remote.Head(repo.Digest(manifestDigest), opts...); err == nil {
		return manifestDigest, nil
	}
	// By digest: a referrer needs no tag, the registry lists it under its subject.
	if err := remote.Put(repo.Digest(manifestDigest), rawManifest{raw: raw, mediaType: types.OCIManifestSchema1}, opts...); err != nil {
		return "", fmt.Errorf("putting the artifact manifest: %w", err)
	}
	return manifestDigest, nil
}

// rawManifest is a manifest to put as it is.
type rawManifest struct {
	raw       []byte
	mediaType types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }
