package rig

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// PythonDownloads serves the rig's stand-in Python build (Env.PythonStandin) on loopback for
// the test's lifetime, with a downloads JSON in the format of uv's own download-metadata.json
// naming it, and returns the JSON's URL (python_downloads_json_url) and the stand-in's
// version (Debian 13's current Python 3.13 release). The real
// python-build-standalone releases are on GitHub, out of reach here: the real uv installs the
// stand-in as it would install one of them, checking the SHA-256 the JSON gives.
func PythonDownloads(t *testing.T, env *Env) (url, version string) {
	t.Helper()
	data, err := os.ReadFile(env.PythonStandin)
	if err != nil {
		t.Fatalf("the rig's Python stand-in: %v (scripts/rig.sh python-standin makes it)", err)
	}
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(env.PythonStandin), "version"))
	if err != nil {
		t.Fatal(err)
	}
	version = strings.TrimSpace(string(raw))
	parts := strings.Split(version, ".")
	if len(parts) != 3 {
		t.Fatalf("the stand-in's version %q is not major.minor.patch", version)
	}
	var numbers [3]int
	for i, p := range parts {
		if numbers[i], err = strconv.Atoi(p); err != nil {
			t.Fatalf("the stand-in's version %q: %v", version, err)
		}
	}
	sum := sha256.Sum256(data)
	const build = "standin"
	file := fmt.Sprintf("cpython-%s+%s-x86_64-unknown-linux-gnu-install_only.tar.gz", version, build)
	mux := http.NewServeMux()
	server := httptest.NewServer(mux)
	t.Cleanup(server.Close)
	downloads := map[string]any{
		fmt.Sprintf("cpython-%s-linux-x86_64-gnu", version): map[string]any{
			"name": "cpython", "arch": map[string]any{"family": "x86_64", "variant": nil}, "os": "linux", "libc": "gnu",
			"major": numbers[0], "minor": numbers[1], "patch": numbers[2], "prerelease": "", "variant": nil, "build": build,
			// + in a URL's path is a literal plus; uv's own entries escape it so.
			"url":    server.URL + "/" + strings.ReplaceAll(file, "+", "%2B"),
			"sha256": hex.EncodeToString(sum[:]),
		},
	}
	index, err := json.Marshal(downloads)
	if err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc("/python-downloads.json", func(w http.ResponseWriter, _ *http.Request) { w.Write(index) })
	mux.HandleFunc("/"+file, func(w http.ResponseWriter, _ *http.Request) { w.Write(data) })
	return server.URL + "/python-downloads.json", version
}
