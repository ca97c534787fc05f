package rig

import (
	"fmt"
	"path/filepath"
	"runtime"
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
// `micromamba` and `uv` (executable Python 3 scripts). Copy them to where the install plan
// expects the real tools: <prefix>/micromamba/bin/micromamba and <prefix>/bin/uv.
func StandinsDir() string {
	return filepath.Join(standinsSourceDir(), "standins")
}

// FixtureSourceDir is the absolute path of the fixture OpenHands source tree (a poetry-core
// pyproject.toml with 320 dependencies, a poetry.lock, the openhands package and noise a
// packager must leave out). Copy it before use: running Python inside it writes bytecode.
func FixtureSourceDir() string {
	return filepath.Join(standinsSourceDir(), "testdata", "openhands-src")
}

// BuilderTemplate is an HCL template with `source "openhands-runtime" "image"` on baseImage
// (not pulled), the checkout src and the stand-ins, naming its images repository; attributes
// are more lines of the source block and build more lines of the build block (post-processors).
func BuilderTemplate(baseImage, src, repository, attributes, build string) string {
	return fmt.Sprintf(`
source "openhands-runtime" "image" {
  base_image       = %q
  pull             = false
  source_dir       = %q
  micromamba_path  = %q
  uv_path          = %q
  image_repository = %q
%s
}

build {
  sources = ["source.openhands-runtime.image"]
%s
}
`, baseImage, src, filepath.Join(StandinsDir(), "micromamba"), filepath.Join(StandinsDir(), "uv"), repository, attributes, build)
}
