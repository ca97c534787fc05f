package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/openhands-runtime/packer-plugin-openhands/plan/projectfile"
)

// SourceTopLevel are the entries of an OpenHands checkout that the runtime needs: the project
// metadata and the files it names (the build backend reads README.md), the lock files, the
// package and the skills (called microagents before 2025).
var SourceTopLevel = []string{"pyproject.toml", "poetry.lock", "uv.lock", "README.md", "LICENSE", "openhands", "skills", "microagents"}

// DependencyFiles decide the dependency install: the metadata and the lock files.
var DependencyFiles = []string{"pyproject.toml", "poetry.lock", "uv.lock"}

// SourceFile is one file of the shipped source tree.
type SourceFile struct {
	// Rel is the slash-separated path below the checkout.
	Rel        string
	Abs        string
	Executable bool
	Size       int64
	// Dependency tells whether the file decides the dependency install: one of
	// DependencyFiles at the root, or a workspace member's pyproject.toml.
	Dependency bool
}

// skipSource tells whether a path is left out of the runtime: hidden entries, bytecode caches
// and compiled files differ between machines and are rebuilt where needed.
func skipSource(name string, isDir bool) bool {
	if strings.HasPrefix(name, ".") {
		return true
	}
	if isDir {
		return name == "__pycache__"
	}
	return strings.HasSuffix(name, ".pyc")
}

// ListSource returns the files of dir that the runtime ships, sorted by path: the entries of
// SourceTopLevel and the members of its uv workspace, if it is one (an agent-server
// checkout).
func ListSource(dir string) ([]SourceFile, error) {
	// A pyproject.toml that cannot be read declares no members here: validation says why.
	members, _ := projectfile.WorkspaceMembers(dir)
	var files []SourceFile
	for _, top := range slices.Concat(SourceTopLevel, members) {
		root := filepath.Join(dir, top)
		if _, err := os.Lstat(root); os.IsNotExist(err) {
			continue
		}
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != root && skipSource(d.Name(), d.IsDir()) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil // symlinks and devices are not part of a source tree
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, path)
			rel = filepath.ToSlash(rel)
			dependency := slices.Contains(DependencyFiles, rel) || slices.ContainsFunc(members, func(m string) bool { return rel == m+"/pyproject.toml" })
			files = append(files, SourceFile{Rel: rel, Abs: path, Executable: info.Mode()&0o111 != 0, Size: info.Size(), Dependency: dependency})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading source_dir: %w", err)
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Rel < files[j].Rel })
	return files, nil
}

// sourceDigest digests the source tree and, apart, its dependency files: path, executable
// bit, size and content of each file in path order, so the digest is the same on every
// machine whatever the order files were created in.
type sourceDigest struct{ tree, deps hash.Hash }

func newSourceDigest() *sourceDigest { return &sourceDigest{tree: sha256.New(), deps: sha256.New()} }

// file starts a file and returns the writer its content must be fed to.
func (d *sourceDigest) file(f SourceFile) io.Writer {
	sinks := []io.Writer{d.tree}
	if f.Dependency {
		sinks = append(sinks, d.deps)
	}
	for _, h := range sinks {
		fmt.Fprintf(h, "%s\x00%t\x00%d\x00", f.Rel, f.Executable, f.Size)
	}
	return io.MultiWriter(sinks...)
}

func (d *sourceDigest) fill(in *Inputs) {
	in.SourceTree = hex.EncodeToString(d.tree.Sum(nil))
	in.DependencyFiles = hex.EncodeToString(d.deps.Sum(nil))
}

// FileSHA256 is the hex SHA-256 of a local file.
func FileSHA256(path string) (string, error) {
	h := sha256.New()
	if err := hashFileInto(h, path); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFileInto(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// ComputeInputs digests what the plan installs, reading the files from the machine running
// Packer; WriteBundle computes the same while it packs them.
func ComputeInputs(o Options, files []SourceFile) (Inputs, error) {
	var in Inputs
	d := newSourceDigest()
	for _, f := range files {
		if err := hashFileInto(d.file(f), f.Abs); err != nil {
			return in, fmt.Errorf("source_dir: %w", err)
		}
	}
	d.fill(&in)
	li, err := ReadLockInstall(o)
	if err != nil {
		return in, err
	}
	if li != nil {
		in.Lock = li.digest()
	}
	for _, t := range Tools {
		for _, f := range t.suppliedFiles(o) {
			sum, err := FileSHA256(f.path)
			if err != nil {
				return in, fmt.Errorf("%s: %w", f.option, err)
			}
			in.supply(f.key, sum)
		}
	}
	return in, nil
}
