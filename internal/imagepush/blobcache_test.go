package imagepush

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestBlobCacheKeepsOtherProcessesEntries: two caches opened on one file, as two post-processor
// processes of one packer build, each record a blob; the file keeps both, and a blob pushed to
// two repositories remembers both, newest last.
func TestBlobCacheKeepsOtherProcessesEntries(t *testing.T) {
	dir := t.TempDir()
	gz := Compression{Algorithm: Gzip, Level: 6}
	path := filepath.Join(dir, "blobs.json")
	first, second := OpenBlobCache(path), OpenBlobCache(path)
	a, b := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}, v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("b", 64)}
	if err := first.put(a, gz, cachedBlob{Digest: "sha256:" + strings.Repeat("1", 64), Size: 1, Repositories: []string{"r/one"}}); err != nil {
		t.Fatal(err)
	}
	if err := second.put(b, gz, cachedBlob{Digest: "sha256:" + strings.Repeat("2", 64), Size: 2, Repositories: []string{"r/one"}}); err != nil {
		t.Fatal(err)
	}
	if err := second.put(a, gz, cachedBlob{Digest: "sha256:" + strings.Repeat("1", 64), Size: 1, Repositories: []string{"r/two"}}); err != nil {
		t.Fatal(err)
	}
	reopened := OpenBlobCache(path)
	if got, ok := reopened.get(a, gz); !ok || !slices.Equal(got.Repositories, []string{"r/one", "r/two"}) {
		t.Errorf("blob a: %+v (%t), want it in r/one and r/two", got, ok)
	}
	if _, ok := reopened.get(b, gz); !ok {
		t.Error("blob b, recorded by the second cache, is gone")
	}
	if _, ok := reopened.get(a, Compression{Algorithm: Zstd, Level: 3}); ok {
		t.Error("a gzip blob is found for zstd")
	}
}
