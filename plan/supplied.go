package plan

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
)

// MissingSumError is the error of a tool whose download needs a sum the user did not give
// (openvscode-server, whose project publishes none). A component that knows more of the
// targets, such as the builder with several platforms, may replace it with its own advice.
type MissingSumError struct {
	Tool string
	msg  string
}

func (e *MissingSumError) Error() string { return e.msg }

// SumFrom records that the sum of a tool (by its Name) was taken from another option than the
// tool's own <name>_sha256, named as the user wrote it (the builder's
// `vscode_server_sha256_by_platform["linux/arm64"]`), so that validation errors and the
// script's checksum mismatch name the option the user set. An empty option forgets it.
func (o *Options) SumFrom(tool, option string) {
	// A copy of the options (one per platform) must not change another's.
	m := maps.Clone(o.sumFrom)
	if m == nil {
		m = map[string]string{}
	}
	if option == "" {
		delete(m, tool)
	} else {
		m[tool] = option
	}
	o.sumFrom = m
}

// sumOption is the option the tool's sum is set with.
func (t Tool) sumOption(o Options) string {
	if name, ok := o.sumFrom[t.Name]; ok {
		return name
	}
	return t.Name + "_sha256"
}

// DefaultDownload is the pinned release of a tool (by its Name) for an architecture as
// `uname -m` prints it (x86_64, aarch64), for messages and docs.
func DefaultDownload(tool, machine string) (Download, bool) {
	for _, t := range Tools {
		if t.Name == tool {
			d, ok := t.Pinned[machine]
			return d, ok
		}
	}
	return Download{}, false
}

// archiveFormats are the archive formats told by their first bytes, with the command that
// unpacks each.
var archiveFormats = []struct {
	name, unpack string
	offset       int
	magic        []byte
}{
	{"gzip", "tar -xzf", 0, []byte{0x1f, 0x8b}},
	{"zip", "unzip", 0, []byte("PK\x03\x04")},
	{"xz", "tar -xJf", 0, []byte{0xfd, '7', 'z', 'X', 'Z', 0}},
	{"bzip2", "tar -xjf", 0, []byte("BZh")},
	{"zstd", "tar --zstd -xf", 0, []byte{0x28, 0xb5, 0x2f, 0xfd}},
	{"tar", "tar -xf", 257, []byte("ustar")},
}

// archiveFormat names the archive format of the file's first bytes, or "" for none.
func archiveFormat(head []byte) (name, unpack string) {
	for _, f := range archiveFormats {
		if len(head) >= f.offset+len(f.magic) && bytes.Equal(head[f.offset:f.offset+len(f.magic)], f.magic) {
			return f.name, f.unpack
		}
	}
	return "", ""
}

// suppliedErrors checks a file given with <name>_path (option). The plan installs what it is
// given: a tool's executable as it is, or a gzip tarball (the format of uv's releases and of
// openvscode-server's, so the file fetched for <name>_url serves as <name>_path unchanged),
// which the target unpacks with tar, as for a download. Other archive formats would need
// unzip, xz or bzip2 on the target, which minimal bases lack: they are refused here with the
// command that unpacks them, rather than installed as the executable. It returns what it read
// of the executable's ELF header, for the architecture check: the file's own, the tool's
// member of a tarball, or the `node` at the top of a tree's (openvscode-server's runs on it;
// the tree's own bin/openvscode-server is a script).
func (t Tool) suppliedErrors(option, path string) ([]error, executable) {
	f, err := os.Open(path)
	if err != nil {
		return []error{fmt.Errorf("%s: %s", option, statMessage(err))}, executable{}
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	format, unpack := archiveFormat(head[:n])
	exe := filepath.Base(t.Member)
	switch {
	case t.Tree && format != "gzip":
		what := "not an archive"
		if format != "" {
			what = "a " + format + " archive"
		}
		return []error{fmt.Errorf("%s: %q is %s, not a release tarball (.tar.gz): supply %s as published", option, path, what, t.defaultRelease())}, executable{}
	case format == "":
		return nil, executableOf(head[:n]) // the executable itself
	case format != "gzip":
		return []error{fmt.Errorf("%[1]s: %[2]q is a %[3]s archive, not the %[4]s executable: unpack it (%[5]s %[6]s) and set %[1]s to the %[4]s inside, "+
			"or supply a .tar.gz holding it, which the plan unpacks", option, path, format, exe, unpack, filepath.Base(path))}, executable{}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return []error{fmt.Errorf("%s: %q: %v", option, path, err)}, executable{}
	}
	found, member, err := tarHolds(f, t.Member, t.Tree)
	switch {
	case err != nil:
		return []error{fmt.Errorf("%s: %q is not a readable .tar.gz (%v): supply the release tarball as published, or the %s executable", option, path, err, exe)}, executable{}
	case !found && t.Tree:
		return []error{fmt.Errorf("%s: %q holds no %s: supply %s as published", option, path, t.Member, t.defaultRelease())}, executable{}
	case !found:
		return []error{fmt.Errorf("%[1]s: %[2]q is a .tar.gz without a file called %[3]s: supply the release tarball that holds it, or the %[3]s executable", option, path, exe)}, executable{}
	}
	return nil, executableOf(member)
}

// treeExecutable is the executable at the top of a release tree whose ELF header tells the
// tree's architecture: openvscode-server's releases run on their own `node`.
const treeExecutable = "node"

// tarHolds tells whether a gzip tarball holds a regular file at member (a path's end, for a
// tree) or, for a single executable, a file whose name is member's; head is the start of the
// executable whose architecture counts (member's, or for a tree whose member is a script, its
// treeExecutable), when found.
func tarHolds(r io.Reader, member string, tree bool) (found bool, head []byte, err error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return false, nil, err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return found, head, nil
		}
		if err != nil {
			return false, nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := strings.TrimPrefix(h.Name, "./")
		switch {
		case tree && (name == member || strings.HasSuffix(name, "/"+member)):
			found = true
			// A member that is itself the tree's executable (Node.js's bin/node) tells the
			// architecture; a script (openvscode-server's) leaves it to treeExecutable.
			memberHead, err := readHead(tr)
			if err != nil {
				return false, nil, err
			}
			if executableOf(memberHead).elf {
				head = memberHead
			}
		case tree && (name == treeExecutable || strings.Count(name, "/") == 1 && strings.HasSuffix(name, "/"+treeExecutable)):
			if head, err = readHead(tr); err != nil {
				return false, nil, err
			}
		case !tree && filepath.Base(name) == filepath.Base(member):
			head, err = readHead(tr)
			return err == nil, head, err
		}
		if found && head != nil {
			return true, head, nil
		}
	}
}

// readHead reads the first bytes of a file, enough for its ELF header.
func readHead(r io.Reader) ([]byte, error) {
	head := make([]byte, 64)
	n, err := io.ReadFull(r, head)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return head[:n], err
}
