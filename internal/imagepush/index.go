package imagepush

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// NewIndex is the index of the platform manifests, in their order: the same manifests give
// the same index digest on every run, so an unchanged push puts nothing. A Docker manifest
// list over Docker manifests (gzip layers), an OCI image index over OCI manifests (zstd).
func NewIndex(manifests []v1.Descriptor) (Manifest, error) {
	mt := types.DockerManifestList
	for _, m := range manifests {
		if m.MediaType != types.DockerManifestSchema2 {
			mt = types.OCIImageIndex
		}
	}
	return NewManifest(v1.IndexManifest{SchemaVersion: 2, MediaType: mt, Manifests: manifests}, mt)
}
