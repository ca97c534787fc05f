package imagepush

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

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
func (p *Pusher) readExport(ctx context.Context, imageID, repo, dir string, layers, missing map[v1.Hash]bool, progress *pushProgress,
	spawn func(func() error), upload func(*growingLayer, *layerProgress)) (map[string][]byte, error) {
	started := time.Now()
	rc, err := p.Source.Save(ctx, imageID)
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
	exportErr := func(err error) error { return fmt.Errorf("reading the engine's export of %s: %w", imageID, err) }
	tr := tar.NewReader(rc)
	for first := true; ; first = false {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			log.Printf("[INFO] push: read the engine's export in %s", time.Since(started).Round(time.Millisecond))
			return small, nil
		}
		if err != nil {
			return nil, exportErr(err)
		}
		if first {
			// Engines before 25 write the whole export to disk before sending a byte.
			log.Printf("[INFO] push: the engine's export started after %s", time.Since(started).Round(time.Millisecond))
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
					return nil, exportErr(err)
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
func (p *Pusher) compressLayer(dir string, r io.Reader, hdr *tar.Header, lp *layerProgress, upload func(*growingLayer, *layerProgress)) (compressedLayer, error) {
	f, err := os.CreateTemp(dir, "layer-")
	if err != nil {
		return compressedLayer{}, err
	}
	layer := newGrowingLayer(f, p.Compression.LayerMediaType(), &lp.sent)
	lp.state.Store("compressing")
	upload(layer, lp)
	started := time.Now()
	l, err := p.Compression.compressTo(layer, r, func(n int64) { lp.read.Add(n) })
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		err = fmt.Errorf("compressing %s of the engine's export: %w", hdr.Name, err)
	} else {
		lp.size.Store(l.size)
		lp.state.Store("uploading") // before done: the upload cannot end before it
		log.Printf("[INFO] push: %s: %d bytes compressed to %d in %s", hdr.Name, hdr.Size, l.size, time.Since(started).Round(time.Millisecond))
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

// short is the first 12 characters of a layer's name, as docker shows ids.
func short(s string) string { return s[:min(12, len(s))] }
