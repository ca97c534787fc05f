package imagepush

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// chunkedReader hands out at most n bytes per Read, as a network stream does.
type chunkedReader struct {
	r io.Reader
	n int
}

func (c chunkedReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

// TestCompressionIsDeterministic: the same layer gives the same bytes whatever the cores and
// the read sizes; the gzip header holds no name or time; the output decompresses to the
// input; the digests are those of the input and the output.
func TestCompressionIsDeterministic(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 7))
	layer := make([]byte, 3<<20+999) // more than one pgzip block
	for i := range layer {
		layer[i] = "abc \n"[rnd.IntN(5)]
	}
	for _, c := range []Compression{{Gzip, 1}, {Gzip, 6}, {Gzip, 9}, {Zstd, 1}, {Zstd, 3}, {Zstd, 19}} {
		t.Run(c.String(), func(t *testing.T) {
			var first []byte
			for _, run := range []struct{ procs, chunk int }{{1, 1 << 20}, {4, 4096}, {2, 77777}} {
				prev := runtime.GOMAXPROCS(run.procs)
				var out bytes.Buffer
				got, err := c.compressTo(&out, chunkedReader{bytes.NewReader(layer), run.chunk}, nil)
				runtime.GOMAXPROCS(prev)
				if err != nil {
					t.Fatal(err)
				}
				if got.diffID.Hex != sha256Hex(layer) || got.digest.Hex != sha256Hex(out.Bytes()) || got.size != int64(out.Len()) {
					t.Errorf("digests %+v do not match the input and output", got)
				}
				if first == nil {
					first = out.Bytes()
				} else if !bytes.Equal(first, out.Bytes()) {
					t.Errorf("%d cores, reads of %d bytes: other bytes than the first run", run.procs, run.chunk)
				}
			}
			var back []byte
			var err error
			if c.Algorithm == Gzip {
				zr, zerr := gzip.NewReader(bytes.NewReader(first))
				if zerr != nil {
					t.Fatal(zerr)
				}
				if !zr.ModTime.IsZero() || zr.Name != "" || zr.Comment != "" {
					t.Errorf("gzip header %+v, want no time, name or comment", zr.Header)
				}
				back, err = io.ReadAll(zr)
			} else {
				zr, zerr := zstd.NewReader(bytes.NewReader(first))
				if zerr != nil {
					t.Fatal(zerr)
				}
				back, err = io.ReadAll(zr)
				zr.Close()
			}
			if err != nil || !bytes.Equal(back, layer) {
				t.Errorf("decompressing gave %d bytes (%v), want the %d of the layer", len(back), err, len(layer))
			}
		})
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// benchmarkLayerSize is the size of the layer BenchmarkCompression compresses.
const benchmarkLayerSize = 64 << 20

// goRootLayer is a tar of the Go installation's files, half its sources and half its tools'
// binaries, of size bytes: text and machine code, as in a runtime's Python environment
// layer, and the same on every machine with the same Go version.
func goRootLayer(b *testing.B, size int) []byte {
	b.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i, dir := range []string{"src", filepath.Join("pkg", "tool")} {
		upTo := size * (i + 1) / 2
		err := filepath.WalkDir(filepath.Join(runtime.GOROOT(), dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || buf.Len() >= upTo {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if err := tw.WriteHeader(&tar.Header{Name: path, Mode: 0o644, Size: int64(len(data))}); err != nil {
				return err
			}
			_, err = tw.Write(data)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
	if buf.Len() < size {
		b.Skipf("the Go installation at %s has only %d bytes of files", runtime.GOROOT(), buf.Len())
	}
	return buf.Bytes()[:size]
}

// BenchmarkCompression compresses the same layer with each compression at its default level
// on every core (GOMAXPROCS): MB/s is uncompressed throughput, ratio the compressed size over
// the layer's. The ECR page's comparison of gzip and zstd quotes it.
func BenchmarkCompression(b *testing.B) {
	layer := goRootLayer(b, benchmarkLayerSize)
	for _, c := range []Compression{{Gzip, DefaultGzipLevel}, {Zstd, DefaultZstdLevel}} {
		b.Run(c.String(), func(b *testing.B) {
			b.SetBytes(int64(len(layer)))
			var got compressedLayer
			for b.Loop() {
				var err error
				if got, err = c.compressTo(io.Discard, bytes.NewReader(layer), nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(got.size)/float64(len(layer)), "ratio")
		})
	}
}
