package rig

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// standinsSourceDir is the directory of this source file. Locating files from the source
// rather than the working directory lets tests of any package, and the demo, find them.
// It needs a build without -trimpath, which `go test` and `go run` are by default.
func standinsSourceDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("rig: cannot locate the rig source directory")
	}
	return filepath.Dir(file)
}

// StandinsDir is the absolute path of the directory holding the offline stand-ins for
// `micromamba`, `uv` and `openvscode-server` (executable Python 3 scripts). Copy the first two
// to where the install plan expects the real tools: <prefix>/micromamba/bin/micromamba and
// <prefix>/bin/uv; VSCodeServerTarball packs the third as the release tarball.
func StandinsDir() string {
	return filepath.Join(standinsSourceDir(), "standins")
}

// FixtureSourceDir is the absolute path of the fixture OpenHands source tree (a poetry-core
// pyproject.toml with 320 dependencies, a poetry.lock, the openhands package and noise a
// packager must leave out). Copy it before use: running Python inside it writes bytecode.
func FixtureSourceDir() string {
	return filepath.Join(standinsSourceDir(), "testdata", "openhands-src")
}

// StandinAttributes are the HCL attributes that make the plan upload the stand-ins instead of
// downloading micromamba, uv and openvscode-server, one a line with the given indent.
// Acceptance tests whose subject is not the install itself keep the uv stand-in: a real install
// costs a minute or more of the two cores per build, and the stand-in's knobs (UV_STANDIN_SLOW,
// UV_STANDIN_INDEX, a full disk) hold or steer it on purpose. TestAccBuilderRealOpenHands and
// TestAccProvisionerRealInstall install with the real uv (RealInstallAttributes).
func StandinAttributes(indent string) (string, error) {
	tarball, err := VSCodeServerTarball()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%[1]smicromamba_path    = %[2]q\n%[1]suv_path            = %[3]q\n%[1]svscode_server_path = %[4]q\n",
		indent, filepath.Join(StandinsDir(), "micromamba"), filepath.Join(StandinsDir(), "uv"), tarball), nil
}

// DockerChanges is the HCL list of `changes` a docker builder source needs for an image that
// OpenHands' launcher starts: the base image's command and the plan's launch environment.
func DockerChanges() string { return DockerChangesFor(plan.Layout{}) }

// DockerChangesFor is DockerChanges for a runtime of the given layout (defaults where unset).
func DockerChangesFor(layout plan.Layout) string {
	o := plan.Options{Layout: layout}
	o.SetDefaults()
	changes := plan.DockerChanges(o)
	if o.InstallsCheckout() {
		// OpenHands' launcher gives the command; the base image's stays for a shell.
		changes = append([]string{`CMD ["/bin/bash"]`}, changes...)
	}
	quoted := make([]string, len(changes))
	for i, c := range changes {
		quoted[i] = fmt.Sprintf("%q", strings.ReplaceAll(c, "${", "$${")) // HCL's escape of ${
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// BuilderTemplate is an HCL template with `source "openhands-runtime" "image"` on baseImage
// (not pulled), the checkout src and the stand-ins, naming its images repository; attributes
// are more lines of the source block and build more lines of the build block (post-processors).
func BuilderTemplate(baseImage, src, repository, attributes, build string) string {
	standins, err := StandinAttributes("  ")
	if err != nil {
		panic(err) // a temporary directory that cannot be written: nothing can run
	}
	return fmt.Sprintf(`
source "openhands-runtime" "image" {
  base_image       = %q
  pull             = false
  network_mode     = "none"
  source_dir       = %q
  image_repository = %q
%s%s
}

build {
  sources = ["source.openhands-runtime.image"]
%s
}
`, baseImage, src, repository, standins, attributes, build)
}

// The openvscode-server release OpenHands 0.62 installs, as VSCodeServerTarball stands in for
// it. VSCodeServerCommit is the stand-in's (second line of `--version`), not the real one.
const (
	VSCodeServerVersion = plan.VSCodeServerVersion
	VSCodeServerCommit  = "5f0c2e8a1b7d4c93e6a8f01d2b3c4e5f6a7b8c9d"
	vscodeRelease       = "openvscode-server-v" + VSCodeServerVersion + "-linux-x64"
)

var vscodeTarball struct {
	once sync.Once
	path string
	err  error
}

// VSCodeServerTarball returns the absolute path of a stand-in for the release tarball
// openvscode-server-v1.98.2-linux-x64.tar.gz, written once per process under os.TempDir(): the
// release's top directory with bin/openvscode-server (the stand-in, see StandinsDir),
// bin/remote-cli/openvscode-server, a few extensions, product.json and package.json. The
// content is deterministic. Its entries belong to uid and gid 1001, as a CI runner's tarball
// does, so root extracting it keeps an owner that is neither root nor the agent's user.
func VSCodeServerTarball() (string, error) {
	vscodeTarball.once.Do(func() {
		vscodeTarball.path, vscodeTarball.err = writeVSCodeServerTarball()
	})
	return vscodeTarball.path, vscodeTarball.err
}

func writeVSCodeServerTarball() (string, error) {
	server, err := os.ReadFile(filepath.Join(StandinsDir(), "openvscode-server"))
	if err != nil {
		return "", err
	}
	data, err := vscodeTarballBytes(server)
	if err != nil {
		return "", err
	}
	// Named after the content, so concurrent test processes agree and an edited stand-in
	// gets a new file instead of a stale one.
	sum := sha256.Sum256(data)
	tmpRoot, err := filepath.Abs(os.TempDir())
	if err != nil {
		return "", err
	}
	dir := filepath.Join(tmpRoot, "openhands-rig-vscode-"+hex.EncodeToString(sum[:6]))
	path := filepath.Join(dir, vscodeRelease+".tar.gz")
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".tarball-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	// Rename is atomic: a reader never sees a half-written tarball.
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	return path, nil
}

func vscodeTarballBytes(server []byte) ([]byte, error) {
	remoteCLI := "#!/bin/sh\n# Remote CLI of the openvscode-server stand-in (`code` in the editor's terminal).\n" +
		"echo \"openvscode-server " + VSCodeServerVersion + " remote CLI (stand-in): nothing to do\"\n"
	product := `{
  "nameShort": "OpenVSCode Server",
  "nameLong": "OpenVSCode Server",
  "applicationName": "openvscode-server",
  "serverApplicationName": "openvscode-server",
  "dataFolderName": ".openvscode-server",
  "serverDataFolderName": ".openvscode-server",
  "quality": "stable",
  "commit": "` + VSCodeServerCommit + `"
}
`
	pkg := `{
  "name": "openvscode-server",
  "version": "` + VSCodeServerVersion + `",
  "private": true
}
`
	entries := []struct {
		name string
		mode int64
		body string // a directory when name ends in /
	}{
		{"", 0o755, ""},
		{"bin/", 0o755, ""},
		{"bin/openvscode-server", 0o755, string(server)},
		{"bin/remote-cli/", 0o755, ""},
		{"bin/remote-cli/openvscode-server", 0o755, remoteCLI},
		// OpenHands' image removes some built-in extensions and adds its own next to them.
		{"extensions/", 0o755, ""},
		{"extensions/git/", 0o755, ""},
		{"extensions/git/package.json", 0o644, `{"name": "git", "version": "10.0.0"}` + "\n"},
		{"extensions/json/", 0o755, ""},
		{"extensions/json/package.json", 0o644, `{"name": "json", "version": "10.0.0"}` + "\n"},
		{"package.json", 0o644, pkg},
		{"product.json", 0o644, product},
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	mtime := time.Date(2025, 3, 13, 0, 0, 0, 0, time.UTC)
	for _, e := range entries {
		h := &tar.Header{Name: vscodeRelease + "/" + e.name, Mode: e.mode, Uid: 1001, Gid: 1001,
			ModTime: mtime, Format: tar.FormatUSTAR, Typeflag: tar.TypeReg, Size: int64(len(e.body))}
		if e.name == "" || e.name[len(e.name)-1] == '/' {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// PlatformStandin writes a copy of the stand-in for tool (micromamba or uv) under dir with a
// last line naming platform, and returns its path and sha256: tests of per-platform files give
// each platform its own copy and tell by the sum which one an image or machine got. The
// stand-ins are Python scripts, of no architecture, so each platform runs its copy.
func PlatformStandin(t *testing.T, dir, tool, platform string) (path, sum string) {
	t.Helper()
	standin, err := os.ReadFile(filepath.Join(StandinsDir(), tool))
	if err != nil {
		t.Fatal(err)
	}
	data := append(standin, "# the "+platform+" copy\n"...)
	path = filepath.Join(dir, strings.ReplaceAll(platform, "/", "-"), tool)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return path, hex.EncodeToString(s[:])
}

// InstalledSHA256 is the sha256 of each of the files in a container of image run for
// platform (no network), by path.
func InstalledSHA256(t *testing.T, image, platform string, paths ...string) map[string]string {
	t.Helper()
	out, err := Docker(append([]string{"run", "--rm", "--network=none", "--platform", platform, "--entrypoint", "sha256sum", image}, paths...)...)
	if err != nil {
		t.Fatalf("%s: %v", image, err)
	}
	sums := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if sum, path, ok := strings.Cut(line, "  "); ok {
			sums[path] = sum
		}
	}
	return sums
}
