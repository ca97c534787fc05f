// Command mutate applies named mutations (small breaking changes to production code) one at a
// time to a copy of the work tree, runs the tests named for each, and reports which were
// caught. `make mutation` runs it on scripts/mutations.txt; every mutation must be caught.
//
// The list holds blocks separated by blank lines, one `key: value` a line:
//
//	name: what the mutation breaks
//	file: path/in/the/module.go
//	old: the exact text it replaces (must occur exactly once)
//	new: what it puts there instead (may be empty)
//	test: go test arguments, such as ./plan -run TestFix
//
// Lines starting with # are comments. A mutation whose old text is not found once, or that
// does not build, is reported as invalid: the list has gone stale.
package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

type mutation struct {
	name, file, old, new, test string
	hasNew                     bool
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./scripts/mutate LIST")
		os.Exit(2)
	}
	list, err := readList(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(2)
	}
	work, err := copyTree()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate: copying the work tree:", err)
		os.Exit(2)
	}
	defer os.RemoveAll(work)

	failed := 0
	fmt.Printf("| mutation | result | caught by |\n|---|---|---|\n")
	for _, m := range list {
		result, by := run(work, m)
		if result != "caught" {
			failed++
		}
		fmt.Printf("| %s | %s | %s |\n", m.name, result, by)
	}
	fmt.Printf("\n%d of %d mutations caught\n", len(list)-failed, len(list))
	if failed > 0 {
		os.Exit(1)
	}
}

func readList(path string) ([]mutation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mutation
	var cur mutation
	flush := func(line int) error {
		if cur == (mutation{}) {
			return nil
		}
		if cur.name == "" || cur.file == "" || cur.old == "" || !cur.hasNew || cur.test == "" {
			return fmt.Errorf("%s: the block ending at line %d needs name, file, old, new and test", path, line)
		}
		out = append(out, cur)
		cur = mutation{}
		return nil
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if strings.TrimSpace(line) == "" {
			if err := flush(n); err != nil {
				return nil, err
			}
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want key: value", path, n)
		}
		value = strings.TrimPrefix(value, " ")
		switch key {
		case "name":
			cur.name = value
		case "file":
			cur.file = value
		case "old":
			cur.old = value
		case "new":
			cur.new, cur.hasNew = value, true
		case "test":
			cur.test = value
		default:
			return nil, fmt.Errorf("%s:%d: unknown key %q", path, n, key)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, flush(n)
}

// copyTree copies the files git knows of (tracked, and untracked ones it does not ignore) to
// a temporary directory, so the work tree itself is never changed.
func copyTree() (string, error) {
	out, err := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "openhands-mutation-")
	if err != nil {
		return "", err
	}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		fi, err := os.Lstat(name)
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the work tree, or not a file
		}
		data, err := os.ReadFile(name)
		if err != nil {
			return dir, err
		}
		target := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return dir, err
		}
		if err := os.WriteFile(target, data, fi.Mode().Perm()); err != nil {
			return dir, err
		}
	}
	return dir, nil
}

var failedTest = regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+)`)

// run applies m in work, runs its tests and restores the file.
func run(work string, m mutation) (result, by string) {
	path := filepath.Join(work, m.file)
	orig, err := os.ReadFile(path)
	if err != nil {
		return "invalid", err.Error()
	}
	if n := bytes.Count(orig, []byte(m.old)); n != 1 {
		return "invalid", fmt.Sprintf("the old text occurs %d times in %s", n, m.file)
	}
	if err := os.WriteFile(path, bytes.Replace(orig, []byte(m.old), []byte(m.new), 1), 0o644); err != nil {
		return "invalid", err.Error()
	}
	defer os.WriteFile(path, orig, 0o644)

	if strings.HasSuffix(m.file, ".go") {
		build := exec.Command("go", "build", "./...")
		build.Dir = work
		if out, err := build.CombinedOutput(); err != nil {
			return "invalid", "does not build: " + firstLine(out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append([]string{"test", "-count=1"}, strings.Fields(m.test)...)...)
	cmd.Dir = work
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err == nil {
		return "SURVIVED", "`go test " + m.test + "` passed"
	}
	var names []string
	for _, f := range failedTest.FindAllStringSubmatch(out.String(), -1) {
		if !strings.Contains(f[1], "/") {
			names = append(names, f[1])
		}
	}
	if len(names) == 0 {
		return "caught", "go test failed: " + firstLine(out.Bytes())
	}
	return "caught", strings.Join(names, ", ")
}

func firstLine(b []byte) string {
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return line
}
