package ecrpostprocessor

import (
	"fmt"
	"strings"

	registryimage "github.com/hashicorp/packer-plugin-sdk/packer/registry/image"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/artifact"
)

// Artifact states of the referrer manifest digests of the SBOM and the provenance ("" when
// none was attached).
const (
	StateSBOMReferrer       = "openhands_sbom_referrer"
	StateProvenanceReferrer = "openhands_provenance_referrer"
)

// Artifact states of a multi-platform push's SBOM and provenance referrers, one per platform
// image that had the document, as platform=referrer manifest digest.
const (
	StatePlatformSBOMReferrers       = "openhands_platform_sbom_referrers"
	StatePlatformProvenanceReferrers = "openhands_platform_provenance_referrers"
)

// StatePlatformManifests is the artifact state of a multi-platform push's image manifests,
// as platform=manifest digest, in the index's order.
const StatePlatformManifests = "platform_manifests"

// BuilderID identifies an image pushed to ECR.
const BuilderID = "openhands.post-processor.ecr"

// Artifact is an image in an ECR repository.
type Artifact struct {
	// registry/repository, digest and the pushed tags.
	name, digest, region string
	tags                 []string
	sourceImageID        string
	// referrers are the digests of the SBOM's and the provenance's referrer manifests, when
	// they were attached.
	referrers referrers
	// platformManifests, platformSBOMReferrers and platformProvenanceReferrers are a
	// multi-platform push's (then digest is the index's): each platform's manifest and
	// referrers, as platform=digest.
	platformManifests, platformSBOMReferrers, platformProvenanceReferrers []string
}

func (a *Artifact) BuilderId() string { return BuilderID }
func (a *Artifact) Files() []string   { return nil }

// Id is the image's immutable name: registry/repository@sha256:digest.
func (a *Artifact) Id() string { return a.name + "@" + a.digest }

func (a *Artifact) String() string {
	if len(a.platformManifests) > 0 {
		return fmt.Sprintf("%s, an index of %s, tags %s", a.Id(), strings.Join(a.platformManifests, " "), strings.Join(a.tags, " "))
	}
	return fmt.Sprintf("%s, tags %s", a.Id(), strings.Join(a.tags, " "))
}

func (a *Artifact) State(name string) interface{} {
	switch name {
	case artifact.StateDockerTags:
		refs := make([]string, len(a.tags))
		for i, t := range a.tags {
			refs[i] = a.name + ":" + t
		}
		return refs
	case artifact.StateDigest:
		return a.digest
	case StateSBOMReferrer:
		return a.referrers.sbom
	case StateProvenanceReferrer:
		return a.referrers.provenance
	case StatePlatformManifests:
		return append([]string(nil), a.platformManifests...)
	case StatePlatformSBOMReferrers:
		return append([]string(nil), a.platformSBOMReferrers...)
	case StatePlatformProvenanceReferrers:
		return append([]string(nil), a.platformProvenanceReferrers...)
	case registryimage.ArtifactStateURI:
		img, err := registryimage.FromArtifact(a,
			registryimage.WithProvider("aws"),
			registryimage.WithRegion(a.region),
			registryimage.WithSourceID(a.sourceImageID),
			registryimage.SetLabels(map[string]interface{}{"tags": strings.Join(a.tags, ",")}),
		)
		if err != nil {
			return nil
		}
		return img
	}
	return nil
}

// Destroy leaves the pushed image alone: deleting from a shared registry is not a build's
// cleanup.
func (a *Artifact) Destroy() error { return nil }
