package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/pelletier/go-toml/v2"
)

// Lock files a checkout may carry. Only Poetry's is read: uv.lock is refused (see lockErrors).
const (
	PoetryLockFile = "poetry.lock"
	UVLockFile     = "uv.lock"
)

// DefaultLockGroups are the groups upstream installed (`poetry install --only main,runtime`).
var DefaultLockGroups = []string{"main", "runtime"}

// PoetryLock is what the plan reads of a poetry.lock of format 2.1 or later: the first
// format whose packages name their dependency groups and per-group markers.
type PoetryLock struct {
	Packages []LockedPackage `toml:"package"`
	Metadata struct {
		LockVersion string `toml:"lock-version"`
		ContentHash string `toml:"content-hash"`
	} `toml:"metadata"`
}

// LockedPackage is one [[package]] of a poetry.lock.
type LockedPackage struct {
	Name     string   `toml:"name"`
	Version  string   `toml:"version"`
	Optional bool     `toml:"optional"`
	Groups   []string `toml:"groups"`
	// Markers is a string for every group, or a table of markers by group; a group the
	// table leaves out installs the package unconditionally.
	Markers any `toml:"markers"`
	Files   []struct {
		File string `toml:"file"`
		Hash string `toml:"hash"`
	} `toml:"files"`
	Source *struct {
		Type              string `toml:"type"`
		URL               string `toml:"url"`
		ResolvedReference string `toml:"resolved_reference"`
		Subdirectory      string `toml:"subdirectory"`
	} `toml:"source"`
}

// ParsePoetryLock reads a poetry.lock, refusing formats without dependency groups.
func ParsePoetryLock(data []byte) (*PoetryLock, error) {
	var l PoetryLock
	if err := toml.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("not a readable poetry.lock: %w", err)
	}
	major, minor, ok := strings.Cut(l.Metadata.LockVersion, ".")
	mj, err1 := strconv.Atoi(major)
	mn, err2 := strconv.Atoi(minor)
	if !ok || err1 != nil || err2 != nil || mj != 2 || mn < 1 {
		return nil, fmt.Errorf("lock-version %q is not supported (2.1 or a later 2.x, written by Poetry 2, names each package's groups)", l.Metadata.LockVersion)
	}
	if !SHA256Pattern.MatchString(l.Metadata.ContentHash) {
		return nil, fmt.Errorf("[metadata] content-hash %q is not a SHA-256", l.Metadata.ContentHash)
	}
	for i, p := range l.Packages {
		if p.Name == "" || p.Version == "" {
			return nil, fmt.Errorf("[[package]] %d has no name or version", i+1)
		}
		switch p.Markers.(type) {
		case nil, string, map[string]any:
		default:
			return nil, fmt.Errorf("package %s: markers is neither a string nor a table by group", p.Name)
		}
	}
	return &l, nil
}

// Groups lists every group the lock names, sorted.
func (l *PoetryLock) Groups() []string {
	seen := map[string]bool{}
	for _, p := range l.Packages {
		for _, g := range p.Groups {
			seen[g] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// Pin is a locked package chosen for the install, with the marker under which any of the
// chosen groups installs it ("" for always).
type Pin struct {
	LockedPackage
	Marker string
}

// Select returns the packages of the lock that belong to any of groups, in lock order.
func (l *PoetryLock) Select(groups []string) []Pin {
	var out []Pin
	for _, p := range l.Packages {
		var markers []string
		in, always := false, false
		for _, g := range p.Groups {
			if !slices.Contains(groups, g) {
				continue
			}
			in = true
			switch m := p.Markers.(type) {
			case string:
				markers = appendUnique(markers, m)
			case map[string]any:
				s, ok := m[g].(string)
				if !ok {
					always = true
				}
				markers = appendUnique(markers, s)
			default:
				always = true
			}
		}
		if !in {
			continue
		}
		pin := Pin{LockedPackage: p}
		if !always && len(markers) == 1 {
			pin.Marker = markers[0]
		} else if !always {
			pin.Marker = "(" + strings.Join(markers, ") or (") + ")"
		}
		out = append(out, pin)
	}
	return out
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// requirement is the pin as a requirement line: name==version, or name @ URL for a package
// from a git repository or a URL; local directories and files are refused by lockErrors.
func (p Pin) requirement() string {
	if p.Source != nil {
		switch p.Source.Type {
		case "git":
			req := p.Name + " @ git+" + p.Source.URL + "@" + p.Source.ResolvedReference
			if p.Source.Subdirectory != "" {
				req += "#subdirectory=" + p.Source.Subdirectory
			}
			return req
		case "url":
			return p.Name + " @ " + p.Source.URL
		}
	}
	return p.Name + "==" + p.Version
}

// localSource tells whether the package comes from the machine that wrote the lock.
func (p Pin) localSource() bool {
	return p.Source != nil && (p.Source.Type == "directory" || p.Source.Type == "file")
}

// constraintLine renders the pin for uv's constraints file. A package that an extra brings
// in (optional, or a marker naming an extra) is pinned unconditionally: uv would evaluate the
// extra as absent and drop the pin, while a constraint never installs anything by itself,
// so the pin only matters when an extra_pip_packages entry asks for the package.
func (p Pin) constraintLine(hashes bool) string {
	line := p.requirement()
	if p.Marker != "" && !p.Optional && !strings.Contains(p.Marker, "extra") {
		line += " ; " + p.Marker
	}
	if hashes {
		for _, f := range p.Files {
			if algo, sum, ok := strings.Cut(f.Hash, ":"); ok && algo == "sha256" {
				line += " --hash=sha256:" + sum
			}
		}
	}
	return line
}

// LockInstall is what the lock adds to the dependency install, as the files shipped with the
// plan under BundleLock: uv's constraints, the chosen groups' own requirements that package
// metadata does not carry, and the versions the verification expects.
type LockInstall struct {
	Constraints  []byte
	Requirements []byte
	Expected     []byte
}

// BundleLock is the directory of the LockInstall files next to plan.sh; the lock step copies
// them to $OH_PREFIX/lock, where the runtime user's install and the checks read them.
const BundleLock = "lock"

// Names of the LockInstall files.
const (
	LockConstraintsFile  = "constraints.txt"
	LockRequirementsFile = "requirements.txt"
	LockExpectedFile     = "expected.txt"
)

// Files lists the LockInstall files, name and content, in a fixed order.
func (li *LockInstall) Files() [][2]string {
	return [][2]string{
		{LockConstraintsFile, string(li.Constraints)},
		{LockRequirementsFile, string(li.Requirements)},
		{LockExpectedFile, string(li.Expected)},
	}
}

// digest is the LockInstall's part of the stamps and content tags.
func (li *LockInstall) digest() string {
	var parts []string
	for _, f := range li.Files() {
		parts = append(parts, f[0], f[1])
	}
	return digest(parts...)
}

// lockHeader starts every LockInstall file.
const lockHeader = "# Generated by packer-plugin-openhands from poetry.lock (groups: %s); Poetry is never run.\n"

// ReadLockInstall renders the LockInstall of a checkout for the options, or nil when the
// options do not use the lock. Options must have been prepared.
func ReadLockInstall(o Options) (*LockInstall, error) {
	if !o.lockInUse() {
		return nil, nil
	}
	lock, pyproject, err := readLockPair(o.SourceDir)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(lockErrors(o, lock, pyproject)...); err != nil {
		return nil, err
	}
	pins := lock.Select(o.LockGroups)
	head := fmt.Sprintf(lockHeader, strings.Join(o.LockGroups, ", "))
	constraints, expected := head, head
	for _, p := range pins {
		constraints += p.constraintLine(*o.LockVerifyHashes) + "\n"
		// Extras are never installed, so the packages only they bring are not expected.
		if !p.Optional {
			expected += p.requirement()
			if p.Marker != "" {
				expected += " ; " + p.Marker
			}
			expected += "\n"
		}
	}
	requirements := head
	for _, r := range groupRequirements(pyproject, o.LockGroups) {
		requirements += r + "\n"
	}
	return &LockInstall{Constraints: []byte(constraints), Requirements: []byte(requirements), Expected: []byte(expected)}, nil
}

// readLockPair reads and parses poetry.lock and pyproject.toml of a checkout.
func readLockPair(dir string) (*PoetryLock, map[string]any, error) {
	data, err := os.ReadFile(filepath.Join(dir, PoetryLockFile))
	if err != nil {
		return nil, nil, fmt.Errorf("use_lock: %s", statMessage(err))
	}
	lock, err := ParsePoetryLock(data)
	if err != nil {
		return nil, nil, fmt.Errorf("use_lock: %s: %w", filepath.Join(dir, PoetryLockFile), err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "pyproject.toml"))
	if err != nil {
		return nil, nil, fmt.Errorf("use_lock: %s", statMessage(err))
	}
	var pyproject map[string]any
	if err := toml.Unmarshal(raw, &pyproject); err != nil {
		return nil, nil, fmt.Errorf("use_lock: %s is not valid TOML: %w", filepath.Join(dir, "pyproject.toml"), err)
	}
	return lock, pyproject, nil
}

// lockErrors are the reasons a lock cannot pin the install, each with its fix.
func lockErrors(o Options, lock *PoetryLock, pyproject map[string]any) []error {
	var errs []error
	want, err := PoetryContentHash(pyproject)
	if err != nil {
		errs = append(errs, fmt.Errorf("use_lock: %w", err))
	} else if want != lock.Metadata.ContentHash {
		errs = append(errs, fmt.Errorf("use_lock: %s does not match %s: its content-hash is %s, the project's dependencies hash to %s; "+
			"run `poetry lock` on a machine where Poetry works and commit the new lock, or set use_lock = false to install from pyproject.toml alone",
			PoetryLockFile, "pyproject.toml", lock.Metadata.ContentHash, want))
	}
	known := lock.Groups()
	for _, g := range o.LockGroups {
		if !slices.Contains(known, g) {
			errs = append(errs, fmt.Errorf("lock_groups: %q is not a group of %s, which has %s", g, PoetryLockFile, strings.Join(known, ", ")))
		}
	}
	for _, p := range lock.Select(o.LockGroups) {
		if p.localSource() {
			errs = append(errs, fmt.Errorf("use_lock: package %s is locked from a local %s (%s), which the target does not have; remove it from lock_groups' groups or set use_lock = false",
				p.Name, p.Source.Type, p.Source.URL))
		}
	}
	return errs
}

// groupRequirements are the direct requirements of the chosen groups other than main, which
// package metadata never carries: Poetry's [tool.poetry.group.NAME.dependencies] (by name,
// the lock pins the version) and PEP 735 [dependency-groups].
func groupRequirements(pyproject map[string]any, groups []string) []string {
	var out []string
	poetry, _ := dig(pyproject, "tool", "poetry").(map[string]any)
	pep735, _ := pyproject["dependency-groups"].(map[string]any)
	for _, g := range groups {
		if g == "main" {
			continue
		}
		deps, _ := dig(poetry, "group", g, "dependencies").(map[string]any)
		for _, name := range slices.Sorted(maps.Keys(deps)) {
			if !strings.EqualFold(name, "python") {
				out = appendUnique(out, name)
			}
		}
		list, _ := pep735[g].([]any)
		for _, r := range list {
			if s, ok := r.(string); ok {
				out = appendUnique(out, s)
			}
		}
	}
	return out
}

// dig walks nested tables, returning nil where a key is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// Keys of pyproject.toml that Poetry's content-hash covers (poetry's Locker: the legacy keys
// are hashed as null when absent, unless the project uses the [project] table).
var (
	contentHashLegacyKeys  = []string{"dependencies", "source", "extras", "dev-dependencies"}
	contentHashPoetryKeys  = append(append([]string(nil), contentHashLegacyKeys...), "group")
	contentHashProjectKeys = []string{"requires-python", "dependencies", "optional-dependencies"}
)

// PoetryContentHash computes the content-hash Poetry 2 writes to poetry.lock for a parsed
// pyproject.toml: the SHA-256 of Python's json.dumps(relevant, sort_keys=True), where
// relevant holds the dependency sections of [project], [tool.poetry] and
// [dependency-groups].
func PoetryContentHash(pyproject map[string]any) (string, error) {
	project, _ := pyproject["project"].(map[string]any)
	poetry, _ := dig(pyproject, "tool", "poetry").(map[string]any)
	relevantProject := map[string]any{}
	for _, k := range contentHashProjectKeys {
		if v, ok := project[k]; ok && v != nil {
			relevantProject[k] = v
		}
	}
	relevantPoetry := map[string]any{}
	for _, k := range contentHashPoetryKeys {
		v, ok := poetry[k]
		if !ok && (!slices.Contains(contentHashLegacyKeys, k) || len(relevantProject) > 0) {
			continue
		}
		relevantPoetry[k] = v
	}
	var relevant map[string]any
	if len(relevantProject) > 0 {
		relevant = map[string]any{"project": relevantProject, "tool": map[string]any{"poetry": relevantPoetry}}
		if groups, ok := pyproject["dependency-groups"].(map[string]any); ok && len(groups) > 0 {
			relevant["dependency-groups"] = groups
		}
	} else {
		// Without [project], Poetry hashes the [tool.poetry] keys at the top level.
		relevant = relevantPoetry
	}
	var b strings.Builder
	if err := pythonJSON(&b, relevant); err != nil {
		return "", fmt.Errorf("cannot compute Poetry's content-hash of pyproject.toml: %w", err)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:]), nil
}

// pythonJSON writes v as Python's json.dumps(v, sort_keys=True) does with its defaults:
// ", " and ": " separators, every non-ASCII character escaped.
func pythonJSON(b *strings.Builder, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case string:
		pythonJSONString(b, v)
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case float64:
		b.WriteString(pythonFloat(v))
	case []any:
		b.WriteString("[")
		for i, item := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := pythonJSON(b, item); err != nil {
				return err
			}
		}
		b.WriteString("]")
	case map[string]any:
		b.WriteString("{")
		// Byte order of UTF-8 is code point order, as Python sorts.
		for i, k := range slices.Sorted(maps.Keys(v)) {
			if i > 0 {
				b.WriteString(", ")
			}
			pythonJSONString(b, k)
			b.WriteString(": ")
			if err := pythonJSON(b, v[k]); err != nil {
				return err
			}
		}
		b.WriteString("}")
	default:
		// TOML dates and times: json.dumps itself refuses them, so Poetry cannot lock such a file.
		return fmt.Errorf("a %T value, which Poetry's hash cannot hold", v)
	}
	return nil
}

func pythonJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\u%04x\u%04x`, hi, lo)
		default:
			fmt.Fprintf(b, `\u%04x`, r)
		}
	}
	b.WriteByte('"')
}

// pythonFloat is Python's repr of a float: positional from 1e-4 up to 1e16, with ".0" when
// integral; otherwise exponent notation such as 1e+16 and 1.5e-05.
func pythonFloat(f float64) string {
	if abs := math.Abs(f); abs != 0 && (abs < 1e-4 || abs >= 1e16) {
		return pythonExponent(strconv.FormatFloat(f, 'e', -1, 64))
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// pythonExponent pads a Go exponent to Python's at least two digits (1e+16, 1.5e-05).
func pythonExponent(s string) string {
	mant, exp, _ := strings.Cut(s, "e")
	sign, digits := exp[:1], strings.TrimLeft(exp[1:], "0")
	if len(digits) < 2 {
		digits = strings.Repeat("0", 2-len(digits)) + digits
	}
	return mant + "e" + sign + digits
}

// hasLockFile tells whether a checkout carries a lock file the plugin knows.
func hasLockFile(dir string) bool {
	for _, name := range []string{PoetryLockFile, UVLockFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	return false
}

// lockInUse tells whether the dependency install is pinned to poetry.lock.
func (o Options) lockInUse() bool { return o.UseLock != nil && *o.UseLock }

// lockOptionErrors checks use_lock and lock_groups against the checkout; groupsSet tells
// whether lock_groups was set by the user rather than defaulted.
func (o *Options) lockOptionErrors(groupsSet bool) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(o.LockGroups) == 0 {
		if groupsSet {
			add("lock_groups: empty; name the groups of poetry.lock to install, or leave it unset for %s", strings.Join(DefaultLockGroups, ", "))
		}
		o.LockGroups = append([]string(nil), DefaultLockGroups...)
	}
	for i, g := range o.LockGroups {
		if !packagePattern.MatchString(g) {
			add("lock_groups[%d]: %q is not a group name", i, g)
		}
	}
	if !o.lockInUse() {
		if groupsSet {
			add("lock_groups: set, but use_lock = false installs from pyproject.toml without the lock; remove one of them")
		}
		return errs
	}
	if _, err := os.Stat(filepath.Join(o.SourceDir, PoetryLockFile)); err != nil {
		if _, uvErr := os.Stat(filepath.Join(o.SourceDir, UVLockFile)); uvErr == nil {
			add("use_lock: %q holds uv.lock, which the plugin does not read yet (only poetry.lock is); set use_lock = false to install from pyproject.toml without pinning", o.SourceDir)
		} else {
			add("use_lock: %q holds no poetry.lock to pin the install to; add the lock or set use_lock = false", o.SourceDir)
		}
		return errs
	}
	if len(errs) > 0 {
		return errs
	}
	lock, pyproject, err := readLockPair(o.SourceDir)
	if err != nil {
		return append(errs, err)
	}
	return append(errs, lockErrors(*o, lock, pyproject)...)
}
