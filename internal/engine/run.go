package engine

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// ScriptTimeout bounds a script container's whole run when the caller's context sets no
// deadline: the verification and the inventory take minutes at most, and a script stuck on
// something (a check that waits for a server that never comes up) must not hold the build.
var ScriptTimeout = 30 * time.Minute

// ScriptContainer is the configuration of a container that runs a script in an image: the
// script as the entrypoint, run as user, with no network at all (NetworkMode "none", no
// endpoints), nothing published or mounted.
func ScriptContainer(imageID, user, script string) (*container.Config, *container.HostConfig) {
	config := &container.Config{
		Image:      imageID,
		User:       user,
		Entrypoint: []string{"/bin/bash", "-c", script},
		Cmd:        nil,
	}
	hostConfig := &container.HostConfig{NetworkMode: network.NetworkNone}
	return config, hostConfig
}

// RunScript runs a bash script in a throwaway container of the image (ScriptContainer),
// handing each line of its output to line as it comes; it returns the script's exit code.
// The ECR post-processor's verification and the builder's inventory run this way. Without a
// deadline on ctx the run is bounded by ScriptTimeout; at the deadline the container is
// removed and the error says how long it ran.
func (c *Client) RunScript(ctx context.Context, imageID, user, script string, line func(string)) (int, error) {
	limit := ScriptTimeout
	if deadline, ok := ctx.Deadline(); ok {
		limit = time.Until(deadline)
	} else {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	code, err := c.runScript(ctx, imageID, user, script, line)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return -1, fmt.Errorf("the script in a container of %s did not finish within %s and was stopped: %w", imageID, limit.Round(time.Second), err)
	}
	return code, err
}

func (c *Client) runScript(ctx context.Context, imageID, user, script string, line func(string)) (int, error) {
	config, hostConfig := ScriptContainer(imageID, user, script)
	created, err := c.ContainerCreate(ctx, config, hostConfig, nil, nil, "")
	if err != nil {
		return -1, fmt.Errorf("creating the container that runs the script: %w", err)
	}
	defer c.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
	if err := c.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		return -1, fmt.Errorf("starting the container that runs the script: %w", err)
	}
	logs, err := c.ContainerLogs(ctx, created.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
	if err != nil {
		return -1, fmt.Errorf("reading the script's output: %w", err)
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := stdcopy.StdCopy(pw, pw, logs)
		logs.Close()
		pw.CloseWithError(err)
	}()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 0, 64<<10), plan.MaxOutputLine)
	for sc.Scan() {
		line(sc.Text())
	}
	// A line over the limit ends the scan: say so rather than lose the rest of the output
	// (the checks' verdicts come last).
	scanErr := sc.Err()
	pr.Close()
	if scanErr != nil {
		return -1, fmt.Errorf("reading the script's output: %w (a line longer than %d bytes; the output after it was not read)", scanErr, plan.MaxOutputLine)
	}
	waitCh, errCh := c.ContainerWait(ctx, created.ID, container.WaitConditionNotRunning)
	select {
	case res := <-waitCh:
		return int(res.StatusCode), nil
	case err := <-errCh:
		return -1, fmt.Errorf("waiting for the container that runs the script: %w", err)
	}
}

// ReadFile reads a regular file of an image without running anything in it: from a container
// created for the purpose (ScriptContainer's, with no network) and never started, as
// `docker cp` reads one. found is false when the image has no such file; a file larger than
// limit is refused.
func (c *Client) ReadFile(ctx context.Context, imageID, path string, limit int64) (data []byte, found bool, err error) {
	// Never started: the entrypoint only lets an image without a command be created.
	config, hostConfig := ScriptContainer(imageID, "", "")
	created, err := c.ContainerCreate(ctx, config, hostConfig, nil, nil, "")
	if err != nil {
		return nil, false, fmt.Errorf("creating the container that reads %s: %w", path, err)
	}
	defer c.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
	archive, _, err := c.CopyFromContainer(ctx, created.ID, path)
	if client.IsErrNotFound(err) {
		return nil, false, nil
	}
	if err == nil {
		data, err = fileFromArchive(archive, limit)
		archive.Close()
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading %s from the image: %w", path, err)
	}
	return data, true, nil
}

// fileFromArchive is the content of the single file of a tar archive, as the Engine API
// archives a path of a container, up to limit bytes.
func fileFromArchive(r io.Reader, limit int64) ([]byte, error) {
	tr := tar.NewReader(r)
	hdr, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("the engine's archive holds no file: %w", err)
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil, fmt.Errorf("%s is not a regular file", hdr.Name)
	}
	if hdr.Size > limit {
		return nil, fmt.Errorf("%s has %d bytes, more than the %d expected", hdr.Name, hdr.Size, limit)
	}
	return io.ReadAll(tr)
}
