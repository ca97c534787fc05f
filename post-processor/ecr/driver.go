package ecrpostprocessor

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
)

// Driver is the post-processor's view of the Docker engine.
type Driver interface {
	// Image returns the local image's id and repo digests, or an error when it is missing.
	Image(ctx context.Context, ref string) (id string, repoDigests []string, err error)
	// RunScript runs a bash script in a throwaway container of the image, as user, with no
	// network, streaming its output; it returns the script's exit code.
	RunScript(ctx context.Context, imageID, user, script string, ui packersdk.Ui) (int, error)
	// ReadFile reads a regular file of the image without running it; found is false when the
	// image has no such file.
	ReadFile(ctx context.Context, imageID, path string) (data []byte, found bool, err error)
	// Platform is the image's platform as the engine records it: os/architecture[/variant].
	Platform(ctx context.Context, imageID string) (string, error)
	Tag(ctx context.Context, imageID, ref string) error
	// Push pushes ref with the given registry credentials and returns the manifest digest.
	Push(ctx context.Context, ref string, auth registry.AuthConfig, ui packersdk.Ui) (string, error)
	// Layers are the image's layer diff ids ("sha256:..."), bottom first.
	Layers(ctx context.Context, imageID string) ([]string, error)
	// Save streams the image as `docker save` writes it (the Engine API's image export).
	Save(ctx context.Context, imageID string) (io.ReadCloser, error)
}

type engineDriver struct{ *engine.Client }

func newEngineDriver() (*engineDriver, error) {
	c, err := engine.NewClient()
	if err != nil {
		return nil, err
	}
	return &engineDriver{c}, nil
}

func (d *engineDriver) Image(ctx context.Context, ref string) (string, []string, error) {
	img, err := d.ImageInspect(ctx, ref)
	if err != nil {
		return "", nil, fmt.Errorf("inspecting image %s: %w", ref, err)
	}
	return img.ID, img.RepoDigests, nil
}

func (d *engineDriver) Platform(ctx context.Context, imageID string) (string, error) {
	img, err := d.ImageInspect(ctx, imageID)
	if err != nil {
		return "", fmt.Errorf("inspecting image %s: %w", imageID, err)
	}
	platform := img.Os + "/" + img.Architecture
	if img.Variant != "" {
		platform += "/" + img.Variant
	}
	return platform, nil
}

func (d *engineDriver) Layers(ctx context.Context, imageID string) ([]string, error) {
	img, err := d.ImageInspect(ctx, imageID)
	if err != nil {
		return nil, fmt.Errorf("inspecting image %s: %w", imageID, err)
	}
	return img.RootFS.Layers, nil
}

func (d *engineDriver) Save(ctx context.Context, imageID string) (io.ReadCloser, error) {
	rc, err := d.ImageSave(ctx, []string{imageID})
	if err != nil {
		return nil, fmt.Errorf("exporting image %s from the engine: %w", imageID, err)
	}
	return rc, nil
}

func (d *engineDriver) RunScript(ctx context.Context, imageID, user, script string, ui packersdk.Ui) (int, error) {
	return d.Client.RunScript(ctx, imageID, user, script, ui.Say)
}

// recordLimit bounds the record read from an image: a few hundred bytes, more with
// verify commands.
const recordLimit = 1 << 20

func (d *engineDriver) ReadFile(ctx context.Context, imageID, path string) ([]byte, bool, error) {
	return d.Client.ReadFile(ctx, imageID, path, recordLimit)
}

func (d *engineDriver) Push(ctx context.Context, ref string, auth registry.AuthConfig, ui packersdk.Ui) (string, error) {
	encoded, err := encodeAuth(auth)
	if err != nil {
		return "", err
	}
	body, err := d.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: encoded})
	if err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	defer body.Close()
	res, err := engine.ReadMessages(body, ui)
	if err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	digest := res.Digest
	if digest == "" {
		return "", errors.New("pushing " + ref + ": the engine reported no digest")
	}
	return digest, nil
}

// encodeAuth is the X-Registry-Auth header value: the credentials travel with the request
// only, nothing is written to a docker config file.
func encodeAuth(auth registry.AuthConfig) (string, error) {
	data, err := json.Marshal(auth)
	if err != nil {
		return "", err
	}
	return base64.URLEncoding.EncodeToString(data), nil
}
