package plan

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
)

// sourceTreeFiles is a checkout in miniature: name, content and mode. Entries marked
// shipped are the ones the bundle must carry below code/.
var sourceTreeFiles = []struct {
	name, content string
	mode          os.FileMode
	shipped       bool
}{
	{"pyproject.toml", "[tool.poetry]\nname = \"openhands-ai\"\n", 0o644, true},
	{"poetry.lock", "# lock\n", 0o644, true},
	{"README.md", "# OpenHands\n", 0o644, true},
	{"openhands/__init__.py", "__version__ = '0.0.0'\n", 0o644, true},
	{"openhands/core/config.py", "class OpenHandsConfig: ...\n", 0o644, true},
	{"openhands/runtime/plugins/run.sh", "#!/bin/sh\necho run\n", 0o755, true},
	{"skills/github.md", "# skill\n", 0o644, true},
	{"openhands/__pycache__/__init__.cpython-312.pyc", "bytecode", 0o644, false},
	{"openhands/core/config.pyc", "bytecode", 0o644, false},
	{"openhands/.hidden/notes.txt", "hidden dir", 0o644, false},
	{"openhands/.env", "SECRET=1\n", 0o600, false},
	{".git/HEAD", "ref: refs/heads/main\n", 0o644, false},
	{"frontend/package.json", "{}\n", 0o644, false},
	{"tests/test_x.py", "def test(): pass\n", 0o644, false},
}

// makeSourceTree writes the tree in the given order of sourceTreeFiles indexes.
func makeSourceTree(t *testing.T, order []int) string {
	t.Helper()
	dir := t.TempDir()
	for _, i := range order {
		f := sourceTreeFiles[i]
		fixture.WriteFile(t, dir, f.name, f.content, f.mode)
	}
	return dir
}

func forwardOrder() []int {
	order := make([]int, len(sourceTreeFiles))
	for i := range order {
		order[i] = i
	}
	return order
}

// bundleFixture is a source tree plus supplied binaries and prepared options.
type bundleFixture struct {
	src     string
	opts    Options
	files   []SourceFile
	mm, uv  []byte
	binDir  string
	written Inputs // what WriteBundle passed to render
}

func newBundleFixture(t *testing.T, order []int) *bundleFixture {
	t.Helper()
	f := &bundleFixture{src: makeSourceTree(t, order), binDir: t.TempDir()}
	f.mm = []byte("\x7fELF micromamba stand-in")
	f.uv = []byte("\x7fELF uv stand-in")
	f.opts = Options{
		SourceDir:          f.src,
		VSCodeServerSHA256: testSHA,
		MicromambaPath:     fixture.WriteFile(t, f.binDir, "micromamba", string(f.mm), 0o700),
		UVPath:             fixture.WriteFile(t, f.binDir, "uv", string(f.uv), 0o600),
		// The tree's poetry.lock is a placeholder, packed as any file (lock_test.go pins).
		UseLock: boolPtr(false),
	}
	if errs := f.opts.Prepare(); len(errs) != 0 {
		t.Fatalf("Prepare: %v", errs)
	}
	var err error
	if f.files, err = ListSource(f.src); err != nil {
		t.Fatal(err)
	}
	return f
}

// write makes the bundle with a render that records its inputs into plan.sh.
func (f *bundleFixture) write(t *testing.T) ([]byte, Inputs) {
	t.Helper()
	var buf bytes.Buffer
	in, err := WriteBundle(&buf, f.opts, f.files, func(in Inputs) string {
		f.written = in
		return fmt.Sprintf("#!/usr/bin/env bash\n# tree %s deps %s\n", in.SourceTree, in.DependencyFiles)
	})
	if err != nil {
		t.Fatalf("WriteBundle: %v", err)
	}
	return buf.Bytes(), in
}

var payloadOffsetLine = regexp.MustCompile(`(?m)^payload_offset=(\d+)$`)

// splitBundle checks the header and returns the payload.
func splitBundle(t *testing.T, data []byte) (header string, payload []byte) {
	t.Helper()
	m := payloadOffsetLine.FindSubmatch(data[:min(len(data), 4096)])
	if m == nil {
		t.Fatal("the bundle has no payload_offset=N line")
	}
	n, err := strconv.Atoi(string(m[1]))
	if err != nil || n <= 0 || n >= len(data) {
		t.Fatalf("payload_offset=%s for a bundle of %d bytes", m[1], len(data))
	}
	header = string(data[:n])
	if !strings.HasPrefix(header, "#!/bin/sh\n") || !strings.HasSuffix(header, "exit \"$rc\"\n") {
		t.Errorf("the header is not the launcher:\n%s", header)
	}
	if header != launcherHeader() {
		t.Error("the header differs from launcherHeader()")
	}
	if len(header) != n {
		t.Errorf("the header is %d bytes, payload_offset says %d", len(header), n)
	}
	if !bytes.HasPrefix(data[n:], []byte{0x1f, 0x8b}) {
		t.Errorf("no gzip stream at offset %d", n)
	}
	return header, data[n:]
}

type tarEntry struct {
	name    string
	typ     byte
	mode    int64
	content string
}

func readPayload(t *testing.T, payload []byte) []tarEntry {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var entries []tarEntry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, tarEntry{name: h.Name, typ: h.Typeflag, mode: h.Mode, content: string(data)})
	}
	if rest, _ := io.ReadAll(gz); len(rest) != 0 {
		t.Errorf("%d bytes after the tar archive", len(rest))
	}
	return entries
}

func TestWriteBundle(t *testing.T) {
	f := newBundleFixture(t, forwardOrder())
	data, in := f.write(t)
	_, payload := splitBundle(t, data)
	entries := readPayload(t, payload)

	if !reflect.DeepEqual(in, f.written) {
		t.Errorf("WriteBundle returned %+v but rendered with %+v", in, f.written)
	}
	computed, err := ComputeInputs(f.opts, f.files)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, computed) {
		t.Errorf("WriteBundle inputs %+v, ComputeInputs %+v", in, computed)
	}
	if in.Supplied["micromamba"] != sha256Hex(f.mm) || in.Supplied["uv"] != sha256Hex(f.uv) {
		t.Errorf("binary digests %v, want the files' sha256", in.Supplied)
	}
	for _, d := range []string{in.SourceTree, in.DependencyFiles} {
		if len(d) != 64 {
			t.Errorf("digest %q is not a sha256", d)
		}
	}

	last := entries[len(entries)-1]
	if last.name != BundleScript || last.typ != tar.TypeReg || last.mode != 0o755 {
		t.Errorf("the last entry is %+v, want plan.sh 0755", last)
	}
	if want := fmt.Sprintf("# tree %s deps %s\n", in.SourceTree, in.DependencyFiles); !strings.HasSuffix(last.content, want) {
		t.Errorf("plan.sh is %q, want the rendered script", last.content)
	}

	files := map[string]tarEntry{}
	seenDirs := map[string]bool{}
	for _, e := range entries {
		switch e.typ {
		case tar.TypeDir:
			if !strings.HasSuffix(e.name, "/") {
				t.Errorf("directory entry %q", e.name)
			}
			seenDirs[e.name] = true
		case tar.TypeReg:
			if _, dup := files[e.name]; dup {
				t.Errorf("%s is packed twice", e.name)
			}
			files[e.name] = e
			// Every parent directory precedes its files.
			for dir := filepath.Dir(e.name); dir != "."; dir = filepath.Dir(dir) {
				if !seenDirs[dir+"/"] {
					t.Errorf("%s comes before its directory %s/", e.name, dir)
				}
			}
		default:
			t.Errorf("entry %s of type %c", e.name, e.typ)
		}
		if strings.HasPrefix(e.name, "/") || strings.Contains(e.name, "..") {
			t.Errorf("unsafe entry name %q", e.name)
		}
	}

	want := map[string]tarEntry{
		toolMicromamba.Bundle: {content: string(f.mm), mode: 0o755},
		toolUV.Bundle:         {content: string(f.uv), mode: 0o755},
		BundleScript:          {content: last.content, mode: 0o755},
	}
	for _, sf := range sourceTreeFiles {
		if sf.shipped {
			mode := int64(0o644)
			if sf.mode&0o111 != 0 {
				mode = 0o755
			}
			want[BundleCode+"/"+sf.name] = tarEntry{content: sf.content, mode: mode}
		}
	}
	var gotNames, wantNames []string
	for name := range files {
		gotNames = append(gotNames, name)
	}
	for name := range want {
		wantNames = append(wantNames, name)
	}
	sort.Strings(gotNames)
	sort.Strings(wantNames)
	if strings.Join(gotNames, "\n") != strings.Join(wantNames, "\n") {
		t.Errorf("files in the bundle:\n%s\nwant:\n%s", strings.Join(gotNames, "\n"), strings.Join(wantNames, "\n"))
	}
	for name, w := range want {
		got, ok := files[name]
		if !ok {
			continue
		}
		if got.content != w.content || got.mode != w.mode {
			t.Errorf("%s: mode %o content %q, want mode %o content %q", name, got.mode, got.content, w.mode, w.content)
		}
	}
	for name := range files {
		if strings.Contains(name, "__pycache__") || strings.HasSuffix(name, ".pyc") || strings.Contains(name, "/.") {
			t.Errorf("%s must be left out", name)
		}
	}
	if bytes.Contains(data, []byte(f.src)) || bytes.Contains(data, []byte(f.binDir)) {
		t.Error("the bundle holds a local path")
	}
}

// TestWriteBundleSecrets: the bundle, which waits in /tmp for its run, holds no secret; the
// values holding one travel in the secrets frame alone, which the launcher reads from its
// standard input.
func TestWriteBundleSecrets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		set     func(o *Options)
		secrets []string
	}{
		{"none", func(*Options) {}, nil},
		{"index URLs", func(o *Options) {
			o.IndexURL = "https://ci:pw-index@pypi.internal/simple"
			o.ExtraIndexURLs = []string{"https://pypi.internal/public", "https://ci:pw-extra@wheels.internal/simple"}
		}, []string{"pw-index", "pw-extra"}},
		{"channel alias", func(o *Options) { o.ChannelAlias = "https://ci:pw-alias@conda.internal/api" }, []string{"pw-alias"}},
		{"tool URL", func(o *Options) {
			o.UVPath, o.UVURL, o.UVSHA256 = "", "https://ci:pw-uv@tools.internal/uv.tar.gz", testSHA
		}, []string{"pw-uv"}},
		{"environment", func(o *Options) {
			o.EnvironmentVars = []string{"HTTPS_PROXY=http://ci:pw-proxy@proxy.internal:3128"}
			o.SecretEnvironmentVars = []string{"API_TOKEN=pw-token"}
		}, []string{"pw-proxy", "pw-token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newBundleFixture(t, forwardOrder())
			tc.set(&f.opts)
			body := requireSecretsInFrameAlone(t, f, tc.secrets)
			if len(tc.secrets) == 0 && body != "" {
				t.Errorf("the frame carries %q without a secret in the options", body)
			}
		})
	}
}

// requireSecretsInFrameAlone writes the fixture's bundle and fails when any byte of it, or of
// a file of its payload, holds one of secrets, or when the secrets frame lacks one. It
// returns the frame's body.
func requireSecretsInFrameAlone(t *testing.T, f *bundleFixture, secrets []string) string {
	t.Helper()
	var buf bytes.Buffer
	in, err := WriteBundle(&buf, f.opts, f.files, func(in Inputs) string { return New(f.opts, in).Script("test") })
	if err != nil {
		t.Fatal(err)
	}
	_, payload := splitBundle(t, buf.Bytes())
	frame := string(SecretsFrame(New(f.opts, in)))
	header, body, _ := strings.Cut(frame, "\n")
	if header != fmt.Sprintf("secrets %d", len(body)) {
		t.Errorf("the frame starts %q, want \"secrets %d\"", header, len(body))
	}
	for _, s := range secrets {
		if bytes.Contains(buf.Bytes(), []byte(s)) {
			t.Errorf("the bundle holds %s", s)
		}
		for _, e := range readPayload(t, payload) {
			if strings.Contains(e.content, s) {
				t.Errorf("%s holds %s", e.name, s)
			}
		}
		if !strings.Contains(body, s) {
			t.Errorf("the secrets frame lacks %s", s)
		}
	}
	return body
}

func TestBundleDigests(t *testing.T) {
	base := newBundleFixture(t, forwardOrder())
	_, baseIn := base.write(t)

	t.Run("creation order", func(t *testing.T) {
		reverse := forwardOrder()
		sort.Sort(sort.Reverse(sort.IntSlice(reverse)))
		other := newBundleFixture(t, reverse)
		// Different modification times too.
		old := time.Now().Add(-48 * time.Hour)
		for _, sf := range other.files {
			if err := os.Chtimes(sf.Abs, old, old); err != nil {
				t.Fatal(err)
			}
		}
		data, in := other.write(t)
		if !reflect.DeepEqual(in, baseIn) {
			t.Errorf("inputs depend on creation order: %+v vs %+v", in, baseIn)
		}
		baseData, _ := base.write(t)
		if !bytes.Equal(data, baseData) {
			t.Error("two bundles of the same files differ byte for byte")
		}
	})

	tests := []struct {
		name       string
		change     func(t *testing.T, f *bundleFixture)
		tree, deps bool // whether SourceTree and DependencyFiles change
		mm, uv     bool
	}{
		{
			name: "non-dependency file content",
			change: func(t *testing.T, f *bundleFixture) {
				fixture.WriteFile(t, f.src, "openhands/__init__.py", "__version__ = '0.0.1'\n", 0o644)
			},
			tree: true,
		},
		{
			name:   "new source file",
			change: func(t *testing.T, f *bundleFixture) { fixture.WriteFile(t, f.src, "openhands/new.py", "", 0o644) },
			tree:   true,
		},
		{
			name: "executable bit",
			change: func(t *testing.T, f *bundleFixture) {
				if err := os.Chmod(filepath.Join(f.src, "openhands/core/config.py"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			tree: true,
		},
		{
			name: "pyproject.toml",
			change: func(t *testing.T, f *bundleFixture) {
				fixture.WriteFile(t, f.src, "pyproject.toml", "[tool.poetry]\nname = \"x\"\n", 0o644)
			},
			tree: true, deps: true,
		},
		{
			name:   "new uv.lock",
			change: func(t *testing.T, f *bundleFixture) { fixture.WriteFile(t, f.src, "uv.lock", "version = 1\n", 0o644) },
			tree:   true, deps: true,
		},
		{
			name: "ignored files",
			change: func(t *testing.T, f *bundleFixture) {
				fixture.WriteFile(t, f.src, "openhands/__pycache__/new.pyc", "x", 0o644)
			},
		},
		{
			name:   "supplied uv",
			change: func(t *testing.T, f *bundleFixture) { fixture.WriteFile(t, f.binDir, "uv", "another uv", 0o755) },
			uv:     true,
		},
		{
			name: "supplied micromamba",
			change: func(t *testing.T, f *bundleFixture) {
				fixture.WriteFile(t, f.binDir, "micromamba", "another micromamba", 0o755)
			},
			mm: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newBundleFixture(t, forwardOrder())
			tt.change(t, f)
			// List again, as a new build would: sizes and modes are part of the digest.
			var err error
			if f.files, err = ListSource(f.src); err != nil {
				t.Fatal(err)
			}
			_, in := f.write(t)
			computed, err := ComputeInputs(f.opts, f.files)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(in, computed) {
				t.Errorf("WriteBundle inputs %+v, ComputeInputs %+v", in, computed)
			}
			for _, c := range []struct {
				field     string
				got, base string
				changed   bool
			}{
				{"SourceTree", in.SourceTree, baseIn.SourceTree, tt.tree},
				{"DependencyFiles", in.DependencyFiles, baseIn.DependencyFiles, tt.deps},
				{"Micromamba", in.Supplied["micromamba"], baseIn.Supplied["micromamba"], tt.mm},
				{"UV", in.Supplied["uv"], baseIn.Supplied["uv"], tt.uv},
			} {
				if (c.got != c.base) != c.changed {
					t.Errorf("%s changed: %v, want %v", c.field, c.got != c.base, c.changed)
				}
			}
		})
	}
}

func TestWriteBundleErrors(t *testing.T) {
	f := newBundleFixture(t, forwardOrder())
	render := func(Inputs) string { return "" }
	o := f.opts
	o.UVPath = filepath.Join(t.TempDir(), "gone")
	if _, err := WriteBundle(io.Discard, o, f.files, render); err == nil || !strings.HasPrefix(err.Error(), "uv_path:") {
		t.Errorf("a missing uv_path gave %v", err)
	}
	files := append([]SourceFile(nil), f.files...)
	files[0].Abs = filepath.Join(t.TempDir(), "gone")
	if _, err := WriteBundle(io.Discard, f.opts, files, render); err == nil || !strings.HasPrefix(err.Error(), "source_dir:") {
		t.Errorf("a vanished source file gave %v", err)
	}
}

// tinyPlan is a plan.sh that reports who ran it and where, then fails with status 3.
const tinyPlan = `#!/usr/bin/env bash
echo "ran-as-$(id -u)"
echo "plan-dir=$(dirname "$0")"
for _ in $(seq 50); do [ -s "$PID_FILE" ] && break; sleep 0.1; done
echo "pid-file=$(cat "$PID_FILE") self=$$ group=$(awk '{print $5}' /proc/$$/stat)"
exit 3
`

// writeRunnableBundle writes a bundle whose plan.sh is script at dir/name.
func writeRunnableBundle(t *testing.T, dir, name, script string) string {
	t.Helper()
	f := newBundleFixture(t, forwardOrder())
	path := filepath.Join(dir, name)
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteBundle(out, f.opts, f.files, func(Inputs) string { return script }); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// unavailable skips a test that needs what this machine lacks (root, a tool), or fails it
// under `make test` (PACKER_ACC set), which sets everything up and must not pass by skipping.
func unavailable(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("PACKER_ACC") != "" {
		t.Fatalf("%s (make test requires it)", why)
	}
	t.Skip(why)
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		unavailable(t, "the launcher runs as root only; these tests run as root in CI")
	}
	for _, tool := range []string{"sh", "bash", "tar", "mktemp", "tail", "seq", "awk"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
}

type launcherRun struct {
	out  string
	code int
}

func runCommand(t *testing.T, env []string, name string, args ...string) launcherRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("%s: %v", name, err)
		}
		code = ee.ExitCode()
	}
	return launcherRun{out: string(out), code: code}
}

// checkLauncherRun asserts what a run of tinyPlan from the bundle at path left behind.
func checkLauncherRun(t *testing.T, path string, r launcherRun) {
	t.Helper()
	t.Logf("output:\n%s", r.out)
	if r.code != 3 {
		t.Errorf("exit status %d, want the plan's 3", r.code)
	}
	if !strings.Contains(r.out, "ran-as-0\n") {
		t.Error("the plan did not run as root")
	}
	m := regexp.MustCompile(`pid-file=(\d+) self=(\d+) group=(\d+)`).FindStringSubmatch(r.out)
	if m == nil {
		t.Error("the plan did not see its pid file")
	} else if m[1] != m[2] || m[2] != m[3] {
		t.Errorf("pid file %s, plan pid %s, process group %s: CancelCommand would miss the plan", m[1], m[2], m[3])
	}
	for _, left := range []string{path, strings.TrimSuffix(path, BundleSuffix) + ".pid"} {
		if _, err := os.Lstat(left); !os.IsNotExist(err) {
			t.Errorf("%s is left behind (%v)", left, err)
		}
	}
	if m := regexp.MustCompile(`plan-dir=(\S+)`).FindStringSubmatch(r.out); m == nil {
		t.Error("the plan did not print its directory")
	} else {
		if !strings.HasPrefix(m[1], "/tmp/openhands-plan.") {
			t.Errorf("the plan was unpacked to %s", m[1])
		}
		if _, err := os.Lstat(m[1]); !os.IsNotExist(err) {
			t.Errorf("the unpacked plan %s is left behind", m[1])
		}
	}
}

func TestLauncherRuns(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	path := writeRunnableBundle(t, dir, "openhands-plan-1234"+BundleSuffix, tinyPlan)
	pidFile := strings.TrimSuffix(path, BundleSuffix) + ".pid"
	r := runCommand(t, []string{"PID_FILE=" + pidFile}, "sh", path)
	checkLauncherRun(t, path, r)
}

// TestLauncherUnpacksWithPython runs the launcher where tar is missing.
func TestLauncherUnpacksWithPython(t *testing.T) {
	requireRoot(t)
	bin := t.TempDir()
	needed := []string{"sh", "bash", "id", "mktemp", "rm", "setsid", "dirname", "seq", "sleep", "cat", "awk"}
	for _, tool := range needed {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s is not installed", tool)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()

	t.Run("neither tar nor python3", func(t *testing.T) {
		path := writeRunnableBundle(t, dir, "none"+BundleSuffix, tinyPlan)
		before, _ := filepath.Glob("/tmp/openhands-plan.*")
		r := runCommand(t, []string{"PATH=" + bin}, filepath.Join(bin, "sh"), path)
		// The launcher makes its directory before it looks for an unpacker and leaves it
		// when there is none; remove what this run left (empty directories only).
		after, _ := filepath.Glob("/tmp/openhands-plan.*")
		for _, d := range after {
			if !slices.Contains(before, d) && os.Remove(d) == nil {
				t.Logf("the launcher left the empty directory %s behind", d)
			}
		}
		if r.code != ExitNoUnpack || !strings.Contains(r.out, "neither tar nor python3") {
			t.Errorf("status %d, output %q; want %d", r.code, r.out, ExitNoUnpack)
		}
		if strings.Contains(r.out, "ran-as") {
			t.Error("the plan ran")
		}
	})

	// The interpreter itself, not a wrapper such as a pyenv shim that needs more tools.
	out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
	python := strings.TrimSpace(string(out))
	if err != nil || python == "" {
		t.Skip("python3 is not installed")
	}
	if err := os.Symlink(python, filepath.Join(bin, "python3")); err != nil {
		t.Fatal(err)
	}
	path := writeRunnableBundle(t, dir, "py"+BundleSuffix, tinyPlan)
	pidFile := strings.TrimSuffix(path, BundleSuffix) + ".pid"
	r := runCommand(t, []string{"PATH=" + bin, "PID_FILE=" + pidFile}, filepath.Join(bin, "sh"), path)
	checkLauncherRun(t, path, r)
}

// awkwardDir is a directory whose path needs quoting: a space, a single and a double quote
// and a dollar sign.
func awkwardDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), `it's a "plan" $HOME`)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fakeNonRoot makes a PATH where id says uid 1000 and, when withSudo, sudo -n succeeds and
// runs its command with the real PATH (as sudo's secure_path would).
func fakeNonRoot(t *testing.T, withSudo bool) string {
	t.Helper()
	bin := t.TempDir()
	realPath := os.Getenv("PATH")
	fixture.WriteFile(t, bin, "id", "#!/bin/sh\nif [ \"$1\" = -u ]; then echo 1000; else echo builder; fi\n", 0o755)
	if withSudo {
		fixture.WriteFile(t, bin, "sudo", fmt.Sprintf("#!/bin/sh\n[ \"$1\" = -n ] && shift\n[ \"$1\" = true ] && exit 0\nPATH=%s exec \"$@\"\n", shellQuote(realPath)), 0o755)
	}
	for _, tool := range []string{"rm", "cat"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s is not installed", tool)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return bin
}

func TestRunCommand(t *testing.T) {
	requireRoot(t)
	sh, _ := exec.LookPath("sh")

	t.Run("as root", func(t *testing.T) {
		path := writeRunnableBundle(t, awkwardDir(t), "b"+BundleSuffix, tinyPlan)
		pidFile := strings.TrimSuffix(path, BundleSuffix) + ".pid"
		cmd := RunCommand(path)
		if !strings.Contains(cmd, shellQuote(path)) {
			t.Errorf("RunCommand(%q) = %q does not quote the path", path, cmd)
		}
		checkLauncherRun(t, path, runCommand(t, []string{"PID_FILE=" + pidFile}, sh, "-c", cmd))
	})

	t.Run("through sudo", func(t *testing.T) {
		path := writeRunnableBundle(t, awkwardDir(t), "b"+BundleSuffix, tinyPlan)
		pidFile := strings.TrimSuffix(path, BundleSuffix) + ".pid"
		bin := fakeNonRoot(t, true)
		checkLauncherRun(t, path, runCommand(t, []string{"PATH=" + bin, "PID_FILE=" + pidFile}, sh, "-c", RunCommand(path)))
	})

	t.Run("without sudo", func(t *testing.T) {
		path := writeRunnableBundle(t, awkwardDir(t), "b"+BundleSuffix, tinyPlan)
		bin := fakeNonRoot(t, false)
		r := runCommand(t, []string{"PATH=" + bin}, sh, "-c", RunCommand(path))
		if r.code != ExitNeedsSudo {
			t.Errorf("exit status %d, want %d; output %q", r.code, ExitNeedsSudo, r.out)
		}
		if !strings.Contains(r.out, "builder is not root") || strings.Contains(r.out, "ran-as") {
			t.Errorf("output %q", r.out)
		}
		if _, err := os.Lstat(path); !os.IsNotExist(err) {
			t.Errorf("the bundle is left behind (%v)", err)
		}
	})
}

func TestCancelCommand(t *testing.T) {
	requireRoot(t)
	type cancelCase struct {
		name, shell string
		bin         bool
	}
	// The remote command runs in the login shell (bash, often) or in /bin/sh, which is dash
	// on Debian and Ubuntu; sudo -n sh -c always uses sh.
	var cases []cancelCase
	for _, shell := range []string{"sh", "bash", "dash"} {
		if _, err := exec.LookPath(shell); err == nil {
			cases = append(cases, cancelCase{shell + " as root", shell, false}, cancelCase{shell + " through sudo", shell, true})
		}
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			sh, _ := exec.LookPath(tt.shell)
			path := filepath.Join(awkwardDir(t), "b"+BundleSuffix)
			if got, want := strings.TrimSuffix(path, BundleSuffix)+".pid", filepath.Join(filepath.Dir(path), "b.pid"); got != want {
				t.Fatalf("pid file %s", got)
			}
			// A plan in a session of its own, with a child, as the launcher starts it.
			plan := exec.Command("sh", "-c", "sleep 60 & wait")
			plan.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
			if err := plan.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- plan.Wait() }()
			t.Cleanup(func() {
				syscall.Kill(-plan.Process.Pid, syscall.SIGKILL)
			})
			fixture.WriteFile(t, filepath.Dir(path), "b.pid", fmt.Sprintf("%d\n", plan.Process.Pid), 0o644)

			var env []string
			if tt.bin {
				env = []string{"PATH=" + fakeNonRoot(t, true)}
			}
			if r := runCommand(t, env, sh, "-c", CancelCommand(path)); r.code != 0 {
				t.Fatalf("CancelCommand %q: status %d, output %q", CancelCommand(path), r.code, r.out)
			}
			select {
			case err := <-done:
				var ee *exec.ExitError
				if !errors.As(err, &ee) {
					t.Fatalf("the plan ended with %v", err)
				}
				if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
					t.Errorf("the plan ended with %v, want SIGTERM", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the plan still runs after CancelCommand")
			}
			// The child in the plan's group got the signal too. Zombies count as gone: the
			// child's new parent may be slow to reap it.
			deadline := time.Now().Add(5 * time.Second)
			for {
				live := liveGroupMembers(t, plan.Process.Pid)
				if len(live) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("processes %v of the plan's group survived", live)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// liveGroupMembers lists the processes of group pgid that are not zombies, from /proc.
func liveGroupMembers(t *testing.T, pgid int) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		t.Skip("no /proc")
	}
	var live []int
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
		rest := string(data[bytes.LastIndexByte(data, ')')+1:])
		fields := strings.Fields(rest)
		if len(fields) < 3 || fields[0] == "Z" || fields[0] == "X" {
			continue
		}
		if g, _ := strconv.Atoi(fields[2]); g == pgid {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
			live = append(live, pid)
		}
	}
	return live
}

// TestLauncherSignalled stops a running plan as a cancelled build does: a signal to the
// launcher (a lost SSH session's SIGHUP, a SIGTERM), or (with StopOnEOF) the end of its
// standard input, which is all a command run over SSH without a terminal sees of a lost
// connection or a cancelled build. The plan and its children stop, and the bundle, its pid
// file and the unpacked plan with the secrets file it got from the frame are removed.
func TestLauncherSignalled(t *testing.T) {
	requireRoot(t)
	signal := func(sig syscall.Signal) func(*exec.Cmd, io.Closer) {
		return func(cmd *exec.Cmd, _ io.Closer) { cmd.Process.Signal(sig) }
	}
	secrets := "API_TOKEN='pw-token'\n"
	for _, tc := range []struct {
		name string
		args []string
		stop func(cmd *exec.Cmd, stdin io.Closer)
	}{
		{"SIGHUP", nil, signal(syscall.SIGHUP)},
		{"SIGTERM", nil, signal(syscall.SIGTERM)},
		{"SIGTERM with secrets", []string{StopOnEOF}, signal(syscall.SIGTERM)},
		{"stdin closed", []string{StopOnEOF}, func(_ *exec.Cmd, stdin io.Closer) { stdin.Close() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			marks := filepath.Join(dir, "marks")
			plan := `#!/usr/bin/env bash
echo "$(dirname "$0")" >` + shellQuote(marks) + `
if [ -f "$(dirname "$0")/` + BundleSecrets + `" ]; then echo secrets; else echo none; fi >>` + shellQuote(marks) + `
sleep 60 &
echo "$!" >>` + shellQuote(marks) + `
wait
`
			path := writeRunnableBundle(t, dir, "b"+BundleSuffix, plan)
			cmd := exec.Command("sh", append([]string{path}, tc.args...)...)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			withSecrets := slices.Contains(tc.args, StopOnEOF)
			if withSecrets {
				io.WriteString(stdin, fmt.Sprintf("secrets %d\n%s", len(secrets), secrets))
			}
			var lines []string
			for i := 0; i < 100 && len(lines) < 3; i++ {
				time.Sleep(100 * time.Millisecond)
				data, _ := os.ReadFile(marks)
				lines = strings.Fields(string(data))
			}
			if len(lines) < 3 {
				cmd.Process.Kill()
				t.Fatalf("the plan did not start: %q", lines)
			}
			planDir, child := lines[0], lines[2]
			if got := lines[1] == "secrets"; got != withSecrets {
				t.Errorf("the plan had a secrets file: %v, want %v", got, withSecrets)
			}
			tc.stop(cmd, stdin)
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 143 {
				t.Errorf("the launcher ended with %v, want exit status 143", err)
			}
			if !gone(child, 3*time.Second) {
				syscall.Kill(atoiOrZero(child), syscall.SIGKILL)
				t.Errorf("the plan's child %s outlived the launcher", child)
			}
			for _, left := range []string{path, strings.TrimSuffix(path, BundleSuffix) + ".pid", planDir} {
				if _, err := os.Lstat(left); !os.IsNotExist(err) {
					t.Errorf("%s is left behind (%v)", left, err)
				}
			}
		})
	}
}

// gone waits up to d for process pid to end: no longer in /proc, or a zombie not yet reaped.
func gone(pid string, d time.Duration) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(50 * time.Millisecond) {
		stat, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return true
		}
		// The state follows the command name in parentheses, which may hold spaces.
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

func atoiOrZero(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// TestWriteBundleQueryCredentials: credentials in a URL's query (a token parameter, the
// signature and session token of a presigned S3 URL) are secrets as user info is: only the
// secrets frame holds them, never the bundle, in the options and in environment_vars alike.
func TestWriteBundleQueryCredentials(t *testing.T) {
	f := newBundleFixture(t, forwardOrder())
	f.opts.IndexURL = "https://pypi.internal/simple?token=pw-query-token"
	f.opts.UVPath = ""
	f.opts.UVURL = "https://bucket.s3.amazonaws.com/uv.tar.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20261205&X-Amz-Security-Token=pw-session&X-Amz-Signature=pw-signature"
	f.opts.UVSHA256 = testSHA
	f.opts.EnvironmentVars = []string{"ARTIFACTS=https://store.internal/x?sig=pw-sas"}
	secrets := []string{"pw-query-token", "pw-session", "pw-signature", "pw-sas", "AKIAEXAMPLE"}
	requireSecretsInFrameAlone(t, f, secrets)
	all := strings.Join(f.opts.Secrets(), " ")
	for _, s := range secrets {
		if !strings.Contains(all, s) {
			t.Errorf("Secrets() %q lacks %s, so the output filter would show it", all, s)
		}
	}
	for raw, want := range map[string]string{
		f.opts.IndexURL:                  "https://pypi.internal/simple?token=xxxxx",
		f.opts.UVURL:                     "https://bucket.s3.amazonaws.com/uv.tar.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=xxxxx&X-Amz-Security-Token=xxxxx&X-Amz-Signature=xxxxx",
		"https://u:p@h/x?key=k&page=2":   "https://u:xxxxx@h/x?key=xxxxx&page=2",
		"https://pypi.org/simple?page=2": "https://pypi.org/simple?page=2",
	} {
		if got := RedactURL(raw); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

// TestLauncherSecretsFrame runs the launcher as the provisioner does (StopOnEOF): the frame's
// bytes become the plan's secrets file, root's alone in a directory root's alone, whatever
// bytes they are (no line is lost or added), and are gone when the launcher ends, on success
// and on failure. A missing, malformed or short frame stops the launcher before the plan runs.
func TestLauncherSecretsFrame(t *testing.T) {
	requireRoot(t)
	secrets := "OH_INDEX_URL='https://ci:pw@pypi.internal/simple'\nAPI_TOKEN='a b\n'\n"
	for _, tc := range []struct {
		name, stdin string
		planExit    int
		wantExit    int
		ran         bool
	}{
		{"secrets, success", fmt.Sprintf("secrets %d\n%s", len(secrets), secrets), 0, 0, true},
		{"secrets, failure", fmt.Sprintf("secrets %d\n%s", len(secrets), secrets), 3, 3, true},
		{"no secrets", "secrets 0\n", 0, 0, true},
		{"no frame", "", 0, ExitNoSecrets, false},
		{"malformed frame", "secrets x\n", 0, ExitNoSecrets, false},
		{"length with trailing bytes", "secrets 5x\nabcde", 0, ExitNoSecrets, false},
		{"negative length", "secrets -5\n", 0, ExitNoSecrets, false},
		{"overlong length", "secrets 99999999999999999999\n", 0, ExitNoSecrets, false},
		{"other first line", "hello\n", 0, ExitNoSecrets, false},
		{"short frame", "secrets 500\nabc", 0, ExitNoSecrets, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			report := filepath.Join(dir, "report")
			plan := fmt.Sprintf(`#!/usr/bin/env bash
here=$(dirname "$0")
{
	stat -c '%%a' "$here"
	if [ -f "$here/secrets.sh" ]; then stat -c '%%a' "$here/secrets.sh"; cat "$here/secrets.sh"; fi
} >%s
echo "$here" >%s.dir
exit %d
`, shellQuote(report), shellQuote(report), tc.planExit)
			path := writeRunnableBundle(t, dir, "b"+BundleSuffix, plan)
			cmd := exec.Command("sh", path, StopOnEOF)
			var output bytes.Buffer
			cmd.Stdout, cmd.Stderr = &output, &output
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			io.WriteString(stdin, tc.stdin)
			if !tc.ran {
				// The provisioner's input stays open for the run; a frame cut short ends it.
				stdin.Close()
			}
			err = cmd.Wait()
			out := output.Bytes()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			if code != tc.wantExit {
				t.Fatalf("the launcher exited %d, want %d: %s", code, tc.wantExit, out)
			}
			got, readErr := os.ReadFile(report)
			if !tc.ran {
				if readErr == nil {
					t.Errorf("the plan ran without a whole frame: %q", got)
				}
				if !strings.Contains(string(out), "secrets frame") {
					t.Errorf("the launcher's message does not name the secrets frame: %s", out)
				}
				return
			}
			want := "700\n"
			if tc.stdin != "secrets 0\n" {
				want += "600\n" + secrets
			}
			if string(got) != want {
				t.Errorf("the plan saw %q, want %q", got, want)
			}
			planDir, _ := os.ReadFile(report + ".dir")
			if _, err := os.Stat(strings.TrimSpace(string(planDir))); !os.IsNotExist(err) {
				t.Errorf("the unpacked plan with its secrets file is left behind (%v)", err)
			}
		})
	}
}
