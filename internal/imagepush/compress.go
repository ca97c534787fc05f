package imagepush

import (
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"runtime"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
)

// Layer compressions of the plugin's push.
const (
	Gzip = "gzip"
	Zstd = "zstd"
)

// Default levels: gzip's own default, and zstd's (klauspost's SpeedDefault).
const (
	DefaultGzipLevel = 6
	DefaultZstdLevel = 3
)

// gzipBlockSize is pgzip's block: fixed so that the output does not depend on the number of
// cores (each block is compressed on its own with the previous block's tail as dictionary).
const gzipBlockSize = 1 << 20

// Compression is how layers are compressed: the algorithm and its level.
type Compression struct {
	Algorithm string
	Level     int
}

// String names the compression (gzip-6), as the blob cache keys it: the same layer
// compressed another way is another blob.
func (c Compression) String() string { return fmt.Sprintf("%s-%d", c.Algorithm, c.Level) }

// LayerMediaType is the media type of a compressed layer in the manifest: Docker's for gzip,
// as `docker push` writes, OCI's for zstd, which has no Docker media type.
func (c Compression) LayerMediaType() types.MediaType {
	if c.Algorithm == Zstd {
		return types.OCILayerZStd
	}
	return types.DockerLayer
}

// ManifestMediaTypes are the manifest's and config's media types that go with the layers'.
func (c Compression) ManifestMediaTypes() (manifest, config types.MediaType) {
	if c.Algorithm == Zstd {
		return types.OCIManifestSchema1, types.OCIConfigJSON
	}
	return types.DockerManifestSchema2, types.DockerConfigJSON
}

// newWriter compresses into w on every core. The output depends on the input, the algorithm,
// the level and the library's version only: no name or time in the gzip header, fixed block
// size, so the same layer gives the same digest on every run and machine.
func (c Compression) newWriter(w io.Writer) (io.WriteCloser, error) {
	switch c.Algorithm {
	case Zstd:
		return zstd.NewWriter(w,
			zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(c.Level)),
			zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)))
	default:
		zw, err := pgzip.NewWriterLevel(w, c.Level)
		if err != nil {
			return nil, err
		}
		// No name and no time (0, "none"; pgzip would write the zero time's seconds), the OS
		// unknown: as compress/gzip and docker push write it.
		zw.Header = pgzip.Header{OS: 255, ModTime: time.Unix(0, 0)}
		if err := zw.SetConcurrency(gzipBlockSize, 2*runtime.GOMAXPROCS(0)); err != nil {
			return nil, err
		}
		return zw, nil
	}
}

// compressedLayer is what compressing a layer gave: the uncompressed digest (diff id) and
// the compressed blob's digest and size.
type compressedLayer struct {
	diffID, digest v1.Hash
	size           int64
}

// compressTo reads a layer from r, compresses it into w and returns both digests. counted is
// told how many uncompressed bytes were read, for the progress report.
func (c Compression) compressTo(w io.Writer, r io.Reader, counted func(int64)) (compressedLayer, error) {
	out := &hashCounter{h: sha256.New()}
	zw, err := c.newWriter(io.MultiWriter(w, out))
	if err != nil {
		return compressedLayer{}, err
	}
	in := &hashCounter{h: sha256.New(), counted: counted}
	if _, err := io.Copy(zw, io.TeeReader(r, in)); err != nil {
		zw.Close()
		return compressedLayer{}, err
	}
	if err := zw.Close(); err != nil {
		return compressedLayer{}, err
	}
	return compressedLayer{diffID: in.sum(), digest: out.sum(), size: out.n}, nil
}

// hashCounter hashes and counts what is written to it.
type hashCounter struct {
	h       hash.Hash
	n       int64
	counted func(int64)
}

func (hc *hashCounter) Write(p []byte) (int, error) {
	hc.h.Write(p)
	hc.n += int64(len(p))
	if hc.counted != nil {
		hc.counted(int64(len(p)))
	}
	return len(p), nil
}

func (hc *hashCounter) sum() v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", hc.h.Sum(nil))}
}

// gzip's levels are compress/gzip's; zstd's are zstd's own 1-22, which klauspost maps onto
// its four speeds.
func ValidLevel(algorithm string, level int) bool {
	if algorithm == Zstd {
		return level >= 1 && level <= 22
	}
	return level >= gzip.BestSpeed && level <= gzip.BestCompression
}
