package ecrpostprocessor

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/stream"
	"github.com/google/go-containerregistry/pkg/v1/types"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"golang.org/x/sync/errgroup"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
)

// pluginPusher pushes an image of the engine itself: it reads the image with the engine's
// export (`docker save`), compresses each layer on every core as it streams by, uploads
// each compressed layer with go-containerregistry as it is compressed, then
// the config and the manifest. Layers the registry has (found through the blob cache) are
// neither compressed nor uploaded again; when it has all of them, nothing is exported.
type pluginPusher struct {
	driver   engine.Driver
	comp     compression
	cache    *blobCache
	options  []remote.Option // the registry's auth
	interval time.Duration   // between progress reports
	// unreadable are the repositories (names) the credentials may not read, so lend nothing.
	unreadable sync.Map
}

// pushedManifest is the manifest pushed, ready to be tagged.
type pushedManifest struct {
	raw       []byte
	mediaType types.MediaType
	digest    v1.Hash
}

func (m pushedManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m pushedManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }

// pushBlobs uploads imageID's config and layers to repo and returns the manifest naming
// them; no tag points at it yet, so a push that fails or is killed here leaves no tag on a
// partial image.
func (p *pluginPusher) pushBlobs(ctx context.Context, ui packersdk.Ui, imageID string, repo name.Repository) (pushedManifest, error) {
	opts := append([]remote.Option{remote.WithContext(ctx)}, p.options...)
	puller, err := remote.NewPuller(opts...)
	if err != nil {
		return pushedManifest{}, err
	}
	pusher, err := remote.NewPusher(opts...)
	if err != nil {
		return pushedManifest{}, err
	}
	local, err := p.driver.Image(ctx, imageID)
	if err != nil {
		return pushedManifest{}, err
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
			return pushedManifest{}, fmt.Errorf("layer %q of %s: %w", s, imageID, err)
		}
		layers[d] = true
		if _, seen := blobs[d]; seen || missing[d] {
			continue
		}
		b, ok := p.cache.get(d, p.comp)
		digest, err := v1.NewHash(b.Digest)
		if !ok || err != nil {
			missing[d] = true
			continue
		}
		desc := v1.Descriptor{MediaType: p.comp.layerMediaType(), Digest: digest, Size: b.Size}
		found, err := p.mountOrFind(ctx, puller, pusher, repo, desc, b.Repositories, &lenders)
		if err != nil {
			return pushedManifest{}, err
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
	_, configMT := p.comp.manifestMediaTypes()
	if len(missing) == 0 {
		if d, err := v1.NewHash(imageID); err == nil {
			size, found, err := blobSize(ctx, puller, repo, d)
			if err != nil {
				return pushedManifest{}, err
			}
			for _, lender := range lenders {
				if found {
					break
				}
				if size, found, err = p.mount(ctx, puller, pusher, repo, lender, d); err != nil {
					return pushedManifest{}, err
				}
			}
			if found {
				ui.Sayf("All %d layers and the config are in %s: nothing to upload", len(diffIDs), repo)
				return p.manifest(v1.Descriptor{MediaType: configMT, Digest: d, Size: size}, diffIDs, blobs)
			}
		}
	}
	ui.Sayf("Exporting %s from the engine: %d of %d layers to compress (%s) and upload", imageID, len(missing), len(diffIDs), p.comp.cacheKey())

	progress := startProgress(ui, p.interval)
	defer progress.finish()
	tmp, err := os.MkdirTemp("", "openhands-ecr-push-")
	if err != nil {
		return pushedManifest{}, err
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
				log.Printf("[INFO] openhands-ecr: layer %s (%d bytes) uploaded in %s", l.digest, l.size, time.Since(started).Round(time.Millisecond))
				mu.Lock()
				blobs[l.diffID] = v1.Descriptor{MediaType: p.comp.layerMediaType(), Digest: l.digest, Size: l.size}
				mu.Unlock()
				return nil
			})
		})
		return err
	})
	if err := g.Wait(); err != nil {
		return pushedManifest{}, err
	}
	config, err := exportedConfig(small)
	if err != nil {
		return pushedManifest{}, err
	}
	configLayer := static.NewLayer(config, configMT)
	if err := pusher.Upload(ctx, repo, configLayer); err != nil {
		return pushedManifest{}, fmt.Errorf("uploading the image config: %w", err)
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(config))
	if err != nil {
		return pushedManifest{}, fmt.Errorf("reading the exported image config: %w", err)
	}
	var order []string
	for _, d := range cf.RootFS.DiffIDs {
		order = append(order, d.String())
	}
	d, _ := configLayer.Digest()
	return p.manifest(v1.Descriptor{MediaType: configMT, Digest: d, Size: int64(len(config))}, order, blobs)
}

// manifest is the image manifest of the config and the layers, in diffIDs' order.
func (p *pluginPusher) manifest(config v1.Descriptor, diffIDs []string, blobs map[v1.Hash]v1.Descriptor) (pushedManifest, error) {
	mt, _ := p.comp.manifestMediaTypes()
	m := v1.Manifest{SchemaVersion: 2, MediaType: mt, Config: config, Layers: []v1.Descriptor{}}
	for _, s := range diffIDs {
		d, err := v1.NewHash(s)
		if err != nil {
			return pushedManifest{}, err
		}
		b, ok := blobs[d]
		if !ok {
			// An engine with the containerd image store exports compressed layers, named by
			// their compressed digests.
			return pushedManifest{}, errExportLacksLayers{fmt.Errorf("the engine's export of the image lacks its uncompressed layer %s (an engine with the containerd image store exports compressed ones): nothing was tagged; set push_method = \"engine\" for this engine", s)}
		}
		m.Layers = append(m.Layers, b)
	}
	return newPushedManifest(m, mt)
}

// newPushedManifest is manifest, an image manifest or an index, as the bytes to put.
func newPushedManifest(manifest any, mt types.MediaType) (pushedManifest, error) {
	raw, err := json.Marshal(manifest)
	if err != nil {
		return pushedManifest{}, err
	}
	sum := sha256.Sum256(raw)
	return pushedManifest{raw: raw, mediaType: mt, digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sum)}}, nil
}

// errExportLacksLayers is an export the plugin's push cannot use: trying again gives the same.
type errExportLacksLayers struct{ error }

// smallFileLimit bounds the export's files kept in memory: the manifest and configs.
const smallFileLimit = 8 << 20

// readExport reads the engine's export of imageID and compresses every layer that missing
// names into a file of dir, calling upload for each as its compression starts: the upload
// reads the file as it grows. It returns the export's small files (manifest.json and the
// configs).
//
// The OCI layout (Engine 25 and later) names layers blobs/sha256/<diff id>: only missing
// ones are read. The legacy format (Engine < 25) names them <v1 id>/layer.tar, so a layer's
// diff id is known only once it is read: when every layer is missing, each is compressed as
// it streams by; when some are in the registry, each is first copied to a file while hashed,
// and only missing ones are compressed from there, in the background (spawn) while the
// export goes on.
func (p *pluginPusher) readExport(ctx context.Context, imageID, repo, dir string, layers, missing map[v1.Hash]bool, progress *pushProgress,
	spawn func(func() error), upload func(*growingLayer, *layerProgress)) (map[string][]byte, error) {
	started := time.Now()
	rc, err := p.driver.Save(ctx, imageID)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	small := map[string][]byte{}
	var doneMu sync.Mutex
	done := map[v1.Hash]bool{}
	// claim marks a layer as being pushed; false when it is not missing or already claimed.
	claim := func(d v1.Hash) bool {
		doneMu.Lock()
		defer doneMu.Unlock()
		if !missing[d] || done[d] {
			return false
		}
		done[d] = true
		return true
	}
	// compress compresses a layer of the export from r while it uploads, and records it in
	// the cache.
	compress := func(r io.Reader, hdr *tar.Header, lp *layerProgress) (compressedLayer, error) {
		l, err := p.compressLayer(dir, r, hdr, lp, upload)
		if err != nil {
			return l, err
		}
		p.remember(l.diffID, cachedBlob{Digest: l.digest.String(), Size: l.size, Repositories: []string{repo}})
		return l, nil
	}
	spool := len(missing) < len(layers)
	tr := tar.NewReader(rc)
	for first := true; ; first = false {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			log.Printf("[INFO] openhands-ecr: read the engine's export in %s", time.Since(started).Round(time.Millisecond))
			return small, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the engine's export of %s: %w", imageID, err)
		}
		if first {
			// Engines before 25 write the whole export to disk before sending a byte.
			log.Printf("[INFO] openhands-ecr: the engine's export started after %s", time.Since(started).Round(time.Millisecond))
		}
		if hdr.Typeflag != tar.TypeReg {
			continue // directories; a repeated layer is a symlink to the first
		}
		legacy := path.Base(hdr.Name) == "layer.tar"
		var named v1.Hash // the diff id that the name gives
		if d, ok := strings.CutPrefix(hdr.Name, "blobs/sha256/"); ok {
			named = v1.Hash{Algorithm: "sha256", Hex: d}
		}
		switch {
		case !legacy && !layers[named]:
			if hdr.Size <= smallFileLimit {
				data, err := io.ReadAll(tr)
				if err != nil {
					return nil, fmt.Errorf("reading the engine's export of %s: %w", imageID, err)
				}
				small[hdr.Name] = data
			}
			continue
		case !legacy && !claim(named), legacy && len(done) == len(missing):
			continue // in the registry, or pushed already: tar.Reader skips it
		}
		lp := progress.layer("layer "+short(strings.TrimPrefix(hdr.Name, "blobs/sha256/")), hdr.Size)
		if legacy && spool {
			file, diffID, err := spoolLayer(dir, tr, lp)
			if err != nil {
				return nil, fmt.Errorf("reading %s of the engine's export: %w", hdr.Name, err)
			}
			if !claim(diffID) {
				os.Remove(file)
				lp.state.Store("already in the registry")
				continue
			}
			spawn(func() error {
				defer os.Remove(file)
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				defer f.Close()
				lp.read.Store(0)
				_, err = compress(f, hdr, lp)
				return err
			})
			continue
		}
		// Compressed and uploaded as it streams by: missing (named so), or every layer is.
		l, err := compress(tr, hdr, lp)
		if err != nil {
			return nil, err
		}
		if legacy {
			claim(l.diffID)
		}
	}
}

// compressLayer compresses a layer of the export read from r into a file of dir, handing
// the file to upload as the compression starts.
func (p *pluginPusher) compressLayer(dir string, r io.Reader, hdr *tar.Header, lp *layerProgress, upload func(*growingLayer, *layerProgress)) (compressedLayer, error) {
	f, err := os.CreateTemp(dir, "layer-")
	if err != nil {
		return compressedLayer{}, err
	}
	layer := newGrowingLayer(f, p.comp.layerMediaType(), &lp.sent)
	lp.state.Store("compressing")
	upload(layer, lp)
	started := time.Now()
	l, err := p.comp.compressTo(layer, r, func(n int64) { lp.read.Add(n) })
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		err = fmt.Errorf("compressing %s of the engine's export: %w", hdr.Name, err)
	} else {
		lp.size.Store(l.size)
		lp.state.Store("uploading") // before done: the upload cannot end before it
		log.Printf("[INFO] openhands-ecr: %s: %d bytes compressed to %d in %s", hdr.Name, hdr.Size, l.size, time.Since(started).Round(time.Millisecond))
	}
	layer.done(l, err)
	return l, err
}

// spoolLayer copies a layer of the export to a file of dir and returns its diff id.
func spoolLayer(dir string, r io.Reader, lp *layerProgress) (string, v1.Hash, error) {
	f, err := os.CreateTemp(dir, "spool-")
	if err != nil {
		return "", v1.Hash{}, err
	}
	lp.state.Store("reading")
	hc := &hashCounter{h: sha256.New(), counted: func(n int64) { lp.read.Add(n) }}
	_, err = io.Copy(io.MultiWriter(f, hc), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", v1.Hash{}, err
	}
	return f.Name(), hc.sum(), nil
}

// exportedConfig is the image config of the export's manifest.json.
func exportedConfig(small map[string][]byte) ([]byte, error) {
	var manifest []struct{ Config string }
	if err := json.Unmarshal(small["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		return nil, errors.New("the engine's export of the image has no manifest.json naming one image")
	}
	config, ok := small[manifest[0].Config]
	if !ok {
		return nil, fmt.Errorf("the engine's export of the image lacks its config %s", manifest[0].Config)
	}
	return config, nil
}

// blobFound is where a blob was found for the repository pushed to.
type blobFound int

const (
	blobAbsent  blobFound = iota
	blobPresent           // in the repository already
	blobMounted           // mounted (or, where the registry does not mount, copied) from another
)

// mountOrFind looks for the blob desc in repo, else has the registry mount it from one of
// the repositories the cache names (newest first) that holds it; lenders collects those.
func (p *pluginPusher) mountOrFind(ctx context.Context, puller *remote.Puller, pusher *remote.Pusher, repo name.Repository, desc v1.Descriptor, known []string, lenders *[]name.Repository) (blobFound, error) {
	if size, found, err := blobSize(ctx, puller, repo, desc.Digest); err != nil {
		return blobAbsent, err
	} else if found && size == desc.Size {
		return blobPresent, nil
	}
	for _, r := range slices.Backward(known) {
		lender, err := name.NewRepository(r)
		if err != nil || lender.RegistryStr() != repo.RegistryStr() || lender.String() == repo.String() {
			continue
		}
		size, found, err := p.mount(ctx, puller, pusher, repo, lender, desc.Digest)
		if err != nil {
			return blobAbsent, err
		}
		if found && size == desc.Size {
			if !slices.ContainsFunc(*lenders, func(l name.Repository) bool { return l.String() == lender.String() }) {
				*lenders = append(*lenders, lender)
			}
			return blobMounted, nil
		}
	}
	return blobAbsent, nil
}

// mount has the registry mount blob d of lender into repo (ECR with blob mounting enabled
// does; a registry that does not is sent the blob read from lender, which still spares the
// export and the compression). found is false when lender does not hold the blob.
func (p *pluginPusher) mount(ctx context.Context, puller *remote.Puller, pusher *remote.Pusher, repo, lender name.Repository, d v1.Hash) (int64, bool, error) {
	if _, no := p.unreadable.Load(lender.String()); no {
		return 0, false, nil
	}
	size, found, err := blobSize(ctx, puller, lender, d)
	// A least-privilege policy names the pushed repository only: reading another is refused,
	// and its layers are uploaded as any others.
	var terr *transport.Error
	if errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden) {
		if _, seen := p.unreadable.LoadOrStore(lender.String(), true); !seen {
			log.Printf("[INFO] openhands-ecr: no blob is mounted from %s, which the credentials may not read (HTTP %d): its layers are uploaded", lender, terr.StatusCode)
		}
		return 0, false, nil
	}
	if err != nil || !found {
		return 0, false, err
	}
	l, err := puller.Layer(ctx, lender.Digest(d.String()))
	if err != nil {
		return 0, false, err
	}
	if err := pusher.Upload(ctx, repo, &remote.MountableLayer{Layer: l, Reference: lender.Digest(d.String())}); err != nil {
		return 0, false, fmt.Errorf("mounting blob %s of %s into %s: %w", d, lender, repo, err)
	}
	log.Printf("[INFO] openhands-ecr: blob %s mounted (or copied) from %s", d, lender)
	return size, true, nil
}

// remember records a layer's blob in the cache; a cache that cannot be written only costs time.
func (p *pluginPusher) remember(diffID v1.Hash, b cachedBlob) {
	if err := p.cache.put(diffID, p.comp, b); err != nil {
		log.Printf("[WARN] openhands-ecr: writing the blob cache: %v", err)
	}
}

// blobSize asks the registry for a blob (HEAD): its size, or found false when it has none.
func blobSize(ctx context.Context, puller *remote.Puller, repo name.Repository, d v1.Hash) (int64, bool, error) {
	l, err := puller.Layer(ctx, repo.Digest(d.String()))
	if err != nil {
		return 0, false, err
	}
	size, err := l.Size()
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("looking for blob %s in %s: %w", d, repo, err)
	}
	return size, true, nil
}

// growingLayer is a layer being compressed into a file, uploaded as it grows: its first
// upload streams the file while it is written (with an unknown digest, as
// go-containerregistry's stream.Layer); an upload tried again reads the whole file once it
// is complete, with its digest known.
type growingLayer struct {
	path      string
	file      *os.File
	mediaType types.MediaType
	sent      *atomic.Int64

	mu       sync.Mutex
	grew     *sync.Cond
	written  int64
	finished bool
	err      error
	l        compressedLayer
}

func newGrowingLayer(f *os.File, mt types.MediaType, sent *atomic.Int64) *growingLayer {
	g := &growingLayer{path: f.Name(), file: f, mediaType: mt, sent: sent}
	g.grew = sync.NewCond(&g.mu)
	return g
}

// Write is the compression's output.
func (g *growingLayer) Write(p []byte) (int, error) {
	n, err := g.file.Write(p)
	g.mu.Lock()
	g.written += int64(n)
	g.mu.Unlock()
	g.grew.Broadcast()
	return n, err
}

// done ends the compression, with its result or its error.
func (g *growingLayer) done(l compressedLayer, err error) {
	g.mu.Lock()
	g.finished, g.l, g.err = true, l, err
	g.mu.Unlock()
	g.grew.Broadcast()
}

// result is the compressed layer, once done.
func (g *growingLayer) result() compressedLayer {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.l
}

// complete is the compressed layer, or stream.ErrNotComputed while it is compressed.
func (g *growingLayer) complete() (compressedLayer, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.finished || g.err != nil {
		return compressedLayer{}, stream.ErrNotComputed
	}
	return g.l, nil
}

func (g *growingLayer) Digest() (v1.Hash, error) {
	l, err := g.complete()
	return l.digest, err
}

func (g *growingLayer) DiffID() (v1.Hash, error) {
	l, err := g.complete()
	return l.diffID, err
}

func (g *growingLayer) Size() (int64, error) {
	l, err := g.complete()
	return l.size, err
}

func (g *growingLayer) MediaType() (types.MediaType, error) { return g.mediaType, nil }

func (g *growingLayer) Uncompressed() (io.ReadCloser, error) {
	return nil, errors.New("the plugin's push uploads compressed layers only")
}

// Compressed reads the file from its start, waiting for the compression where it catches
// up with it.
func (g *growingLayer) Compressed() (io.ReadCloser, error) {
	f, err := os.Open(g.path)
	if err != nil {
		return nil, err
	}
	g.sent.Store(0) // an upload tried again starts over
	return &growingReader{g: g, f: f}, nil
}

type growingReader struct {
	g   *growingLayer
	f   *os.File
	off int64
}

func (r *growingReader) Read(p []byte) (int, error) {
	g := r.g
	g.mu.Lock()
	for r.off == g.written && !g.finished {
		g.grew.Wait()
	}
	available, finished, err := g.written-r.off, g.finished, g.err
	g.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if available == 0 && finished {
		return 0, io.EOF
	}
	n, err := r.f.Read(p[:min(int64(len(p)), available)])
	r.off += int64(n)
	g.sent.Store(r.off)
	if errors.Is(err, io.EOF) {
		err = nil // the file ends where the compression is; it goes on
	}
	return n, err
}

func (r *growingReader) Close() error { return r.f.Close() }

// short is the first 12 characters of a layer's name, as docker shows ids.
func short(s string) string { return s[:min(12, len(s))] }
