package enginefake

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
)

// SavedImage is an image as Engine 20.10 exports it (`docker save`'s legacy layout).
type SavedImage struct {
	ID      string
	DiffIDs []string
	Export  []byte
}

// NewSavedImage makes an image of platform (os/arch) with one layer per size, each a tar of
// one file of compressible text that depends on the seed and the size only: two layers of
// one size are the same layer, which the export stores once and links from the second.
func NewSavedImage(t testing.TB, platform string, seed uint64, sizes ...int) SavedImage {
	t.Helper()
	type entry struct {
		hdr  tar.Header
		data []byte
	}
	var entries []entry
	os, arch, _ := strings.Cut(platform, "/")
	cf := v1.ConfigFile{Architecture: arch, OS: os, RootFS: v1.RootFS{Type: "layers"}, Config: v1.Config{Cmd: []string{"true"}}}
	var layerPaths []string
	first := map[string]string{} // diff id -> its layer.tar
	for i, size := range sizes {
		rnd := rand.New(rand.NewPCG(seed, uint64(size)))
		content := make([]byte, size)
		for j := range content {
			content[j] = "openhands runtime\n"[rnd.IntN(18)]
		}
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("data-%d", size), Mode: 0o644, Size: int64(size), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(content)
		tw.Close()
		diffID := fmt.Sprintf("sha256:%x", sha256.Sum256(buf.Bytes()))
		cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, v1.Hash{Algorithm: "sha256", Hex: diffID[7:]})
		dir := fmt.Sprintf("%064x", (seed<<8)+uint64(i)+1)
		layerPaths = append(layerPaths, dir+"/layer.tar")
		entries = append(entries,
			entry{hdr: tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755}},
			entry{hdr: tar.Header{Name: dir + "/VERSION", Typeflag: tar.TypeReg}, data: []byte("1.0")},
			entry{hdr: tar.Header{Name: dir + "/json", Typeflag: tar.TypeReg}, data: []byte(`{"id":"` + dir + `"}`)})
		if target, ok := first[diffID]; ok {
			entries = append(entries, entry{hdr: tar.Header{Name: dir + "/layer.tar", Typeflag: tar.TypeSymlink, Linkname: "../" + target}})
		} else {
			first[diffID] = dir + "/layer.tar"
			entries = append(entries, entry{hdr: tar.Header{Name: dir + "/layer.tar", Typeflag: tar.TypeReg}, data: buf.Bytes()})
		}
	}
	config, err := json.Marshal(cf)
	if err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("%x", sha256.Sum256(config))
	manifest, _ := json.Marshal([]map[string]any{{"Config": id + ".json", "RepoTags": nil, "Layers": layerPaths}})
	entries = append(entries,
		entry{hdr: tar.Header{Name: id + ".json", Typeflag: tar.TypeReg}, data: config},
		entry{hdr: tar.Header{Name: "manifest.json", Typeflag: tar.TypeReg}, data: manifest},
		entry{hdr: tar.Header{Name: "repositories", Typeflag: tar.TypeReg}, data: []byte("{}")})
	// The engine writes a directory it walks: in name order.
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].hdr.Name < entries[j].hdr.Name })
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for _, e := range entries {
		e.hdr.Size = int64(len(e.data))
		e.hdr.Mode |= 0o644
		if err := tw.WriteHeader(&e.hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
	}
	tw.Close()
	img := SavedImage{ID: "sha256:" + id, Export: out.Bytes()}
	for _, d := range cf.RootFS.DiffIDs {
		img.DiffIDs = append(img.DiffIDs, d.String())
	}
	return img
}

// AddSaved puts img, of platform, in the engine under refs, with its export.
func (e *Engine) AddSaved(img SavedImage, platform string, refs ...string) {
	e.Add(engine.Image{ID: img.ID, Created: Created, Platform: platform, Layers: img.DiffIDs}, refs...)
	e.Lock()
	defer e.Unlock()
	e.Exports[img.ID] = img.Export
}

// WithoutUncompressedLayers is img exported as an engine with the containerd image store
// exports it, for what this matters: without its uncompressed layers (layer.tar).
func (img SavedImage) WithoutUncompressedLayers(t testing.TB) SavedImage {
	t.Helper()
	var filtered bytes.Buffer
	tr, tw := tar.NewReader(bytes.NewReader(img.Export)), tar.NewWriter(&filtered)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(hdr.Name, "/layer.tar") {
			continue
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	img.Export = filtered.Bytes()
	return img
}
