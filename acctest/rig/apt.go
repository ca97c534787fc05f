package rig

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// AptRepoMount is where a container sees the repository LocalAptRepo writes.
const AptRepoMount = "/oh-test-repo"

// AptSourcesScript makes an image's apt read only the local repository mounted at
// AptRepoMount (trusted: it is the test's own), so apt needs no network.
const AptSourcesScript = `rm -f /etc/apt/sources.list.d/* && echo 'deb [trusted=yes] file:` + AptRepoMount + ` ./' >/etc/apt/sources.list`

// LocalAptRepo writes a flat apt repository into dir with one stand-in package per entry of
// commands (package name -> the shell script installed as /usr/bin/<name>), built with
// dpkg-deb, so tests exercise the plan's real package-install path with apt-get offline.
func LocalAptRepo(dir string, commands map[string]string) error {
	var index strings.Builder
	for name, script := range commands {
		root, err := os.MkdirTemp("", "openhands-deb-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(root)
		control := fmt.Sprintf("Package: %s\nVersion: 99.0-ohtest\nArchitecture: all\nMaintainer: openhands tests <tests@example.invalid>\nDescription: stand-in %s for tests\n", name, name)
		for path, content := range map[string]string{"DEBIAN/control": control, "usr/bin/" + name: script} {
			if err := os.MkdirAll(filepath.Join(root, filepath.Dir(path)), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(root, path), []byte(content), 0o755); err != nil {
				return err
			}
		}
		deb := name + "_99.0-ohtest_all.deb"
		if out, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", root, filepath.Join(dir, deb)).CombinedOutput(); err != nil {
			return fmt.Errorf("dpkg-deb: %v: %s", err, out)
		}
		data, err := os.ReadFile(filepath.Join(dir, deb))
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&index, "%sFilename: ./%s\nSize: %d\nSHA256: %s\n\n", control[:strings.Index(control, "Description:")], deb, len(data), hex.EncodeToString(sum[:]))
	}
	packages := []byte(index.String())
	if err := os.WriteFile(filepath.Join(dir, "Packages"), packages, 0o644); err != nil {
		return err
	}
	sum := sha256.Sum256(packages)
	release := fmt.Sprintf("Suite: ./\nDate: Thu, 01 Jan 2026 00:00:00 UTC\nSHA256:\n %s %d Packages\n", hex.EncodeToString(sum[:]), len(packages))
	return os.WriteFile(filepath.Join(dir, "Release"), []byte(release), 0o644)
}
