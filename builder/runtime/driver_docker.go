package runtimebuilder

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// EngineDriver is the builder's Driver on the Docker Engine API.
type EngineDriver struct {
	*engine.Client
}

func NewEngineDriver() (*EngineDriver, error) {
	c, err := engine.NewClient()
	if err != nil {
		return nil, err
	}
	return &EngineDriver{c}, nil
}

func (d *EngineDriver) ImageID(ctx context.Context, ref string) (string, error) {
	img, err := d.ImageInspect(ctx, ref)
	if client.IsErrNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("inspecting image %s: %w", ref, err)
	}
	return img.ID, nil
}

func (d *EngineDriver) ImageCreated(ctx context.Context, imageID string) (time.Time, error) {
	img, err := d.ImageInspect(ctx, imageID)
	if err != nil {
		return time.Time{}, fmt.Errorf("inspecting image %s: %w", imageID, err)
	}
	created, err := time.Parse(time.RFC3339Nano, img.Created)
	if err != nil {
		return time.Time{}, fmt.Errorf("image %s: reading its creation time %q: %w", imageID, img.Created, err)
	}
	return created, nil
}

func (d *EngineDriver) Pull(ctx context.Context, ref, platform string, ui packersdk.Ui) error {
	body, err := d.ImagePull(ctx, ref, image.PullOptions{Platform: platform})
	if err != nil {
		return fmt.Errorf("pulling %s: %w", ref, err)
	}
	defer body.Close()
	_, err = engine.ReadMessages(body, ui)
	if err != nil {
		return fmt.Errorf("pulling %s: %w", ref, err)
	}
	return nil
}

func (d *EngineDriver) Build(ctx context.Context, req BuildRequest, ui packersdk.Ui) (BuildResult, error) {
	args := map[string]*string{}
	for k, v := range req.BuildArgs {
		args[k] = &v
	}
	version := build.BuilderV1
	if req.BuildKit {
		version = build.BuilderBuildKit
	}
	resp, err := d.ImageBuild(ctx, req.Context, build.ImageBuildOptions{
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
	res, err := engine.ReadMessages(resp.Body, ui)
	result := BuildResult{ImageID: res.ImageID, Steps: res.Steps, CachedSteps: res.CachedSteps}
	if err != nil {
		return result, err
	}
	if result.ImageID == "" {
		return result, errors.New("the engine reported no image id for the build")
	}
	return result, nil
}

func (d *EngineDriver) RemoveTag(ctx context.Context, ref string) error {
	_, err := d.ImageRemove(ctx, ref, image.RemoveOptions{PruneChildren: true})
	if err != nil && !client.IsErrNotFound(err) {
		return fmt.Errorf("removing %s: %w", ref, err)
	}
	return nil
}
