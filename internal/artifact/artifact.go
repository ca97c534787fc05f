// Package artifact is what one component of the plugin hands the next in a Packer artifact,
// written once for both sides: the builder ids an image in the local engine comes with, the
// artifact state keys, and their reading through Packer's RPC. The record of the build
// options (plan.StateRecord) and the SBOM's and provenance's files (sbom.State*) keep their
// keys beside what they describe.
package artifact

import (
	"strings"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// Builder ids of artifacts that are images in the local Docker engine, with the image (id or
// reference) as Id(): the docker builder's committed image and docker-import's, which the
// openhands-runtime builder shares so that docker-tag, docker-push and openhands-ecr take
// it; and docker-tag's.
const (
	DockerImportBuilderID = "packer.post-processor.docker-import"
	DockerTagBuilderID    = "packer.post-processor.docker-tag"
)

// State keys.
const (
	// StateDockerTags is every repository:tag the image carries, as the docker plugin's
	// artifacts say it.
	StateDockerTags = "docker_tags"
	// StatePlatformImages is every platform's image of a multi-platform build, as
	// platform=image id.
	StatePlatformImages = "platform_images"
	// StateDigest is a pushed image's manifest digest.
	StateDigest = "digest"
)

// ContentTagPrefix begins the builder's content tags (oh_v<version>_<digests>), which name
// an image by what it was built from; the post-processor pushes them with the image.
const ContentTagPrefix = "oh_v"

// IsContentTag says whether tag is one of the builder's content tags.
func IsContentTag(tag string) bool { return strings.HasPrefix(tag, ContentTagPrefix) }

// String reads a string from the artifact's state; "" when it has none.
func String(a packersdk.Artifact, key string) string {
	s, _ := a.State(key).(string)
	return s
}

// Strings reads a list of strings from the artifact's state, as a plugin's own artifact
// hands it or as Packer's RPC does (which may hand it over as []interface{}).
func Strings(a packersdk.Artifact, key string) []string {
	switch t := a.State(key).(type) {
	case []string:
		return t
	case []interface{}:
		var out []string
		for _, v := range t {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
