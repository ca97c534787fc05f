package ecrpostprocessor

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	gcrname "github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/retry"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
	"github.com/openhands-runtime/packer-plugin-openhands/internal/imagepush"
)

// pushTarget is where a push goes: the repository name (registry/repository), its login and
// ECR API, and the engine the images come from.
type pushTarget struct {
	driver engine.Driver
	reg    registryLogin
	api    ecrAPI
	name   string
}

// repository is the repository pushed to, as go-containerregistry names it.
func (t pushTarget) repository() (gcrname.Repository, error) {
	repo, err := gcrname.NewRepository(t.name)
	if err != nil {
		return repo, fmt.Errorf("repository %s: %w", t.name, err)
	}
	return repo, nil
}

// remoteOptions are imagepush.RemoteOptions with the target's login and ctx.
func (t pushTarget) remoteOptions(ctx context.Context) []remote.Option {
	return append(imagepush.RemoteOptions(t.reg.auth), remote.WithContext(ctx))
}

// pushImage pushes one local image under tags with the configured push method and returns
// its manifest digest.
func (p *PostProcessor) pushImage(ctx context.Context, ui packersdk.Ui, target pushTarget, imageID string, tags []string) (string, error) {
	if p.config.PushMethod == pushEngine {
		return p.enginePush(ctx, ui, target, imageID, tags)
	}
	return p.pluginPush(ctx, ui, target, imageID, tags)
}

// pushRetry tries a whole push again after a failure the push's own retries did not get
// through (a 5xx on the manifest, throttling, a dropped connection).
var pushRetry = retry.Config{
	Tries:      pushTries,
	RetryDelay: (&retry.Backoff{InitialBackoff: 2 * time.Second, MaxBackoff: 30 * time.Second, Multiplier: 2}).Linear,
}

// enginePush has the Docker engine push each tag (push_method = "engine").
func (p *PostProcessor) enginePush(ctx context.Context, ui packersdk.Ui, target pushTarget, imageID string, tags []string) (string, error) {
	c, driver, name := &p.config, target.driver, target.name
	var digest string
	for _, tag := range tags {
		ref := name + ":" + tag
		if err := driver.Tag(ctx, imageID, ref); err != nil {
			return "", err
		}
		// A tag already at this image's digest is not pushed again; the local engine knows
		// the digest once this image was pushed to the repository.
		local, err := driver.Image(ctx, imageID)
		if err != nil {
			return "", err
		}
		remote, err := remoteDigest(ctx, target.api, c, tag)
		if err != nil {
			return "", err
		}
		if remote != "" && slices.Contains(local.RepoDigests, name+"@"+remote) {
			ui.Sayf("%s is already at %s: not pushed again", ref, remote)
			digest = remote
			continue
		}
		ui.Sayf("Pushing %s", ref)
		pushStarted := time.Now()
		// The engine retries layer uploads itself.
		err = pushRetry.Run(ctx, func(ctx context.Context) error {
			d, err := driver.Push(ctx, ref, target.reg.auth, ui)
			if err != nil {
				ui.Errorf("push failed: %v", err)
				return err
			}
			digest = d
			return nil
		})
		if err != nil {
			return "", err
		}
		ui.Sayf("Pushed %s in %s", ref, time.Since(pushStarted).Round(10*time.Millisecond))
	}
	return digest, nil
}

// pluginPush uploads the image's blobs once with the plugin's pusher, then puts its manifest
// under each tag that is not already at it (push_method = "plugin").
func (p *PostProcessor) pluginPush(ctx context.Context, ui packersdk.Ui, target pushTarget, imageID string, tags []string) (string, error) {
	repo, err := target.repository()
	if err != nil {
		return "", err
	}
	cacheDir := p.cacheDir
	if cacheDir == "" {
		if cacheDir, err = imagepush.DefaultCacheDir(); err != nil {
			return "", fmt.Errorf("finding the user's cache directory for the blob cache: %w", err)
		}
	}
	pusher := &imagepush.Pusher{
		Source:      target.driver,
		Compression: p.config.compression(),
		Cache:       imagepush.OpenBlobCache(filepath.Join(cacheDir, blobCacheFile)),
		Options:     imagepush.RemoteOptions(target.reg.auth),
		Interval:    p.progressEvery,
	}
	started := time.Now()
	var m imagepush.Manifest
	blobsRetry := pushRetry
	blobsRetry.ShouldRetry = imagepush.Retryable
	err = blobsRetry.Run(ctx, func(ctx context.Context) error {
		var err error
		if m, err = pusher.PushBlobs(ctx, ui, imageID, repo); err != nil {
			ui.Errorf("push failed: %v", err)
		}
		return err
	})
	var lacks *imagepush.ExportLacksLayerError
	if errors.As(err, &lacks) {
		return "", fmt.Errorf("%w; set push_method = \"engine\" for this engine", err)
	}
	if err != nil {
		return "", err
	}
	if err := p.putManifest(ctx, ui, target, m, tags, started); err != nil {
		return "", err
	}
	return m.Digest().String(), nil
}

// putManifest puts m under each tag that is not already at it, or by its digest when there
// are no tags; started is when its push began, reported with the first tag.
func (p *PostProcessor) putManifest(ctx context.Context, ui packersdk.Ui, target pushTarget, m imagepush.Manifest, tags []string, started time.Time) error {
	repo, err := target.repository()
	if err != nil {
		return err
	}
	digest := m.Digest().String()
	if len(tags) == 0 {
		return pushRetry.Run(ctx, func(ctx context.Context) error {
			return remote.Put(repo.Digest(digest), m, target.remoteOptions(ctx)...)
		})
	}
	for _, tag := range tags {
		ref := repo.Tag(tag)
		remoteAt, err := remoteDigest(ctx, target.api, &p.config, tag)
		if err != nil {
			return err
		}
		if remoteAt == digest {
			ui.Sayf("%s is already at %s: not pushed again", ref, digest)
			continue
		}
		err = pushRetry.Run(ctx, func(ctx context.Context) error {
			return remote.Put(ref, m, target.remoteOptions(ctx)...)
		})
		if err != nil {
			return fmt.Errorf("pushing the manifest of %s: %w", ref, err)
		}
		// The first tag's time includes the layers' upload.
		ui.Sayf("Pushed %s in %s", ref, time.Since(started).Round(10*time.Millisecond))
		started = time.Now()
	}
	return nil
}

// blobCacheFile is the blob cache's file in the cache directory.
const blobCacheFile = "ecr-blobs.json"

// pushTries bounds the attempts at one push.
const pushTries = 3

// pushTags are the tags to push, in order without repeats; "latest" when there are none.
func pushTags(lists ...[]string) []string {
	var out []string
	for _, s := range slices.Concat(lists...) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return []string{"latest"}
	}
	return out
}
