package imagepush

import (
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// BlobCache remembers which compressed blob each uncompressed layer gave, per compression,
// so that an unchanged layer is found in the registry without exporting and compressing it
// again. It is a JSON file; a missing or unreadable one is an empty cache, since every entry
// is checked against the registry before it is trusted.
type BlobCache struct {
	path string

	mu      sync.Mutex
	entries map[string]cachedBlob // diff id + " " + compression key -> blob
}

type cachedBlob struct {
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
	// Repositories (registry/repository) the blob was pushed to or found in, newest last: a
	// push to another repository of the same registry mounts it from one of them.
	Repositories []string `json:"repositories,omitempty"`
}

// maxRepositories bounds a blob's remembered repositories.
const maxRepositories = 8

// DefaultCacheDir is where the cache lives: the user's cache directory, as the rig's.
func DefaultCacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "packer-plugin-openhands"), nil
}

// OpenBlobCache opens the cache in the file at path; a missing or unreadable file is an
// empty cache.
func OpenBlobCache(path string) *BlobCache {
	c := &BlobCache{path: path, entries: map[string]cachedBlob{}}
	if data, err := os.ReadFile(c.path); err == nil {
		_ = json.Unmarshal(data, &c.entries)
	}
	return c
}

func (c *BlobCache) get(diffID v1.Hash, comp Compression) (cachedBlob, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.entries[diffID.String()+" "+comp.String()]
	return b, ok
}

// put records a blob and writes the file (to a temporary file renamed over it, so that a
// killed push leaves the previous file whole). The file is read again first: pushes of other
// processes (Packer runs a template's builds in parallel, each post-processor a process of
// its own) have written their entries since this one opened it, and keep them.
func (c *BlobCache) put(diffID v1.Hash, comp Compression, blob cachedBlob) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if data, err := os.ReadFile(c.path); err == nil {
		var current map[string]cachedBlob
		if json.Unmarshal(data, &current) == nil {
			maps.Copy(c.entries, current)
		}
	}
	key := diffID.String() + " " + comp.String()
	if known, ok := c.entries[key]; ok && known.Digest == blob.Digest {
		repos := slices.Clone(known.Repositories)
		for _, r := range blob.Repositories {
			repos = append(slices.DeleteFunc(repos, func(s string) bool { return s == r }), r) // newest last
		}
		blob.Repositories = repos[max(0, len(repos)-maxRepositories):]
	}
	c.entries[key] = blob
	data, err := json.Marshal(c.entries)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	base := filepath.Base(c.path)
	tmp, err := os.CreateTemp(filepath.Dir(c.path), "."+strings.TrimSuffix(base, filepath.Ext(base))+"-*"+filepath.Ext(base))
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), c.path)
}
