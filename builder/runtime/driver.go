package runtimebuilder

import (
	"context"
	"io"
	"time"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// BuildRequest is one image build.
type BuildRequest struct {
	Context   io.Reader
	Tags      []string
	BuildArgs map[string]string
	Platform  string
	BuildKit  bool
	// NetworkMode is the network of the build's RUN steps; empty is the engine's default.
	NetworkMode string
}

// BuildResult is what a build produced.
type BuildResult struct {
	ImageID string
	// Steps and CachedSteps count the Dockerfile instructions and those the cache served.
	Steps, CachedSteps int
}

// Driver is the builder's view of the Docker engine, so steps can be tested without one.
type Driver interface {
	// ImageID returns the id of a local image, or "" when the engine has none by that name.
	ImageID(ctx context.Context, ref string) (string, error)
	// ImageCreated returns a local image's creation time, the time of its SBOM and provenance.
	ImageCreated(ctx context.Context, imageID string) (time.Time, error)
	Pull(ctx context.Context, ref, platform string, ui packersdk.Ui) error
	Build(ctx context.Context, req BuildRequest, ui packersdk.Ui) (BuildResult, error)
	Tag(ctx context.Context, imageID, ref string) error
	// RemoveTag untags ref, deleting the image when it was its last tag.
	RemoveTag(ctx context.Context, ref string) error
	// RunScript runs a bash script as user in a throwaway container of the image with no
	// network, handing each line of its output to line; it returns the script's exit code.
	RunScript(ctx context.Context, imageID, user, script string, line func(string)) (int, error)
}
