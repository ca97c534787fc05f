package rig

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// svPath is a PATH whose first python3 is the host's real interpreter, for the stand-ins'
// `#!/usr/bin/env python3` (pyenv shims cost ~0.4s a start).
func svPath(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pybin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(siHostPython(t), filepath.Join(bin, "python3")); err != nil {
		t.Fatal(err)
	}
	return bin + string(os.PathListSeparator) + "/usr/bin:/bin"
}

// svStart starts cmd with its stdout and stderr merged into a pipe and stops it (by its
// process) at the end of the test. Lines are read by the caller.
func svStart(t *testing.T, cmd *exec.Cmd) *bufio.Scanner {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		r.Close()
	})
	return bufio.NewScanner(r)
}

// svWaitLine reads lines until one holds want, failing after the timeout or at EOF.
func svWaitLine(t *testing.T, sc *bufio.Scanner, want string, timeout time.Duration) {
	t.Helper()
	found := make(chan bool, 1)
	var seen []string
	go func() {
		for sc.Scan() {
			seen = append(seen, sc.Text())
			if strings.Contains(sc.Text(), want) {
				found <- true
				// Keep draining: a full pipe would block the server.
				for sc.Scan() {
				}
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		if !ok {
			t.Fatalf("output ended without %q:\n%s", want, strings.Join(seen, "\n"))
		}
	case <-time.After(timeout):
		t.Fatalf("no %q within %v", want, timeout)
	}
}

func svGet(url string) (int, string, error) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// TestVSCodeServerTarball unpacks the stand-in release tarball and runs its server.
func TestVSCodeServerTarball(t *testing.T) {
	t.Parallel()
	path, err := VSCodeServerTarball()
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(path) || filepath.Base(path) != "openvscode-server-v1.98.2-linux-x64.tar.gz" {
		t.Errorf("path %q", path)
	}
	if again, err := VSCodeServerTarball(); again != path || err != nil {
		t.Errorf("second call: %q %v, want %q", again, err, path)
	}
	if data, err := vscodeTarballBytes([]byte(siReadFile(t, filepath.Join(StandinsDir(), "openvscode-server")))); err != nil || string(data) != siReadFile(t, path) {
		t.Errorf("the tarball is not deterministic (%v)", err)
	}

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	top := "openvscode-server-v1.98.2-linux-x64/"
	want := map[string]int64{
		top: 0o755, top + "bin/": 0o755, top + "bin/openvscode-server": 0o755,
		top + "bin/remote-cli/": 0o755, top + "bin/remote-cli/openvscode-server": 0o755,
		top + "extensions/": 0o755, top + "extensions/git/": 0o755, top + "extensions/git/package.json": 0o644,
		top + "extensions/json/": 0o755, top + "extensions/json/package.json": 0o644,
		top + "package.json": 0o644, top + "product.json": 0o644,
	}
	dir := t.TempDir()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		mode, ok := want[h.Name]
		if !ok {
			t.Errorf("unexpected entry %s", h.Name)
			continue
		}
		delete(want, h.Name)
		isDir := strings.HasSuffix(h.Name, "/")
		if h.Mode != mode || (h.Typeflag == tar.TypeDir) != isDir || h.Uid != 1001 || h.Gid != 1001 {
			t.Errorf("%s: mode %o type %c uid %d gid %d, want mode %o", h.Name, h.Mode, h.Typeflag, h.Uid, h.Gid, mode)
		}
		target := filepath.Join(dir, h.Name)
		if isDir {
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, data, os.FileMode(h.Mode)); err != nil {
			t.Fatal(err)
		}
	}
	for name := range want {
		t.Errorf("missing entry %s", name)
	}
	if t.Failed() {
		t.FailNow()
	}
	root := filepath.Join(dir, top)
	var product, pkg struct{ Commit, Version string }
	if err := json.Unmarshal([]byte(siReadFile(t, filepath.Join(root, "product.json"))), &product); err != nil || product.Commit != VSCodeServerCommit {
		t.Errorf("product.json: %+v %v", product, err)
	}
	if err := json.Unmarshal([]byte(siReadFile(t, filepath.Join(root, "package.json"))), &pkg); err != nil || pkg.Version != VSCodeServerVersion {
		t.Errorf("package.json: %+v %v", pkg, err)
	}

	pathEnv := svPath(t)
	env := []string{"PATH=" + pathEnv, "HOME=" + dir, "LANG=C.UTF-8"}
	server := filepath.Join(root, "bin", "openvscode-server")
	r := siRun(t, dir, env, server, "--version")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	if r.code != 0 || len(lines) != 3 || lines[0] != "1.98.2" || !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(lines[1]) ||
		lines[1] != VSCodeServerCommit || (arch != "" && lines[2] != arch) {
		t.Errorf("--version: %s", r)
	}
	if r := siRun(t, dir, env, filepath.Join(root, "bin", "remote-cli", "openvscode-server"), "--help"); r.code != 0 || !strings.Contains(r.stdout, "remote CLI") {
		t.Errorf("remote CLI: %s", r)
	}

	t.Run("serves", func(t *testing.T) {
		port := FreeLoopbackPort(t)
		cmd := exec.Command(server, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
			"--connection-token", "tok-123", "--disable-workspace-trust")
		cmd.Env, cmd.Dir = env, dir
		out := svStart(t, cmd)
		svWaitLine(t, out, fmt.Sprintf("Web UI available at http://localhost:%d/?tkn=tok-123", port), 30*time.Second)
		if code, _, err := svGet(fmt.Sprintf("http://127.0.0.1:%d/any/path?x=1", port)); code != 200 {
			t.Errorf("GET: %d %v", code, err)
		}
	})
	t.Run("refuses a tree its user does not own", func(t *testing.T) {
		if os.Geteuid() != 0 {
			unavailable(t, "needs root to give the file to another user")
		}
		if err := os.Chown(server, 1001, 1001); err != nil {
			t.Fatal(err)
		}
		defer os.Chown(server, os.Getuid(), os.Getgid())
		r := siRun(t, dir, env, server, "--host", "127.0.0.1", "--port", strconv.Itoa(FreeLoopbackPort(t)), "--connection-token", "t")
		if r.code != 1 || !strings.Contains(r.stderr, "is owned by uid 1001, not by the user running it (uid 0)") || strings.Contains(r.stdout, "Web UI") {
			t.Errorf("want a refusal, got %s", r)
		}
	})
}

// svFixtureEnv is a copy of the fixture source and a PYTHONPATH of stub modules for the
// server's imports (the fixture's dependencies), for the host's python3.
func svFixtureEnv(t *testing.T) (src, stubs string) {
	t.Helper()
	root := t.TempDir()
	src, stubs = filepath.Join(root, "src"), filepath.Join(root, "stubs")
	siCopyTree(t, FixtureSourceDir(), src)
	if err := os.MkdirAll(stubs, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"fastapi", "litellm", "openai", "openhands_aci", "pydantic", "starlette", "uvicorn"} {
		if err := os.WriteFile(filepath.Join(stubs, m+".py"), []byte("# test stub\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return src, stubs
}

// TestFixtureActionExecutionServer runs the fixture's server with the host's python3, as
// `python -u -m openhands.runtime.action_execution_server` from the source directory.
func TestFixtureActionExecutionServer(t *testing.T) {
	t.Parallel()
	py := siHostPython(t)
	src, stubs := svFixtureEnv(t)
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	env := func(extra ...string) []string {
		return append([]string{"PATH=/usr/bin:/bin", "HOME=" + src, "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1",
			"PYTHONPATH=" + stubs}, extra...)
	}
	server := []string{py, "-u", "-m", "openhands.runtime.action_execution_server"}

	r := siRun(t, src, env(), append(server, "--help")...)
	for _, opt := range []string{"port", "--working-dir", "--plugins", "--username", "--user-id", "--no-enable-browser", "--browsergym-eval-env"} {
		if !strings.Contains(r.stdout, opt) {
			t.Errorf("--help lacks %s", opt)
		}
	}
	if r.code != 0 {
		t.Fatalf("--help: %s", r)
	}

	t.Run("--help needs the environment's imports", func(t *testing.T) {
		broken := t.TempDir()
		siCopyTree(t, stubs, broken)
		if err := os.WriteFile(filepath.Join(broken, "litellm.py"), []byte("raise ModuleNotFoundError(\"No module named 'litellm'\")\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := siRun(t, src, env("PYTHONPATH="+broken), append(server, "--help")...)
		if r.code == 0 || !strings.Contains(r.stderr, "No module named 'litellm'") {
			t.Errorf("want an import failure, got %s", r)
		}
	})
	t.Run("unknown plugin", func(t *testing.T) {
		r := siRun(t, src, env(), append(server, "8000", "--plugins", "agent_skills", "nope")...)
		if r.code != 1 || !strings.Contains(r.stderr, "Plugin nope not found") {
			t.Errorf("got %s", r)
		}
	})
	t.Run("jupyter needs kernel_gateway", func(t *testing.T) {
		// LocalRuntime mode: upstream's check without su and micromamba, runnable anywhere.
		local := []string{"LOCAL_RUNTIME_MODE=1", "OPENHANDS_REPO_PATH=" + src}
		r := siRun(t, src, env(local...), append(server, strconv.Itoa(FreeLoopbackPort(t)), "--plugins", "jupyter")...)
		if r.code != 1 || !strings.Contains(r.stderr, "jupyter plugin: the kernel gateway cannot start") ||
			!strings.Contains(r.stderr, "No module named 'kernel_gateway'") {
			t.Errorf("want a start-up failure, got %s", r)
		}
		if err := os.WriteFile(filepath.Join(stubs, "kernel_gateway.py"), []byte("# test stub\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(filepath.Join(stubs, "kernel_gateway.py"))
		port := FreeLoopbackPort(t)
		cmd := exec.Command(server[0], append(server[1:], strconv.Itoa(port), "--plugins", "jupyter")...)
		cmd.Env, cmd.Dir = env(local...), src
		out := svStart(t, cmd)
		svWaitLine(t, out, fmt.Sprintf("Uvicorn running on http://0.0.0.0:%d", port), 30*time.Second)
	})
	t.Run("serves /alive", func(t *testing.T) {
		port := FreeLoopbackPort(t)
		work := filepath.Join(t.TempDir(), "workspace")
		base := t.TempDir()
		cmd := exec.Command(server[0], append(server[1:], strconv.Itoa(port), "--working-dir", work,
			"--plugins", "agent_skills", "vscode", "--username", me.Username, "--user-id", me.Uid)...)
		// vscode without VSCODE_PORT is skipped with a warning, as upstream does.
		cmd.Env, cmd.Dir = env("WORKSPACE_BASE="+base, "RUNTIME_USERNAME="+me.Username), src
		out := svStart(t, cmd)
		svWaitLine(t, out, fmt.Sprintf("Uvicorn running on http://0.0.0.0:%d", port), 30*time.Second)
		code, body, err := svGet(fmt.Sprintf("http://127.0.0.1:%d/alive", port))
		var alive struct{ Status string }
		if code != 200 || json.Unmarshal([]byte(body), &alive) != nil || alive.Status != "ok" {
			t.Errorf("/alive: %d %q %v", code, body, err)
		}
		if code, _, err := svGet(fmt.Sprintf("http://127.0.0.1:%d/other", port)); code != 404 {
			t.Errorf("/other: %d %v", code, err)
		}
		if fi, err := os.Stat(work); err != nil || !fi.IsDir() {
			t.Errorf("the working directory was not created: %v", err)
		}
		if _, err := os.Stat(filepath.Join(base, ".vscode", "settings.json")); err != nil {
			t.Errorf("vscode settings: %v", err)
		}
	})
}
