// Package tarball writes the tar streams the plan ships in: the provisioner's bundle and the
// builder's build context. Each file is packed with its parent directories, and its SHA-256
// is computed while it is packed, so a file is read once for both.
package tarball

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// Writer adds files to a tar stream with their parent directories, which tar readers need to
// exist, in the PAX format.
type Writer struct {
	tw   *tar.Writer
	dirs map[string]bool
	// buf is the one copy buffer for every file, instead of one allocation per file.
	buf []byte
}

// NewWriter writes to tw; closing tw stays the caller's.
func NewWriter(tw *tar.Writer) *Writer { return &Writer{tw: tw} }

// AddDirs adds the parent directories of name that are not in the stream yet.
func (w *Writer) AddDirs(name string) error {
	if w.dirs == nil {
		w.dirs = map[string]bool{}
	}
	parts := strings.Split(name, "/")
	for i := 1; i < len(parts); i++ {
		dir := strings.Join(parts[:i], "/") + "/"
		if w.dirs[dir] {
			continue
		}
		w.dirs[dir] = true
		if err := w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, Format: tar.FormatPAX}); err != nil {
			return err
		}
	}
	return nil
}

// AddFile packs a local file and returns its SHA-256, also feeding its content to sink.
func (w *Writer) AddFile(name, path string, mode int64, sink io.Writer) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if err := w.AddDirs(name); err != nil {
		return "", err
	}
	if err := w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: fi.Size(), Format: tar.FormatPAX}); err != nil {
		return "", err
	}
	own := sha256.New()
	writers := []io.Writer{w.tw, own}
	if sink != nil {
		writers = append(writers, sink)
	}
	if w.buf == nil {
		w.buf = make([]byte, 64<<10)
	}
	// The wrapper hides os.File's WriteTo, which would bypass the shared buffer.
	n, err := io.CopyBuffer(io.MultiWriter(writers...), struct{ io.Reader }{f}, w.buf)
	if err != nil {
		return "", err
	}
	if n != fi.Size() {
		return "", fmt.Errorf("%s changed while it was packed", path)
	}
	return hex.EncodeToString(own.Sum(nil)), nil
}

// AddBytes packs data as a file.
func (w *Writer) AddBytes(name string, data []byte, mode int64) error {
	if err := w.AddDirs(name); err != nil {
		return err
	}
	if err := w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err := w.tw.Write(data)
	return err
}
