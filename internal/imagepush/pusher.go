package imagepush

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"golang.org/x/sync/errgroup"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
)

// Source is where the images pushed come from: the engine's record of an image (its layers'
// diff ids) and its export. engine.Driver is one.
type Source interface {
	Image(ctx context.Context, ref string) (engine.Image, error)
	Save(ctx context.Context, imageID string) (io.ReadCloser, error)
}

// Pusher pushes an image of the engine itself: it reads the image with the engine's
// export (`docker save`), compresses each layer on every core as it streams by, uploads
// each compressed layer with go-containerregistry as it is compressed, then
// the config and the manifest. Layers the registry has (found through the blob cache) are
// neither compressed nor uploaded again; when it has all of them, nothing is exported.
type Pusher struct {
	Source      Source
	Compression Compression
	Cache       *BlobCache
	// Options are the registry's: its auth and transport (RemoteOptions).
	Options []remote.Option
	// Interval is the time between progress reports; ProgressInterval when zero.
	Interval time.Duration
	// unreadable are the repositories (names) the credentials may not read, so lend nothing.
	unreadable sync.Map
}

// Manifest is a manifest to put (an image's, or an index), ready to be tagged.
type Manifest struct {
	raw       []byte
	mediaType types.MediaType
	digest    v1.Hash
}

func (m Manifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m Manifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }

// Digest is the manifest's digest.
func (m Manifest) Digest() v1.Hash { return m.digest }

// PushBlobs uploads imageID's config and layers to repo and returns the manifest naming
// them; no tag points at it yet, so a push that fails or is killed here leaves no tag on a
// partial image.
func (p *Pusher) PushBlobs(ctx context.Context, ui packersdk.Ui, imageID string, repo name.Repository) (Manifest, error) {
	opts := append([]remote.Option{remote.WithContext(ctx)}, p.Options...)
	puller, err := remote.NewPuller(opts...)
	if err != nil {
		return Manifest{}, err
	}
	pusher, err := remote.NewPusher(opts...)
	if err != nil {
		return Manifest{}, err
	}
	local, err := p.Source.Image(ctx, imageID)
	if err != nil {
		return Manifest{}, err
	}
	diffIDs := local.Layers

	// Layers the cache knows and the repository has, or another repository of the registry
	// has and lends (a mount).
	blobs := map[v1.Hash]v1.Descriptor{} // diff id -> compressed blob
	layers, missing := map[v1.Hash]bool{}, map[v1.Hash]bool{}
	var lenders []name.Repository // where mounted layers came from: the config may be there too
	mounted := 0
	for _, s := range diffIDs {
		d, err := v1.NewHash(s)
		if err != nil {
			return Manifest{}, fmt.Errorf("layer %q of %s: %w", s, imageID, err)
		}
		layers[d] = true
		if _, seen := blobs[d]; seen || missing[d] {
			continue
		}
		b, ok := p.Cache.get(d, p.Compression)
		digest, err := v1.NewHash(b.Digest)
		if !ok || err != nil {
			missing[d] = true
			continue
		}
		desc := v1.Descriptor{MediaType: p.Compression.LayerMediaType(), Digest: digest, Size: b.Size}
		found, err := p.mountOrFind(ctx, puller, pusher, repo, desc, b.Repositories, &lenders)
		if err != nil {
			return Manifest{}, err
		}
		if found == blobAbsent {
			missing[d] = true
			continue
		}
		if found == blobMounted {
			mounted++
		}
		blobs[d] = desc
		p.remember(d, cachedBlob{Digest: b.Digest, Size: b.Size, Repositories: []string{repo.String()}})
	}
	if mounted > 0 {
		ui.Sayf("Took %d layers from other repositories of %s (mounted, or copied where the registry does not mount): nothing to export or compress for them", mounted, repo.RegistryStr())
	}
	// With the classic image store the image id is the config's digest: when the registry
	// has that blob too, everything is there and nothing needs exporting.
	_, configMT := p.Compression.ManifestMediaTypes()
	if len(missing) == 0 {
		if d, err := v1.NewHash(imageID); err == nil {
			size, found, err := blobSize(ctx, puller, repo, d)
			if err != nil {
				return Manifest{}, err
			}
			for _, lender := range lenders {
				if found {
					break
				}
				if size, found, err = p.mount(ctx, puller, pusher, repo, lender, d); err != nil {
					return Manifest{}, err
				}
			}
			if found {
				ui.Sayf("All %d layers and the config are in %s: nothing to upload", len(diffIDs), repo)
				return p.manifest(v1.Descriptor{MediaType: configMT, Digest: d, Size: size}, diffIDs, blobs)
			}
		}
	}
	ui.Sayf("Exporting %s from the engine: %d of %d layers to compress (%s) and upload", imageID, len(missing), len(diffIDs), p.Compression.String())

	interval := p.Interval
	if interval == 0 {
		interval = ProgressInterval
	}
	progress := startProgress(ui, interval)
	defer progress.finish()
	tmp, err := os.MkdirTemp("", "openhands-push-")
	if err != nil {
		return Manifest{}, err
	}
	defer os.RemoveAll(tmp)

	var mu sync.Mutex // guards blobs once uploads run
	g, gctx := errgroup.WithContext(ctx)
	var small map[string][]byte
	g.Go(func() error {
		var err error
		small, err = p.readExport(gctx, imageID, repo.String(), tmp, layers, missing, progress, g.Go, func(layer *growingLayer, lp *layerProgress) {
			g.Go(func() error {
				defer os.Remove(layer.path)
				started := time.Now()
				if err := pusher.Upload(gctx, repo, layer); err != nil {
					return fmt.Errorf("uploading %s: %w", lp.name, err)
				}
				l := layer.result()
				lp.state.Store("uploaded")
				log.Printf("[INFO] push: layer %s (%d bytes) uploaded in %s", l.digest, l.size, time.Since(started).Round(time.Millisecond))
				mu.Lock()
				blobs[l.diffID] = v1.Descriptor{MediaType: p.Compression.LayerMediaType(), Digest: l.digest, Size: l.size}
				mu.Unlock()
				return nil
			})
		})
		return err
	})
	if err := g.Wait(); err != nil {
		return Manifest{}, err
	}
	config, err := exportedConfig(small)
	if err != nil {
		return Manifest{}, err
	}
	configLayer := static.NewLayer(config, configMT)
	if err := pusher.Upload(ctx, repo, configLayer); err != nil {
		return Manifest{}, fmt.Errorf("uploading the image config: %w", err)
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(config))
	if err != nil {
		return Manifest{}, fmt.Errorf("reading the exported image config: %w", err)
	}
	var order []string
	for _, d := range cf.RootFS.DiffIDs {
		order = append(order, d.String())
	}
	d, _ := configLayer.Digest()
	return p.manifest(v1.Descriptor{MediaType: configMT, Digest: d, Size: int64(len(config))}, order, blobs)
}

// manifest is the image manifest of the config and the layers, in diffIDs' order.
func (p *Pusher) manifest(config v1.Descriptor, diffIDs []string, blobs map[v1.Hash]v1.Descriptor) (Manifest, error) {
	mt, _ := p.Compression.ManifestMediaTypes()
	m := v1.Manifest{SchemaVersion: 2, MediaType: mt, Config: config, Layers: []v1.Descriptor{}}
	for _, s := range diffIDs {
		d, err := v1.NewHash(s)
		if err != nil {
			return Manifest{}, err
		}
		b, ok := blobs[d]
		if !ok {
			return Manifest{}, &ExportLacksLayerError{DiffID: s}
		}
		m.Layers = append(m.Layers, b)
	}
	return NewManifest(m, mt)
}

// NewManifest is manifest, an image manifest or an index, as the bytes to put.
func NewManifest(manifest any, mt types.MediaType) (Manifest, error) {
	raw, err := json.Marshal(manifest)
	if err != nil {
		return Manifest{}, err
	}
	sum := sha256.Sum256(raw)
	return Manifest{raw: raw, mediaType: mt, digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sum)}}, nil
}
