package projectfile

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
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
