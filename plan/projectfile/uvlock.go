package projectfile

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// An agent-server checkout is a software-agent-sdk uv workspace: a root pyproject.toml whose
// [tool.uv.workspace] members include the four packages, each in a directory of its name, and
// the uv.lock pinning everything they need. What the checks compare of the lock with the
// checkout is read here; the comparison is the plan's.

// UVLock is the part of uv.lock the checks compare with the checkout.
type UVLock struct {
	Manifest struct {
		Members          []string                   `toml:"members"`
		DependencyGroups map[string][]UVRequirement `toml:"dependency-groups"`
	} `toml:"manifest"`
	Packages []UVLockedPackage `toml:"package"`
}

// UVLockedPackage is one [[package]] of uv.lock.
type UVLockedPackage struct {
	Name     string         `toml:"name"`
	Version  string         `toml:"version"`
	Source   map[string]any `toml:"source"`
	Metadata struct {
		RequiresDist []UVRequirement `toml:"requires-dist"`
	} `toml:"metadata"`
}

// FromWorkspace tells whether the package is a project of the workspace rather than a
// distribution from an index.
func (lp UVLockedPackage) FromWorkspace() bool {
	for _, kind := range []string{"editable", "virtual", "directory"} {
		if _, ok := lp.Source[kind]; ok {
			return true
		}
	}
	return false
}

// UVRequirement is a requirement as uv.lock records one.
type UVRequirement struct {
	Name      string   `toml:"name"`
	Extras    []string `toml:"extras"`
	Specifier string   `toml:"specifier"`
	Marker    string   `toml:"marker"`
	URL       string   `toml:"url"`
}

// Key is the requirement as the checks compare it: the name, extras and version specifier, and
// the project extra it belongs to. Other markers are not compared: uv rewrites them
// (python_version becomes python_full_version).
func (r UVRequirement) Key() string {
	extra := ""
	if m := extraMarker.FindStringSubmatch(r.Marker); m != nil {
		extra = NormalizeName(m[1])
	}
	spec := r.Specifier
	if r.URL != "" {
		spec = "@" + r.URL
	}
	return requirementKey(r.Name, r.Extras, spec, extra)
}

var extraMarker = regexp.MustCompile(`extra\s*==\s*['"]([^'"]+)['"]`)

// requirementKey renders the compared parts the same way for both sides.
func requirementKey(name string, extras []string, spec, extra string) string {
	normalized := make([]string, len(extras))
	for i, e := range extras {
		normalized[i] = NormalizeName(e)
	}
	sort.Strings(normalized)
	if !strings.HasPrefix(spec, "@") {
		spec = strings.NewReplacer(" ", "", "(", "", ")", "").Replace(spec)
		parts := strings.Split(spec, ",")
		sort.Strings(parts)
		spec = strings.Join(parts, ",")
	}
	key := NormalizeName(name)
	if len(normalized) > 0 {
		key += "[" + strings.Join(normalized, ",") + "]"
	}
	key += spec
	if extra != "" {
		key += " (extra " + extra + ")"
	}
	return key
}

// pep508Head splits a requirement string into its name, extras and the rest.
var pep508Head = regexp.MustCompile(`^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[([^\]]*)\])?\s*(.*)$`)

// PyprojectRequirementKey is the key of a pyproject.toml requirement string of extra (or "").
func PyprojectRequirementKey(req, extra string) (string, error) {
	m := pep508Head.FindStringSubmatch(req)
	if m == nil {
		return "", fmt.Errorf("%q is not a requirement", req)
	}
	var extras []string
	for _, e := range strings.Split(m[2], ",") {
		if e = strings.TrimSpace(e); e != "" {
			extras = append(extras, e)
		}
	}
	spec, _, _ := strings.Cut(m[3], ";")
	spec = strings.TrimSpace(spec)
	if url, ok := strings.CutPrefix(spec, "@"); ok {
		spec = "@" + strings.TrimSpace(url)
	}
	return requirementKey(m[1], extras, spec, NormalizeName(extra)), nil
}

// ParseUVLock reads the parts of a uv.lock that the checks compare with the checkout.
func ParseUVLock(data []byte) (UVLock, error) {
	var lock UVLock
	err := toml.Unmarshal(data, &lock)
	return lock, err
}
