package plan

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzListSource builds a source tree from the fuzz input (files, 0-byte files, executables,
// directories, symlink loops, links out of the tree and to its files, names with newlines,
// quotes, `$()` and non-UTF-8 bytes) and lists it: no panic, no error on a readable tree,
// and only regular files inside the tree, each once, in order, never through a link.
func FuzzListSource(f *testing.F) {
	f.Add([]byte("\x00openhands\x00\x01a\n$(touch x)\x00\x03loop\x00\x04out\x00\x02\xff\xfe.py\x00\x05lnk\x00"))
	f.Add([]byte("\x01skills\x00\x00`id`\x00\x06pyproject.toml\x00\x01.hidden\x00\x01x.pyc\x00\x00__pycache__\x00\x01y"))
	f.Add([]byte("\x04openhands\x00\x03microagents\x00\x01README.md\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		src := filepath.Join(root, "src")
		outside := filepath.Join(root, "secret")
		if err := os.WriteFile(outside, []byte("outside"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(src, 0o755); err != nil {
			t.Fatal(err)
		}
		dirs := []string{src}
		var made []string
		// Each entry: a kind byte, then a name up to a NUL; it is made in the last directory
		// made (the top level until a directory is made there).
		for len(data) > 0 && len(made) < 40 {
			kind := data[0] % 7
			name, rest, _ := strings.Cut(string(data[1:]), "\x00")
			data = []byte(rest)
			name = strings.ReplaceAll(name, "/", "_")
			if name == "" || name == "." || name == ".." || len(name) > 200 {
				continue
			}
			dir := dirs[len(dirs)-1]
			path := filepath.Join(dir, name)
			if _, err := os.Lstat(path); err == nil {
				continue
			}
			var err error
			switch kind {
			case 0:
				if err = os.Mkdir(path, 0o755); err == nil {
					dirs = append(dirs, path)
				}
			case 1:
				err = os.WriteFile(path, []byte(name), 0o644)
			case 2:
				err = os.WriteFile(path, nil, 0o644) // 0-byte
			case 3:
				err = os.Symlink(dir, path) // a loop
			case 4:
				err = os.Symlink(outside, path) // out of the tree
			case 5:
				err = os.Symlink(filepath.Join(src, "pyproject.toml"), path) // to a file of the tree
			case 6:
				err = os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755)
			}
			if err != nil {
				continue // a name the file system refuses
			}
			made = append(made, path)
		}
		files, err := ListSource(src)
		if err != nil {
			t.Fatalf("ListSource: %v", err)
		}
		if !slices.IsSortedFunc(files, func(a, b SourceFile) int { return strings.Compare(a.Rel, b.Rel) }) {
			t.Errorf("not sorted by path: %v", files)
		}
		seen := map[string]bool{}
		for _, f := range files {
			if seen[f.Rel] {
				t.Errorf("%q listed twice", f.Rel)
			}
			seen[f.Rel] = true
			if f.Abs != filepath.Join(src, filepath.FromSlash(f.Rel)) || strings.HasPrefix(f.Rel, "../") || strings.HasPrefix(f.Rel, "/") {
				t.Errorf("%q (%s) is not a path inside the tree", f.Rel, f.Abs)
			}
			top, _, _ := strings.Cut(f.Rel, "/")
			if !slices.Contains(SourceTopLevel, top) {
				t.Errorf("%q is not below a shipped top-level entry", f.Rel)
			}
			// Lstat of every component: a link anywhere on the path would ship what it
			// points at.
			for p := f.Abs; p != src; p = filepath.Dir(p) {
				fi, err := os.Lstat(p)
				if err != nil || fi.Mode()&os.ModeSymlink != 0 {
					t.Errorf("%q is reached through a link or is gone (%v)", f.Rel, err)
					break
				}
			}
			if fi, err := os.Lstat(f.Abs); err != nil || !fi.Mode().IsRegular() || fi.Size() != f.Size || (fi.Mode()&0o111 != 0) != f.Executable {
				t.Errorf("%q: listed %+v, on disk %v (%v)", f.Rel, f, fi, err)
			}
		}
	})
}
