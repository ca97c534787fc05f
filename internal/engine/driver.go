package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// Driver is the components' view of the Docker engine: the builder and the post-processor
// drive it, and their unit tests drive an engine in memory instead (acctest/enginefake).
// Client is the one on the Engine API.
type Driver interface {
	// Image is what the engine records of a local image; an error matching ErrImageNotFound
	// when it has none by that name.
	Image(ctx context.Context, ref string) (Image, error)
	Pull(ctx context.Context, ref, platform string, ui packersdk.Ui) error
	Build(ctx context.Context, req BuildRequest, ui packersdk.Ui) (BuildResult, error)
	// Tag names the image ref.
	Tag(ctx context.Context, imageID, ref string) error
	// RemoveTag untags ref, deleting the image when it was its last tag; a ref the engine
	// does not know is no error.
	RemoveTag(ctx context.Context, ref string) error
	// RunScript runs a bash script as user in a throwaway container of the image with no
	// network, handing each line of its output to line; it returns the script's exit code.
	RunScript(ctx context.Context, imageID, user, script string, line func(string)) (int, error)
	// ReadFile reads a regular file of the image without running it, up to limit bytes;
	// found is false when the image has no such file.
	ReadFile(ctx context.Context, imageID, path string, limit int64) (data []byte, found bool, err error)
	// Save streams the image as `docker save` writes it (the Engine API's image export).
	Save(ctx context.Context, imageID string) (io.ReadCloser, error)
	// Push has the engine push ref with the given registry credentials and returns the
	// manifest digest.
	Push(ctx context.Context, ref string, auth registry.AuthConfig, ui packersdk.Ui) (string, error)
}

// Image is what the engine records of a local image.
type Image struct {
	ID string
	// RepoDigests are the repository@digest names the image was pushed or pulled as.
	RepoDigests []string
	// Created is the image's creation time, the time of its SBOM and provenance.
	Created time.Time
	// Platform is os/architecture[/variant].
	Platform string
	// Layers are the image's layer diff ids ("sha256:..."), bottom first.
	Layers []string
}

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

// ErrImageNotFound matches (errors.Is) the error of Image for a reference the engine does
// not know.
var ErrImageNotFound = errors.New("no such image")

// InspectError is a failed inspection of a local image.
type InspectError struct {
	Ref string
	Err error
}

func (e *InspectError) Error() string { return fmt.Sprintf("inspecting image %s: %v", e.Ref, e.Err) }
func (e *InspectError) Unwrap() error { return e.Err }

// Is matches ErrImageNotFound when the engine answered that it has no such image.
func (e *InspectError) Is(target error) bool {
	return target == ErrImageNotFound && (client.IsErrNotFound(e.Err) || errors.Is(e.Err, ErrImageNotFound))
}
