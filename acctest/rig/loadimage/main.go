// Command loadimage writes a `docker load` archive of a root filesystem tarball as a
// one-layer image for the given architecture. Docker Engine 20.10 ignores
// `docker import --platform` (the image is recorded as the engine's architecture), but takes
// a loaded image's config as it says: this is how the rig makes its arm64 base image.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func main() {
	rootfs := flag.String("rootfs", "", "root filesystem tarball (uncompressed)")
	arch := flag.String("arch", "arm64", "image architecture (GOARCH form)")
	tag := flag.String("tag", "", "image reference to load it as")
	out := flag.String("o", "", "archive to write")
	flag.Parse()
	if err := run(*rootfs, *arch, *tag, *out); err != nil {
		fmt.Fprintln(os.Stderr, "loadimage:", err)
		os.Exit(1)
	}
}

func run(rootfs, arch, tag, out string) error {
	if rootfs == "" || tag == "" || out == "" {
		return fmt.Errorf("-rootfs, -tag and -o are required")
	}
	ref, err := name.NewTag(tag)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromFile(rootfs)
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", arch
	// As `docker import --change 'CMD ["/bin/bash"]'` makes the amd64 base: no Env at all.
	cfg.Config = v1.Config{Cmd: []string{"/bin/bash"}}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := tarball.Write(ref, img, f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
