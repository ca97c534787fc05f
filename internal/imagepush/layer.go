package imagepush

import (
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/stream"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

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
