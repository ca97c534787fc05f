package imagepush

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// emptyConfig is the OCI empty descriptor's content, the config of an artifact manifest.
var emptyConfig = []byte("{}")

// PushReferrer pushes data as the one layer of an OCI 1.1 artifact manifest of artifactType
// whose subject is the image at subjectDigest in repository (registry/repository), and
// returns the manifest's digest: `oras discover`, the registries' referrers API and scanners
// find it from the image's digest. options are the registry's (RemoteOptions).
func PushReferrer(ctx context.Context, repository, subjectDigest, artifactType string, data []byte, options ...remote.Option) (string, error) {
	repo, err := name.NewRepository(repository)
	if err != nil {
		return "", err
	}
	opts := append(slices.Clone(options), remote.WithContext(ctx))
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
	m, err := NewManifest(manifest, types.OCIManifestSchema1)
	if err != nil {
		return "", err
	}
	// The same document of the same image is the same manifest: an unchanged push puts none.
	ref := repo.Digest(m.digest.String())
	if _, err := remote.Head(ref, opts...); err == nil {
		return m.digest.String(), nil
	}
	// By digest: a referrer needs no tag, the registry lists it under its subject.
	if err := remote.Put(ref, m, opts...); err != nil {
		return "", fmt.Errorf("putting the artifact manifest: %w", err)
	}
	return m.digest.String(), nil
}
