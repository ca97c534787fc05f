package ecrpostprocessor

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/pkg/stdcopy"
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

// verifyContainer is the verification container's configuration: the script as the
// entrypoint, run as user, with no network at all (NetworkMode "none", no endpoints).
func verifyContainer(imageID, user, script string) (*container.Config, *container.HostConfig) {
	config := &container.Config{
		Image:      imageID,
		User:       user,
		Entrypoint: []string{"/bin/bash", "-c", script},
		Cmd:        nil,
	}
	hostConfig := &container.HostConfig{NetworkMode: network.NetworkNone}
	return config, hostConfig
}

func (d *engineDriver) RunScript(ctx context.Context, imageID, user, script string, ui packersdk.Ui) (int, error) {
	config, hostConfig := verifyContainer(imageID, user, script)
	created, err := d.ContainerCreate(ctx, config, hostConfig, nil, nil, "")
	if err != nil {
		return -1, fmt.Errorf("creating the verification container: %w", err)
	}
	defer d.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
	if err := d.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		return -1, fmt.Errorf("starting the verification container: %w", err)
	}
	logs, err := d.ContainerLogs(ctx, created.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
	if err != nil {
		return -1, fmt.Errorf("reading the verification output: %w", err)
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := stdcopy.StdCopy(pw, pw, logs)
		logs.Close()
		pw.CloseWithError(err)
	}()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		ui.Say(sc.Text())
	}
	pr.Close()
	waitCh, errCh := d.ContainerWait(ctx, created.ID, container.WaitConditionNotRunning)
	select {
	case res := <-waitCh:
		return int(res.StatusCode), nil
	case err := <-errCh:
		return -1, fmt.Errorf("waiting for the verification container: %w", err)
	}
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
