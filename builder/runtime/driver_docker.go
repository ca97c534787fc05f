package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// EngineDriver talks to the Docker Engine API: DOCKER_HOST and the other DOCKER_* variables
// are honoured and the API version is negotiated, so Engine 20.10 and current engines work.
type EngineDriver struct {
	client *client.Client
}

func NewEngineDriver() (*EngineDriver, error) {
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("connecting to the Docker engine (DOCKER_HOST=%q): %w", c.DaemonHost(), err)
	}
	return &EngineDriver{client: c}, nil
}

func (d *EngineDriver) ImageID(ctx context.Context, ref string) (string, error) {
	img, err := d.client.ImageInspect(ctx, ref)
	if client.IsErrNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("inspecting image %s: %w", ref, err)
	}
	return img.ID, nil
}

func (d *EngineDriver) Pull(ctx context.Context, ref, platform string, ui packersdk.Ui) error {
	body, err := d.client.ImagePull(ctx, ref, image.PullOptions{Platform: platform})
	if err != nil {
		return fmt.Errorf("pulling %s: %w", ref, err)
	}
	defer body.Close()
	_, err = readMessages(body, ui, nil)
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
	resp, err := d.client.ImageBuild(ctx, req.Context, build.ImageBuildOptions{
		Tags:        req.Tags,
		BuildArgs:   args,
		Platform:    req.Platform,
		Version:     version,
		PullParent:  false, // the base was pulled, or deliberately not, before
		Remove:      true,
		ForceRemove: true, // intermediate containers go even when a step fails
		Dockerfile:  "Dockerfile",
	})
	if err != nil {
		return BuildResult{}, fmt.Errorf("starting the image build: %w", err)
	}
	defer resp.Body.Close()
	var result BuildResult
	id, err := readMessages(resp.Body, ui, func(line string) {
		switch {
		case strings.HasPrefix(line, "Step "):
			result.Steps++
		case strings.Contains(line, "---> Using cache"):
			result.CachedSteps++
		}
	})
	result.ImageID = id
	if err != nil {
		return result, err
	}
	if result.ImageID == "" {
		return result, errors.New("the engine reported no image id for the build")
	}
	return result, nil
}

func (d *EngineDriver) Tag(ctx context.Context, imageID, ref string) error {
	if err := d.client.ImageTag(ctx, imageID, ref); err != nil {
		return fmt.Errorf("tagging %s as %s: %w", imageID, ref, err)
	}
	return nil
}

func (d *EngineDriver) RemoveTag(ctx context.Context, ref string) error {
	_, err := d.client.ImageRemove(ctx, ref, image.RemoveOptions{PruneChildren: true})
	if err != nil && !client.IsErrNotFound(err) {
		return fmt.Errorf("removing %s: %w", ref, err)
	}
	return nil
}

// readMessages streams the engine's JSON messages to the UI, line by line, and returns the
// image id the build reported (aux {"ID": ...}) or the first error message.
func readMessages(r io.Reader, ui packersdk.Ui, onLine func(string)) (string, error) {
	dec := json.NewDecoder(r)
	var id string
	var partial strings.Builder
	flush := func() {
		if partial.Len() > 0 {
			ui.Say(partial.String())
			partial.Reset()
		}
	}
	for {
		var m jsonmessage.JSONMessage
		if err := dec.Decode(&m); err == io.EOF {
			flush()
			return id, nil
		} else if err != nil {
			return id, fmt.Errorf("reading the engine's output: %w", err)
		}
		if m.Error != nil {
			flush()
			return id, errors.New(strings.TrimSpace(m.Error.Message))
		}
		if m.Aux != nil {
			var aux struct{ ID string }
			if json.Unmarshal(*m.Aux, &aux) == nil && aux.ID != "" {
				id = aux.ID
			}
		}
		text := m.Stream
		if text == "" && m.Status != "" {
			text = strings.TrimSpace(m.ID+" "+m.Status) + "\n"
		}
		for text != "" {
			line, rest, found := strings.Cut(text, "\n")
			partial.WriteString(line)
			if !found {
				break
			}
			if onLine != nil {
				onLine(partial.String())
			}
			flush()
			text = rest
		}
	}
}
