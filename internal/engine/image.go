package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

var _ Driver = (*Client)(nil)

// Image inspects a local image.
func (c *Client) Image(ctx context.Context, ref string) (Image, error) {
	img, err := c.ImageInspect(ctx, ref)
	if err != nil {
		return Image{}, &InspectError{Ref: ref, Err: err}
	}
	created, err := time.Parse(time.RFC3339Nano, img.Created)
	if err != nil {
		return Image{}, fmt.Errorf("image %s: reading its creation time %q: %w", ref, img.Created, err)
	}
	platform := img.Os + "/" + img.Architecture
	if img.Variant != "" {
		platform += "/" + img.Variant
	}
	return Image{ID: img.ID, RepoDigests: img.RepoDigests, Created: created, Platform: platform, Layers: img.RootFS.Layers}, nil
}

func (c *Client) Pull(ctx context.Context, ref, platform string, ui packersdk.Ui) error {
	body, err := c.ImagePull(ctx, ref, image.PullOptions{Platform: platform})
	if err == nil {
		_, err = ReadMessages(body, ui)
		body.Close()
	}
	if err != nil {
		return fmt.Errorf("pulling %s: %w", ref, err)
	}
	return nil
}

func (c *Client) Build(ctx context.Context, req BuildRequest, ui packersdk.Ui) (BuildResult, error) {
	args := map[string]*string{}
	for k, v := range req.BuildArgs {
		args[k] = &v
	}
	version := build.BuilderV1
	if req.BuildKit {
		version = build.BuilderBuildKit
	}
	resp, err := c.ImageBuild(ctx, req.Context, build.ImageBuildOptions{
		Tags:        req.Tags,
		BuildArgs:   args,
		Platform:    req.Platform,
		Version:     version,
		PullParent:  false, // the base was pulled, or deliberately not, before
		Remove:      true,
		ForceRemove: true, // intermediate containers go even when a step fails
		Dockerfile:  plan.DockerfileName,
		NetworkMode: req.NetworkMode,
	})
	if err != nil {
		return BuildResult{}, fmt.Errorf("starting the image build: %w", err)
	}
	defer resp.Body.Close()
	res, err := ReadMessages(resp.Body, ui)
	result := BuildResult{ImageID: res.ImageID, Steps: res.Steps, CachedSteps: res.CachedSteps}
	if err != nil {
		return result, err
	}
	if result.ImageID == "" {
		return result, errors.New("the engine reported no image id for the build")
	}
	return result, nil
}

// Tag names the image ref.
func (c *Client) Tag(ctx context.Context, imageID, ref string) error {
	if err := c.ImageTag(ctx, imageID, ref); err != nil {
		return fmt.Errorf("tagging %s as %s: %w", imageID, ref, err)
	}
	return nil
}

func (c *Client) RemoveTag(ctx context.Context, ref string) error {
	_, err := c.ImageRemove(ctx, ref, image.RemoveOptions{PruneChildren: true})
	if err != nil && !client.IsErrNotFound(err) {
		return fmt.Errorf("removing %s: %w", ref, err)
	}
	return nil
}

func (c *Client) Save(ctx context.Context, imageID string) (io.ReadCloser, error) {
	rc, err := c.ImageSave(ctx, []string{imageID})
	if err != nil {
		return nil, fmt.Errorf("exporting image %s from the engine: %w", imageID, err)
	}
	return rc, nil
}

func (c *Client) Push(ctx context.Context, ref string, auth registry.AuthConfig, ui packersdk.Ui) (string, error) {
	// The credentials travel with the request only (X-Registry-Auth), nothing is written to a
	// docker config file.
	encoded, err := registry.EncodeAuthConfig(auth)
	if err != nil {
		return "", err
	}
	body, err := c.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: encoded})
	var res Result
	if err == nil {
		res, err = ReadMessages(body, ui)
		body.Close()
	}
	if err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	if res.Digest == "" {
		return "", errors.New("pushing " + ref + ": the engine reported no digest")
	}
	return res.Digest, nil
}
