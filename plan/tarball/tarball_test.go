package tarball

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestWriterPacksParentsOnceAndSums: each parent directory enters the stream once, before the
// first file below it; a packed file's SHA-256 is its content's, and the sink sees the content.
func TestWriterPacksParentsOnceAndSums(t *testing.T) {
	content := []byte("#!/bin/sh\necho packed\n")
	path := filepath.Join(t.TempDir(), "tool")
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	var stream, sink bytes.Buffer
	tw := tar.NewWriter(&stream)
	w := NewWriter(tw)
	if err := w.AddBytes("a/b/plan.sh", []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	sum, err := w.AddFile("a/bin/tool", path, 0o755, &sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(content)
	if sum != hex.EncodeToString(want[:]) || !bytes.Equal(sink.Bytes(), content) {
		t.Errorf("sum %s and sink %q, want %x and the file's content", sum, sink.Bytes(), want)
	}
	var names []string
	tr := tar.NewReader(&stream)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Name == "a/bin/tool" && h.Mode != 0o755 {
			t.Errorf("a/bin/tool has mode %o, want 755", h.Mode)
		}
	}
	if want := []string{"a/", "a/b/", "a/b/plan.sh", "a/bin/", "a/bin/tool"}; !slices.Equal(names, want) {
		t.Errorf("entries %q, want %q", names, want)
	}
}
