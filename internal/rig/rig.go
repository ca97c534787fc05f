package rig

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RepoRoot is the module's root directory.
func RepoRoot() string { return filepath.Join(standinsSourceDir(), "..", "..") }

// Env is what the rig provides to acceptance tests.
type Env struct {
	// BaseImage is the offline Debian 12 image (debootstrap + docker import).
	BaseImage string
	// PluginPath is a PACKER_PLUGIN_PATH holding the docker and amazon plugins and this one.
	PluginPath string
	// Packer is the packer binary.
	Packer string
	// Arm64Image is the arm64 Debian 13 base image, run under qemu-user-static; empty when
	// this machine cannot run arm64 userland (scripts/rig.sh said why).
	Arm64Image string
	// UVArm64 is the real uv for arm64, for the agent-server's arm64 builds.
	UVArm64 string
	// TrixieImage is the Debian 13 base image (Python 3.13), for real installs.
	TrixieImage string
	// IndexURL is the local package index on 127.0.0.1, a caching mirror of PyPI: build
	// containers reach it with the host's network.
	IndexURL string
	// UV is the real uv binary (x86_64), from its PyPI wheel.
	UV string
	// OpenHandsSrc is OpenHands 0.62.0's source tree from its sdist, with the release's
	// poetry.lock (checked by the real Poetry): copy it before building from it.
	OpenHandsSrc string
	// SDKSrc is a software-agent-sdk checkout (1.58.2) made of the four packages' sdists, its
	// uv.lock written by the real uv: copy it before building from it.
	SDKSrc string
	// NodeJS is Node.js 22.14.0's linux-x64 release tarball, laid out as nodejs.org's (which
	// is out of reach) from the release's node and npm on the npm registry.
	NodeJS string
	// PythonStandin is a Python 3.13 laid out as python-build-standalone's builds, its version
	// in the file "version" beside it: serve it with PythonDownloads.
	PythonStandin string
	// Cache is the rig's cache directory (OPENHANDS_RIG_CACHE), kept between runs.
	Cache string
}

// Setup makes the rig ready (Docker engine, packer, plugins, base image), builds this plugin
// and installs it into a plugin folder of the test run, and points PATH and
// PACKER_PLUGIN_PATH at them, so acctest.TestPlugin's `packer build` finds everything.
// Call it from TestMain under PACKER_ACC only: it may install packages and start dockerd.
func Setup(workDir string) (*Env, error) {
	// No version check or telemetry from packer: tests reach nothing but loopback.
	os.Setenv("CHECKPOINT_DISABLE", "1")
	script := filepath.Join(RepoRoot(), "scripts", "rig.sh")
	cmd := exec.Command("bash", script, "all")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("scripts/rig.sh all: %w", err)
	}
	out, err := exec.Command("bash", script, "env").Output()
	if err != nil {
		return nil, fmt.Errorf("scripts/rig.sh env: %w", err)
	}
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		kv := strings.TrimPrefix(sc.Text(), "export ")
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = strings.Trim(v, `'"`)
		}
	}
	env := &Env{BaseImage: vars["OPENHANDS_RIG_BASE_IMAGE"], Packer: vars["PACKER"], PluginPath: filepath.Join(workDir, "plugins"),
		Arm64Image: vars["OPENHANDS_RIG_ARM64_IMAGE"], UVArm64: vars["OPENHANDS_RIG_UV_ARM64"], TrixieImage: vars["OPENHANDS_RIG_TRIXIE_IMAGE"],
		IndexURL: vars["OPENHANDS_RIG_INDEX_URL"], UV: vars["OPENHANDS_RIG_UV"], OpenHandsSrc: vars["OPENHANDS_RIG_OPENHANDS_SRC"],
		SDKSrc: vars["OPENHANDS_RIG_SDK_SRC"], NodeJS: vars["OPENHANDS_RIG_NODEJS"], PythonStandin: vars["OPENHANDS_RIG_PYTHON_STANDIN"], Cache: vars["OPENHANDS_RIG_CACHE"]}
	if err := copyDir(vars["PACKER_PLUGIN_PATH"], env.PluginPath); err != nil {
		return nil, err
	}
	plugin := filepath.Join(workDir, "packer-plugin-openhands")
	build := exec.Command("go", "build", "-o", plugin, ".")
	build.Dir = RepoRoot()
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("building the plugin: %w", err)
	}
	install := exec.Command(env.Packer, "plugins", "install", "--path", plugin, "github.com/openhands-runtime/openhands")
	install.Env = append(os.Environ(), "PACKER_PLUGIN_PATH="+env.PluginPath)
	if out, err := install.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("installing the plugin: %v: %s", err, out)
	}
	os.Setenv("PACKER_PLUGIN_PATH", env.PluginPath)
	os.Setenv("PATH", filepath.Dir(env.Packer)+string(os.PathListSeparator)+os.Getenv("PATH"))
	return env, nil
}

func copyDir(src, dst string) error {
	return filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
}

// Docker runs the docker CLI and returns its combined output.
func Docker(args ...string) (string, error) {
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// InImage runs a shell command in a throwaway container of image, without network.
func InImage(t *testing.T, image, user, script string) string {
	t.Helper()
	args := []string{"run", "--rm", "--network=none"}
	if user != "" {
		args = append(args, "--user", user)
	}
	args = append(args, "--entrypoint", "/bin/bash", image, "-c", script)
	out, err := Docker(args...)
	if err != nil {
		t.Fatalf("in %s: %v", image, err)
	}
	return strings.TrimSpace(out)
}

// RemoveImages removes the given images, ignoring those already gone.
func RemoveImages(images ...string) {
	for _, img := range images {
		exec.Command("docker", "rmi", "-f", img).Run()
	}
}

// DeriveImage commits a container of base after running script in it (no network), so tests
// can make variants of the base image without a registry.
func DeriveImage(base, name, script string) error {
	// The script runs as the command, not through --entrypoint: a committed entrypoint
	// cannot be reset with `ENTRYPOINT []`.
	id, err := Docker("create", "--network=none", base, "/bin/sh", "-c", script)
	if err != nil {
		return err
	}
	id = strings.TrimSpace(id)
	defer exec.Command("docker", "rm", "-f", id).Run()
	if out, err := Docker("start", "-a", id); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	_, err = Docker("commit", "--change", `CMD ["/bin/bash"]`, id, name)
	return err
}

// Main is the body of an acceptance test package's TestMain: under PACKER_ACC it sets the
// rig up (see Setup) into *env before running the tests, and removes its work folder after.
// Without PACKER_ACC, *env stays nil and acceptance tests skip themselves.
func Main(m *testing.M, env **Env) int {
	if os.Getenv("PACKER_ACC") == "" {
		return m.Run()
	}
	work, err := os.MkdirTemp("", "openhands-acc-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(work)
	if *env, err = Setup(work); err != nil {
		fmt.Fprintln(os.Stderr, "acceptance rig:", err)
		return 1
	}
	return m.Run()
}
