package plan

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/fixture"
)

// Test pairs of pyproject.toml and poetry.lock: OpenHands 0.62's own (the lock trimmed to 13
// packages, its metadata kept), a hand-made PEP 621 project changed after locking, and two
// hand-made projects with [dependency-groups], which Poetry hashes since 2.3.
const (
	realPair        = "testdata/openhands-0.62"
	mismatchPair    = "testdata/mismatch"
	groupsPoetryTbl = "testdata/groups-tool-poetry"
	groupsBefore23  = "testdata/groups-before-2.3"
	// The content-hash of OpenHands 0.62's poetry.lock, written by Poetry 2.1.3.
	realContentHash = "52eda0cd6b8a2e245057c005edcf93daf4151e99d019477c8b74ddd0940e890f"
	// What the mismatch pair's lock says, and what its pyproject.toml hashes to. These and the
	// hashes below are what Poetry's Locker._get_content_hash (2.3.0's, run alone on the
	// pyproject.toml; with_dependency_groups=False for the hashes before 2.3) returns; the same
	// run gives the real locks' hashes of OpenHands 0.62 and of Poetry itself.
	staleContentHash   = "e50ee1051b05221d01ae702af89a0ff8755fdba81973aff5d25dd814d0e6c69d"
	currentContentHash = "caf8e9669dd51d07574ae244c1cb8723a072821cf5d779ab8f611f85ee4982f2"
	// The mismatch pair's hash as Poetry before 2.3 computed it, without [dependency-groups].
	currentContentHash22 = "9829ddb86a067767b098198cced68d231a2e07821b121c9799d1ac21eb546146"
	// [tool.poetry] and [dependency-groups], without [project]: Poetry 2.3's hash (in its
	// lock) and the earlier one, the legacy keys at the top level.
	groupsPoetryTblHash   = "5c364c81688dd5feb0ffb18c9ca84a80adb4680010bcfd8661a37c110b051bfb"
	groupsPoetryTblHash22 = "35a2d7d3d117ae857a13577f80f6597a2d200f612134d7189ccc5f02c0e127c8"
	// [project] and [dependency-groups]: Poetry 2.3's hash, and the earlier one (in its lock).
	groupsBefore23Hash   = "28fbc5061c02f2d160af2272c7a3e32293e3792c02abf33166b9758758fb883e"
	groupsBefore23Hash22 = "e100c07d65885e2b22f7825976abbec8db621c2b96b67cff76ef2cfd4018bd17"
)

func readPyproject(t *testing.T, dir string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "pyproject.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := toml.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func readLock(t *testing.T, dir string) *PoetryLock {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, PoetryLockFile))
	if err != nil {
		t.Fatal(err)
	}
	l, err := ParsePoetryLock(raw)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestPoetryContentHash(t *testing.T) {
	for _, c := range []struct {
		dir    string
		groups bool // Poetry 2.3 and later
		want   string
	}{
		// [tool.poetry] only: the legacy layout, absent keys hashed as null, in every version.
		{realPair, true, realContentHash},
		{realPair, false, realContentHash},
		// [project] and [dependency-groups].
		{mismatchPair, true, currentContentHash},
		{mismatchPair, false, currentContentHash22},
		{groupsBefore23, true, groupsBefore23Hash},
		{groupsBefore23, false, groupsBefore23Hash22},
		// [tool.poetry] and [dependency-groups]: since 2.3 no longer the legacy layout.
		{groupsPoetryTbl, true, groupsPoetryTblHash},
		{groupsPoetryTbl, false, groupsPoetryTblHash22},
	} {
		got, err := PoetryContentHash(readPyproject(t, c.dir), c.groups)
		if err != nil {
			t.Fatalf("%s: %v", c.dir, err)
		}
		if got != c.want {
			t.Errorf("%s, groups %v: content-hash %s, want %s", c.dir, c.groups, got, c.want)
		}
	}
	for _, c := range []struct{ dir, hash, by string }{
		{realPair, realContentHash, "2.1.3"},
		// "in Poetry 2's format": Poetry's pattern finds a version that is not one.
		{mismatchPair, staleContentHash, "2's"},
		{groupsPoetryTbl, groupsPoetryTblHash, "2.3.2"},
		{groupsBefore23, groupsBefore23Hash22, "2.2.1"},
	} {
		if l := readLock(t, c.dir); l.Metadata.ContentHash != c.hash || l.GeneratedBy != c.by {
			t.Errorf("%s: content-hash %s by Poetry %q, want %s by %q", c.dir, l.Metadata.ContentHash, l.GeneratedBy, c.hash, c.by)
		}
	}
}

// TestLockFreshAsPoetry: a lock is fresh when its content-hash is the one Poetry 2.3 and later
// write, or, when its first line says an older Poetry wrote it, the one without
// [dependency-groups]; a stale lock's error shows its hash and the accepted ones.
func TestLockFreshAsPoetry(t *testing.T) {
	for _, c := range []struct {
		name, pair string
		by         string // the lock's first line names this Poetry; "" leaves the line as it is, "-" removes it
		want       string // an error; "" for none
	}{
		{name: "2.3 hash with groups, no [project]", pair: groupsPoetryTbl},
		{name: "2.3 hash, lock said older", pair: groupsPoetryTbl, by: "2.2.1"},
		{name: "pre-2.3 hash by 2.2.1", pair: groupsBefore23},
		{name: "pre-2.3 hash by a 2.3 pre-release", pair: groupsBefore23, by: "2.3.0b2"},
		{name: "pre-2.3 hash by 1.8.5", pair: groupsBefore23, by: "1.8.5"},
		{name: "pre-2.3 hash by 2.3.0", pair: groupsBefore23, by: "2.3.0",
			want: "its content-hash is " + groupsBefore23Hash22 + ", the project's dependencies hash to " + groupsBefore23Hash + ";"},
		{name: "pre-2.3 hash by 2.3.0.post1", pair: groupsBefore23, by: "2.3.0.post1",
			want: "its content-hash is " + groupsBefore23Hash22 + ", the project's dependencies hash to " + groupsBefore23Hash + ";"},
		{name: "pre-2.3 hash by 2.10", pair: groupsBefore23, by: "2.10.0",
			want: "the project's dependencies hash to " + groupsBefore23Hash + ";"},
		{name: "pre-2.3 hash, no generated line", pair: groupsBefore23, by: "-",
			want: "the project's dependencies hash to " + groupsBefore23Hash + ";"},
		{name: "pre-2.3 hash, not a version", pair: groupsBefore23, by: "main",
			want: "the project's dependencies hash to " + groupsBefore23Hash + ";"},
		{name: "stale lock, first line names no version", pair: mismatchPair,
			want: "its content-hash is " + staleContentHash + ", the project's dependencies hash to " + currentContentHash + "; run `poetry lock`"},
		{name: "stale lock by 2.2.1", pair: mismatchPair, by: "2.2.1",
			want: "its content-hash is " + staleContentHash + ", the project's dependencies hash to " + currentContentHash +
				" (Poetry 2.3 and later) or " + currentContentHash22 + " (Poetry before 2.3, which wrote this lock: 2.2.1);"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, errs := lockOptions(t, c.pair, func(o *Options) {
				if c.by == "" {
					return
				}
				path := filepath.Join(o.SourceDir, PoetryLockFile)
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				_, rest, _ := strings.Cut(string(data), "\n")
				if c.by != "-" {
					rest = "# This file is automatically @generated by Poetry " + c.by + " and should not be changed by hand.\n" + rest
				}
				fixture.WriteFile(t, o.SourceDir, PoetryLockFile, rest, 0o644)
			})
			fixture.WantError(t, errors.Join(errs...), c.want)
		})
	}
}

func TestPythonJSON(t *testing.T) {
	// Python's json.dumps(v, sort_keys=True) of the same value.
	v := map[string]any{"g": true, "f": nil, "e": 2.0, "d": 1e16, "c": 1.5e-05, "b": int64(1),
		"a": []any{"é", "\U0001F600", "\x7f\x01", `q"\`}}
	want := `{"a": ["\u00e9", "\ud83d\ude00", "\u007f\u0001", "q\"\\"], "b": 1, "c": 1.5e-05, "d": 1e+16, "e": 2.0, "f": null, "g": true}`
	var b strings.Builder
	if err := pythonJSON(&b, v); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("got  %s\nwant %s", b.String(), want)
	}
	if err := pythonJSON(&b, map[string]any{"d": toml.LocalDate{Year: 2025, Month: 1, Day: 2}}); err == nil {
		t.Error("a TOML date was accepted; json.dumps refuses it")
	}
}

func TestParsePoetryLockRefuses(t *testing.T) {
	meta := "\n[metadata]\nlock-version = %q\ncontent-hash = %q\n"
	pkg := "[[package]]\nname = \"a\"\nversion = \"1\"\ngroups = [\"main\"]\n"
	for _, c := range []struct{ name, lock, want string }{
		{"Poetry before 1.5 format", pkg + fmtLock(meta, "1.1", realContentHash), `lock-version "1.1" is not supported`},
		{"no metadata", pkg, `lock-version "" is not supported`},
		{"future major", pkg + fmtLock(meta, "3.0", realContentHash), `lock-version "3.0" is not supported`},
		{"bad hash", pkg + fmtLock(meta, "2.1", "abc"), `content-hash "abc" is not a SHA-256`},
		{"no version", "[[package]]\nname = \"a\"\n" + fmtLock(meta, "2.1", realContentHash), "[[package]] 1 has no name or version"},
		{"markers list", pkg + "markers = [\"x\"]\n" + fmtLock(meta, "2.1", realContentHash), "package a: markers is neither"},
		{"not TOML", "[[package]\n", "not a readable poetry.lock"},
	} {
		_, err := ParsePoetryLock([]byte(c.lock))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := ParsePoetryLock([]byte(pkg + fmtLock(meta, "2.1", realContentHash))); err != nil {
		t.Errorf("a 2.1 lock: %v", err)
	}
}

func fmtLock(format, version, hash string) string {
	return strings.Replace(strings.Replace(format, "%q", `"`+version+`"`, 1), "%q", `"`+hash+`"`, 1)
}

func TestSelectGroupsAndMarkers(t *testing.T) {
	lock := readLock(t, realPair)
	pick := func(groups ...string) map[string]string {
		out := map[string]string{}
		for _, p := range lock.Select(groups) {
			out[p.Name+"=="+p.Version] = p.Marker
		}
		return out
	}
	got := pick("main", "runtime")
	want := map[string]string{
		"aiofiles==24.1.0": "",
		"appnope==0.1.4":   `platform_system == "Darwin"`,
		// Markers only for the test group, which is not chosen: always for main.
		"cffi==1.17.1": "",
		"colorama==0.4.6": `(platform_system == "Windows" or os_name == "nt" or sys_platform == "win32") or ` +
			`(sys_platform == "win32")`,
		"e2b-code-interpreter==2.0.0": `extra == "third-party-runtimes"`,
		"flake8==7.3.0":               "",
		"grpclib==0.4.7":              `extra == "third-party-runtimes"`,
		"jupyterlab==4.4.5":           "",
		"openai==1.99.9":              "",
		"pydantic==2.11.10":           "",
		"pywin32==310": `(sys_platform == "win32" or platform_system == "Windows") or ` +
			`(sys_platform == "win32" and platform_python_implementation != "PyPy")`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("main, runtime:\n got %v\nwant %v", got, want)
	}
	if got := pick("dev"); !reflect.DeepEqual(got, map[string]string{"colorama==0.4.6": `os_name == "nt" or sys_platform == "win32"`, "ruff==0.12.5": ""}) {
		t.Errorf("dev: %v", got)
	}
	if got, want := lock.Groups(), []string{"dev", "evaluation", "main", "runtime", "test"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Groups() = %v, want %v", got, want)
	}
}

// copyLockPair makes a checkout in dir/src of a test pair and the openhands package.
func copyLockPair(t *testing.T, pair, dir string) string {
	t.Helper()
	src := filepath.Join(dir, "src")
	fixture.WriteFile(t, src, "openhands/__init__.py", "", 0o644)
	for _, name := range []string{"pyproject.toml", PoetryLockFile} {
		data, err := os.ReadFile(filepath.Join(pair, name))
		if err != nil {
			t.Fatal(err)
		}
		fixture.WriteFile(t, src, name, string(data), 0o644)
	}
	return src
}

// lockOptions prepares options on a copy of a test pair.
func lockOptions(t *testing.T, pair string, set func(*Options)) (Options, []error) {
	t.Helper()
	o := Options{SourceDir: copyLockPair(t, pair, t.TempDir()), VSCodeServerSHA256: testSHA}
	if set != nil {
		set(&o)
	}
	return o, o.Prepare()
}

func TestReadLockInstall(t *testing.T) {
	o, errs := lockOptions(t, realPair, nil)
	if len(errs) != 0 {
		t.Fatalf("Prepare: %v", errs)
	}
	if !*o.UseLock || !reflect.DeepEqual(o.LockGroups, DefaultLockGroups) || !*o.LockVerifyHashes {
		t.Fatalf("defaults with a lock: use_lock %v, lock_groups %v, lock_verify_hashes %v", *o.UseLock, o.LockGroups, *o.LockVerifyHashes)
	}
	li, err := ReadLockInstall(o)
	if err != nil {
		t.Fatal(err)
	}
	constraints := string(li.Constraints)
	for _, line := range []string{
		"openai==1.99.9 --hash=sha256:9dbcdb425553bae1ac5d947147bebbd630d91bbfc7788394d4c4f3a35682ab3a --hash=sha256:f2082d155b1ad22e83247c3de3958eb4255b20ccf4a1de2e6681b6957b554e92",
		`appnope==0.1.4 ; platform_system == "Darwin" --hash=sha256:`,
		// The extra's marker is dropped: a constraint installs nothing by itself.
		"e2b-code-interpreter==2.0.0 --hash=sha256:",
		"grpclib==0.4.7 --hash=sha256:",
		"jupyterlab==4.4.5 --hash=sha256:",
	} {
		if !strings.Contains(constraints, "\n"+line) {
			t.Errorf("constraints lack a line starting %q:\n%s", line, constraints)
		}
	}
	for _, absent := range []string{"ruff", "swebench"} {
		if strings.Contains(constraints, "\n"+absent) {
			t.Errorf("constraints pin %s, whose groups were not chosen", absent)
		}
	}
	// Every sha256 of openai's files is carried.
	if n := strings.Count(lineOf(constraints, "openai=="), "--hash=sha256:"); n != 2 {
		t.Errorf("openai carries %d hashes, want 2", n)
	}
	if got, want := string(li.Requirements), "# Generated by packer-plugin-openhands from poetry.lock (groups: main, runtime); Poetry is never run.\nflake8\njupyterlab\nnotebook\n"; got != want {
		t.Errorf("requirements:\n%s\nwant\n%s", got, want)
	}
	expected := string(li.Expected)
	if strings.Contains(expected, "e2b-code-interpreter") || strings.Contains(expected, "--hash") {
		t.Errorf("expected versions hold an optional package or hashes:\n%s", expected)
	}
	for _, line := range []string{"openai==1.99.9\n", `grpclib==0.4.7 ; extra == "third-party-runtimes"` + "\n", `appnope==0.1.4 ; platform_system == "Darwin"` + "\n"} {
		if !strings.Contains(expected, "\n"+line) {
			t.Errorf("expected versions lack %q:\n%s", line, expected)
		}
	}

	o.LockVerifyHashes = boolPtr(false)
	o.LockGroups = []string{"evaluation"}
	li, err = ReadLockInstall(o)
	if err != nil {
		t.Fatal(err)
	}
	if want := "\nswebench @ git+https://github.com/ryanhoangt/SWE-bench.git@aa0f1ed4c3b57828c8b9b2821b0ce74e201cf813\n"; !strings.Contains(string(li.Constraints), want) {
		t.Errorf("the git package is not pinned to its resolved commit:\n%s", li.Constraints)
	}
	if strings.Contains(string(li.Constraints), "--hash") {
		t.Error("lock_verify_hashes = false still writes hashes")
	}

	o.UseLock = boolPtr(false)
	if li, err := ReadLockInstall(o); li != nil || err != nil {
		t.Errorf("use_lock = false: %v, %v; want nothing", li, err)
	}
}

func lineOf(text, prefix string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func TestLockOptionErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		pair string
		set  func(*Options)
		uv   bool // add a uv.lock, remove poetry.lock
		want []string
	}{
		{name: "stale lock", pair: mismatchPair, want: []string{
			"use_lock: poetry.lock does not match pyproject.toml: its content-hash is " + staleContentHash +
				", the project's dependencies hash to " + currentContentHash,
			"run `poetry lock` on a machine where Poetry works", "or set use_lock = false"}},
		{name: "unknown group", pair: realPair, set: func(o *Options) { o.LockGroups = []string{"main", "docs"} },
			want: []string{`lock_groups: "docs" is not a group of poetry.lock, which has dev, evaluation, main, runtime, test`}},
		{name: "empty groups", pair: realPair, set: func(o *Options) { o.LockGroups = []string{} },
			want: []string{"lock_groups: empty"}},
		{name: "bad group name", pair: realPair, set: func(o *Options) { o.LockGroups = []string{"a b"} },
			want: []string{`lock_groups[0]: "a b" is not a group name`}},
		{name: "groups without the lock", pair: realPair, set: func(o *Options) { o.UseLock = boolPtr(false); o.LockGroups = []string{"main"} },
			want: []string{"lock_groups: set, but use_lock = false"}},
		{name: "uv.lock only", pair: realPair, uv: true,
			want: []string{"holds uv.lock, which the plugin does not read yet", "set use_lock = false"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, errs := lockOptions(t, c.pair, func(o *Options) {
				if c.uv {
					os.Remove(filepath.Join(o.SourceDir, PoetryLockFile))
					fixture.WriteFile(t, o.SourceDir, UVLockFile, "version = 1\n", 0o644)
				}
				if c.set != nil {
					c.set(o)
				}
			})
			all := ""
			for _, e := range errs {
				all += e.Error() + "\n"
			}
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("errors lack %q:\n%s", w, all)
				}
			}
		})
	}
	// Explicitly off, a stale lock is no error: the install ignores it, as before.
	if _, errs := lockOptions(t, mismatchPair, func(o *Options) { o.UseLock = boolPtr(false) }); len(errs) != 0 {
		t.Errorf("use_lock = false with a stale lock: %v", errs)
	}
	// Without a lock file the lock is off by default.
	o := Options{SourceDir: fixture.SourceDir(t), VSCodeServerSHA256: testSHA}
	if errs := o.Prepare(); len(errs) != 0 || *o.UseLock {
		t.Errorf("no lock file: use_lock %v, errors %v", *o.UseLock, errs)
	}
}

// TestLockShippedWithThePlan: the files generated from the lock travel next to plan.sh in the
// provisioner's bundle and the builder's context, the Dockerfile copies them into the
// dependency layer, and their digest moves the content tags and the dependency stamp.
func TestLockShippedWithThePlan(t *testing.T) {
	o, errs := lockOptions(t, realPair, nil)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	li, err := ReadLockInstall(o)
	if err != nil {
		t.Fatal(err)
	}
	files, err := ListSource(o.SourceDir)
	if err != nil {
		t.Fatal(err)
	}
	in, err := ComputeInputs(o, files)
	if err != nil {
		t.Fatal(err)
	}
	if in.Lock == "" || in.Lock != li.digest() {
		t.Fatalf("ComputeInputs' lock digest %q, want %q", in.Lock, li.digest())
	}
	want := map[string]string{}
	for _, f := range li.Files() {
		want[f[0]] = f[1]
	}

	var bundle bytes.Buffer
	bin, err := WriteBundle(&bundle, o, files, func(in Inputs) string { return New(o, in).Script("test") })
	if err != nil {
		t.Fatal(err)
	}
	if bin.Lock != in.Lock {
		t.Errorf("WriteBundle's lock digest %q, ComputeInputs' %q", bin.Lock, in.Lock)
	}
	_, payload := splitBundle(t, bundle.Bytes())
	got := map[string]string{}
	for _, e := range readPayload(t, payload) {
		if name, ok := strings.CutPrefix(e.name, BundleLock+"/"); ok && name != "" {
			got[name] = e.content
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("bundle's lock files:\n%v\nwant\n%v", got, want)
	}

	p := New(o, Inputs{})
	dockerfile, script := p.Dockerfile("base", "test"), p.Script("test")
	var ctx bytes.Buffer
	if err := WriteDockerContext(&ctx, p, dockerfile, script, files); err != nil {
		t.Fatal(err)
	}
	entries, _ := readContext(t, ctx.Bytes())
	for name, content := range want {
		if e := entries[contextDir+"/"+BundleLock+"/"+name]; e.content != content {
			t.Errorf("context's %s:\n%s\nwant\n%s", name, e.content, content)
		}
	}
	copyLine := "COPY openhands-plan/lock/ /opt/openhands-plan/lock/\nRUN bash /opt/openhands-plan/plan.sh --steps code,lock\n"
	if !strings.Contains(dockerfile, copyLine) || strings.Index(dockerfile, copyLine) > strings.Index(dockerfile, "--steps dependencies") {
		t.Errorf("the Dockerfile does not copy the lock files before the dependency layer:\n%s", dockerfile)
	}
	for _, flag := range []string{`--constraint "$OH_LOCK/constraints.txt" --requirement "$OH_LOCK/requirements.txt"`, `--verify-hashes`} {
		if !strings.Contains(script, flag) {
			t.Errorf("the dependency step lacks %s", flag)
		}
	}

	// Another group set is another pinned set: new tags, a new dependency stamp.
	other := o
	other.LockGroups = []string{"main"}
	otherIn, err := ComputeInputs(other, files)
	if err != nil {
		t.Fatal(err)
	}
	lockTag, _ := ContentTags("1", "base", dockerfile, script, in)
	otherTag, _ := ContentTags("1", "base", dockerfile, script, otherIn)
	if otherIn.Lock == in.Lock || lockTag == otherTag {
		t.Errorf("lock_groups does not move the lock digest (%s) or the lock tag (%s)", in.Lock, lockTag)
	}
	if stepStamp(New(o, in), "dependencies") == stepStamp(New(other, otherIn), "dependencies") {
		t.Error("lock_groups does not move the dependency stamp")
	}

	// Off, nothing of the lock is rendered or shipped.
	off := o
	off.UseLock = boolPtr(false)
	offPlan := New(off, Inputs{})
	if offScript := offPlan.Script("test"); strings.Contains(offScript, "OH_LOCK") || strings.Contains(offPlan.Dockerfile("base", "test"), "lock") {
		t.Error("use_lock = false still renders the lock")
	}
	if offIn, _ := ComputeInputs(off, files); offIn.Lock != "" {
		t.Errorf("use_lock = false still digests the lock: %q", offIn.Lock)
	}
}

func stepStamp(p *Plan, name StepID) string {
	for _, s := range p.Steps {
		if s.Name == name {
			return s.Stamp
		}
	}
	return ""
}

// TestLockSteps: with use_lock the lock step ships the files generated from the lock to
// $OH_LOCK, readable by all and owned by the runtime user, and is skipped once they are
// there; the dependency install then gives uv the constraints and the groups' requirements,
// with --verify-hashes only under lock_verify_hashes. A new lock moves both steps' stamps,
// the hash setting the install's.
func TestLockSteps(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := user.LookupGroup(me.Username); err != nil {
		t.Skipf("the lock step installs as user and group %s, and there is no such group", me.Username)
	}
	for _, hashes := range []bool{true, false} {
		t.Run(fmt.Sprintf("lock_verify_hashes=%v", hashes), func(t *testing.T) {
			o, errs := lockOptions(t, realPair, func(o *Options) { o.Platform, o.LockVerifyHashes = "debian-12", boolPtr(hashes) })
			if len(errs) != 0 {
				t.Fatalf("Prepare: %v", errs)
			}
			p := New(o, Inputs{Lock: strings.Repeat("5", 64)})
			if !strings.Contains(p.Script("test"), "\nexport OH_LOCK=\"$OH_PREFIX/lock\"\n") {
				t.Error(`the script does not set OH_LOCK to "$OH_PREFIX/lock"`)
			}
			res := runHelper(t, planFunctions(t, p), fixHarness+`export OH_USER=`+me.Username+` OH_LOCK=$PWD/lock
mkdir -p bundle/lock
for f in constraints requirements expected; do echo "$f" >"bundle/lock/$f.txt"; done
if oh_step_lock_check; then echo "check passes before the run" >>"$LOG"; fi
(set -euo pipefail; oh_step_lock_run)
oh_step_lock_check && echo "check passes after the run" >>"$LOG"
for f in constraints requirements expected; do echo "$f.txt: $(cat "lock/$f.txt") $(stat -c '%a %U' "lock/$f.txt")" >>"$LOG"; done
(set -euo pipefail; oh_step_dependencies_run)
cat "$LOG"`)
			if res.code != 0 {
				t.Fatalf("exit %d:\n%s", res.code, res.out)
			}
			verify := ""
			if hashes {
				verify = " --verify-hashes"
			}
			want := []*regexp.Regexp{
				regexp.MustCompile(`^check passes after the run$`),
				regexp.MustCompile(`^constraints\.txt: constraints 644 ` + me.Username + `$`),
				regexp.MustCompile(`^requirements\.txt: requirements 644 ` + me.Username + `$`),
				regexp.MustCompile(`^expected\.txt: expected 644 ` + me.Username + `$`),
				regexp.MustCompile(`^micromamba .* pip install --python \S+ --no-cache --constraint \S+/lock/constraints\.txt --requirement \S+/lock/requirements\.txt` +
					verify + ` -e \. jupyterlab notebook flake8$`),
			}
			calls := strings.Split(strings.TrimSpace(res.out), "\n")
			if len(calls) != len(want) {
				t.Fatalf("the lock and dependency steps did\n%s\nwant %d lines", res.out, len(want))
			}
			for i, re := range want {
				if !re.MatchString(calls[i]) {
					t.Errorf("line %d is %q, want %s", i+1, calls[i], re)
				}
			}
		})
	}

	o, errs := lockOptions(t, realPair, nil)
	if len(errs) != 0 {
		t.Fatalf("Prepare: %v", errs)
	}
	noHashes := o
	noHashes.LockVerifyHashes = boolPtr(false)
	one, two := Inputs{Lock: strings.Repeat("5", 64)}, Inputs{Lock: strings.Repeat("6", 64)}
	for _, c := range []struct {
		step   StepID
		change string
		a, b   *Plan
	}{
		{"lock", "a new lock", New(o, one), New(o, two)},
		{"dependencies", "a new lock", New(o, one), New(o, two)},
		{"dependencies", "lock_verify_hashes", New(o, one), New(noHashes, one)},
	} {
		if stepStamp(c.a, c.step) == stepStamp(c.b, c.step) {
			t.Errorf("%s does not move the %s step's stamp", c.change, c.step)
		}
	}
}
