// Package enginefake is a Docker engine in memory, the engine.Driver of the components' unit
// tests: local images by reference, a registry to pull from, scripts with scripted output,
// files, exports and pushes, each call recorded. A test that needs an engine to do more (the
// builder's builds, a push into a registry double) embeds Engine and adds that method.
package enginefake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docker/docker/api/types/registry"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
)

// Created is the creation time of an image the engine has no record of its own for.
var Created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Platform is the platform of an image the engine has no record of its own for.
const Platform = "linux/amd64"

// PushedDigest is the manifest digest every push returns.
var PushedDigest = "sha256:" + strings.Repeat("d", 64)

// Engine is a Docker engine in memory; its fields are the engine's state and what it was
// asked. Lock it to read or change them while it runs.
type Engine struct {
	sync.Mutex
	// Refs are the local images by reference (repository:tag, or the id) -> image id; an
	// image's id names it as long as one reference does.
	Refs map[string]string
	// Images are the engine's records of images by id; an image that has a reference and no
	// record is an Image of its id, Created and Platform.
	Images map[string]engine.Image
	// Registry is what Pull fetches: reference -> image id.
	Registry map[string]string
	// Files are the images' files by path, for ReadFile.
	Files map[string]string
	// Exports are the images' `docker save` streams by id, read in 64 KiB chunks, each after
	// ExportDelay.
	Exports     map[string][]byte
	ExportDelay time.Duration
	// Output is what every script prints, line by line, and Exit its exit code.
	Output []string
	Exit   int
	// PushErrs fail the next pushes, one each.
	PushErrs []error

	// Scripts are the scripts run, as "<image id> <user>: <script>".
	Scripts []string
	// Pulls, Tagged, Removed, Reads and Pushed are the references pulled, tagged, untagged,
	// the paths read and the references pushed; Auths the credentials of every push.
	Pulls, Tagged, Removed, Reads, Pushed []string
	Auths                                 []registry.AuthConfig
	// Saves counts the exports.
	Saves atomic.Int32
}

var _ engine.Driver = (*Engine)(nil)

// New is an engine holding nothing.
func New() *Engine {
	return &Engine{Refs: map[string]string{}, Images: map[string]engine.Image{}, Registry: map[string]string{}, Files: map[string]string{}, Exports: map[string][]byte{}}
}

// Add puts img in the engine under its id and refs.
func (e *Engine) Add(img engine.Image, refs ...string) {
	e.Lock()
	defer e.Unlock()
	e.Images[img.ID] = img
	for _, ref := range append([]string{img.ID}, refs...) {
		e.Refs[ref] = img.ID
	}
}

func (e *Engine) Image(_ context.Context, ref string) (engine.Image, error) {
	e.Lock()
	defer e.Unlock()
	id, ok := e.Refs[ref]
	if !ok {
		// An image's id names it as long as some reference does.
		for _, known := range e.Refs {
			ok = ok || known == ref
		}
		id = ref
	}
	if !ok {
		return engine.Image{}, &engine.InspectError{Ref: ref, Err: engine.ErrImageNotFound}
	}
	if img, ok := e.Images[id]; ok {
		return img, nil
	}
	return engine.Image{ID: id, Created: Created, Platform: Platform}, nil
}

func (e *Engine) Pull(_ context.Context, ref, _ string, _ packersdk.Ui) error {
	e.Lock()
	defer e.Unlock()
	e.Pulls = append(e.Pulls, ref)
	id, ok := e.Registry[ref]
	if !ok {
		return fmt.Errorf("pull access denied for %s, repository does not exist", ref)
	}
	e.Refs[ref] = id
	return nil
}

// Build refuses: an engine in memory has no builder; the builder's tests add theirs.
func (e *Engine) Build(context.Context, engine.BuildRequest, packersdk.Ui) (engine.BuildResult, error) {
	return engine.BuildResult{}, fmt.Errorf("enginefake: this engine builds nothing")
}

func (e *Engine) Tag(_ context.Context, imageID, ref string) error {
	e.Lock()
	defer e.Unlock()
	e.Tagged = append(e.Tagged, ref)
	e.Refs[ref] = imageID
	return nil
}

func (e *Engine) RemoveTag(_ context.Context, ref string) error {
	e.Lock()
	defer e.Unlock()
	e.Removed = append(e.Removed, ref)
	delete(e.Refs, ref)
	return nil
}

func (e *Engine) RunScript(_ context.Context, imageID, user, script string, line func(string)) (int, error) {
	e.Lock()
	e.Scripts = append(e.Scripts, imageID+" "+user+": "+script)
	output, exit := e.Output, e.Exit
	e.Unlock()
	for _, l := range output {
		line(l)
	}
	return exit, nil
}

func (e *Engine) ReadFile(_ context.Context, _, path string, limit int64) ([]byte, bool, error) {
	e.Lock()
	defer e.Unlock()
	e.Reads = append(e.Reads, path)
	data, ok := e.Files[path]
	if int64(len(data)) > limit {
		return nil, false, fmt.Errorf("%s has %d bytes, more than the %d expected", path, len(data), limit)
	}
	return []byte(data), ok, nil
}

func (e *Engine) Save(ctx context.Context, imageID string) (io.ReadCloser, error) {
	e.Lock()
	defer e.Unlock()
	export, ok := e.Exports[imageID]
	if !ok {
		return nil, fmt.Errorf("exporting image %s from the engine: enginefake has no export of it", imageID)
	}
	e.Saves.Add(1)
	return io.NopCloser(&slowReader{ctx: ctx, r: bytes.NewReader(export), delay: e.ExportDelay}), nil
}

func (e *Engine) Push(_ context.Context, ref string, auth registry.AuthConfig, _ packersdk.Ui) (string, error) {
	e.Lock()
	defer e.Unlock()
	e.Auths = append(e.Auths, auth)
	if len(e.PushErrs) > 0 {
		err := e.PushErrs[0]
		e.PushErrs = e.PushErrs[1:]
		return "", err
	}
	e.Pushed = append(e.Pushed, ref)
	return PushedDigest, nil
}

// slowReader reads at most 64 KiB at a time, each after delay, until ctx is done.
type slowReader struct {
	ctx   context.Context
	r     io.Reader
	delay time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	time.Sleep(s.delay)
	return s.r.Read(p[:min(len(p), 64<<10)])
}
