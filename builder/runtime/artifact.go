package runtimebuilder

import (
	"context"
	"fmt"
	"strings"

	registryimage "github.com/hashicorp/packer-plugin-sdk/packer/registry/image"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/artifact"
	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
	"github.com/openhands-runtime/packer-plugin-openhands/sbom"
)

// Artifact is a runtime image in the local engine.
type Artifact struct {
	imageID string
	// tags are every repository:tag the image carries from this build, content tags first.
	tags []string
	// created are the tags this build added; Destroy removes only those.
	created []string
	// baseImage and baseImageID say what the image was built from, for HCP Packer.
	baseImage, baseImageID string
	// sbom is the SBOM and provenance written of the image (zero when none was), in
	// sbomFormat.
	sbom       sbom.Written
	sbomFormat string
	driver     engine.Driver
	// record is the JSON of the options the image was built with (plan.Record), for the
	// post-processors of the build.
	record string
	// platform is the image's platform when the build named one.
	platform string
	// platforms are the images of a multi-platform build, one per platform; the artifact's
	// own fields are the first one's, so what takes one image (docker-tag) takes that one.
	platforms []*Artifact
}

// multiPlatformArtifact is the artifact of a build of several platforms.
func multiPlatformArtifact(images []*Artifact) *Artifact {
	a := *images[0]
	a.platforms = images
	a.tags, a.created = nil, nil
	for _, image := range images {
		a.tags = append(a.tags, image.tags...)
		a.created = append(a.created, image.created...)
	}
	return &a
}

func (a *Artifact) BuilderId() string { return artifact.DockerImportBuilderID }
func (a *Artifact) Files() []string   { return nil }
func (a *Artifact) Id() string        { return a.imageID }

func (a *Artifact) String() string {
	if len(a.platforms) > 0 {
		var parts []string
		for _, image := range a.platforms {
			parts = append(parts, fmt.Sprintf("%s %s with tags %s", image.platform, image.imageID, strings.Join(image.tags, " ")))
		}
		return "OpenHands runtime images: " + strings.Join(parts, "; ")
	}
	if len(a.tags) == 0 {
		return "OpenHands runtime image: " + a.imageID
	}
	return fmt.Sprintf("OpenHands runtime image: %s with tags %s", a.imageID, strings.Join(a.tags, " "))
}

func (a *Artifact) State(name string) interface{} {
	switch name {
	case artifact.StateDockerTags:
		return append([]string(nil), a.tags...)
	case artifact.StatePlatformImages:
		// Every platform's image, as platform=image id (a []string crosses Packer's RPC as
		// docker_tags does): what a multi-platform push needs.
		var images []string
		for _, image := range a.platforms {
			images = append(images, image.platform+"="+image.imageID)
		}
		if len(images) == 0 && a.platform != "" {
			images = append(images, a.platform+"="+a.imageID)
		}
		return images
	case plan.StateRecord:
		// The same for every platform's image: one set of options builds them all.
		return a.record
	case sbom.StatePlatformPaths:
		var paths []string
		for _, image := range a.platforms {
			if image.sbom.Path != "" {
				paths = append(paths, image.platform+"="+image.sbom.Path)
			}
		}
		return paths
	case sbom.StatePath:
		return a.sbom.Path
	case sbom.StateDigest:
		return a.sbom.Digest
	case sbom.StateProvenancePath:
		return a.sbom.ProvenancePath
	case sbom.StateProvenanceDigest:
		return a.sbom.ProvenanceDigest
	case registryimage.ArtifactStateURI:
		labels := map[string]interface{}{
			"tags":       strings.Join(a.tags, ","),
			"base_image": a.baseImage,
		}
		if a.sbom.Digest != "" {
			labels["sbom_digest"] = a.sbom.Digest
			labels["sbom_format"] = a.sbomFormat
			labels["provenance_digest"] = a.sbom.ProvenanceDigest
		}
		img, err := registryimage.FromArtifact(a,
			registryimage.WithProvider("docker"),
			registryimage.WithRegion("docker"),
			registryimage.WithSourceID(a.baseImageID),
			registryimage.SetLabels(labels),
		)
		if err != nil {
			return nil
		}
		return img
	}
	return nil
}

// Destroy removes the tags this build created, and with the last of them the image; an
// image that existed before the build is left alone.
func (a *Artifact) Destroy() error {
	var errs []string
	for _, ref := range a.created {
		if err := a.driver.RemoveTag(context.Background(), ref); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("destroying the runtime image: %s", strings.Join(errs, "; "))
	}
	return nil
}
