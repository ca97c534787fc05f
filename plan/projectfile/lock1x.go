package projectfile

import (
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Poetry 1.x (1.5 to 1.8) writes lock-version 2.0: its packages name no groups. Poetry 1.x
// itself decides what to install by walking the lock's dependency graph from the groups'
// requirements in pyproject.toml, so the plugin does the same and writes each package's
// groups and per-group markers into the lock as a 2.1 lock holds them; Select, the
// constraints and the expected versions then work as for a 2.1 lock. Walking (rather than
// letting uv resolve the groups' requirements within pins of every package) keeps the
// expected versions exact: a package only another group or an unrequested extra brings in
// is not expected in the runtime.
const legacyLockVersion = "2.0"

// maxMarkerPaths bounds the markers kept per package and group, as paths through a graph
// can grow exponentially in number.
const maxMarkerPaths = 8

// legacyDependency is one requirement of a Poetry 1.x lock or pyproject.toml: a version
// string, or a table with markers, extras and optional.
type legacyDependency struct {
	name     string
	marker   string
	extras   []string
	optional bool
}

// legacyDependencies reads a table of Poetry dependencies; a name may hold a list of
// tables (one per marker), each a requirement of its own.
func legacyDependencies(table map[string]any) []legacyDependency {
	var out []legacyDependency
	for _, name := range slices.Sorted(maps.Keys(table)) {
		if strings.EqualFold(name, "python") {
			continue
		}
		entries, ok := table[name].([]any)
		if !ok {
			entries = []any{table[name]}
		}
		for _, e := range entries {
			d := legacyDependency{name: NormalizeName(name)}
			if t, ok := e.(map[string]any); ok {
				d.marker, _ = t["markers"].(string)
				d.optional, _ = t["optional"].(bool)
				for _, x := range asList(t["extras"]) {
					d.extras = append(d.extras, NormalizeName(x))
				}
			}
			out = append(out, d)
		}
	}
	return out
}

func asList(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, item := range list {
		if s, ok := item.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// NormalizeName is a distribution name as PEP 503 compares them.
func NormalizeName(name string) string {
	return strings.ToLower(nameSeparators.ReplaceAllString(name, "-"))
}

var (
	nameSeparators = regexp.MustCompile(`[-_.]+`)
	// extraRequirementName is the name at the start of a [package.extras] entry such as
	// "PySocks (>=1.5.6,!=1.5.7)".
	extraRequirementName = regexp.MustCompile(`^\s*([A-Za-z0-9][A-Za-z0-9._-]*)`)
)

// legacyGroupRoots are the requirements of each group of a Poetry 1.x pyproject.toml: main
// from [tool.poetry.dependencies] (an optional one only comes with an extra of the project,
// which the install never asks for), each [tool.poetry.group.NAME.dependencies], and the
// legacy dev-dependencies as group dev, as Poetry 1.x reads them.
func legacyGroupRoots(pyproject map[string]any) map[string][]legacyDependency {
	roots := map[string][]legacyDependency{}
	poetry, _ := dig(pyproject, "tool", "poetry").(map[string]any)
	deps, _ := poetry["dependencies"].(map[string]any)
	for _, d := range legacyDependencies(deps) {
		if !d.optional {
			roots["main"] = append(roots["main"], d)
		}
	}
	groups, _ := poetry["group"].(map[string]any)
	for _, g := range slices.Sorted(maps.Keys(groups)) {
		table, _ := dig(groups, g, "dependencies").(map[string]any)
		roots[g] = append(roots[g], legacyDependencies(table)...)
	}
	if dev, ok := poetry["dev-dependencies"].(map[string]any); ok {
		roots["dev"] = append(roots["dev"], legacyDependencies(dev)...)
	}
	return roots
}

// AssignLegacyGroups fills each package's groups and per-group markers of a lock-version 2.0
// lock by walking its graph from the groups' requirements in pyproject.toml. A package's
// marker in a group is the disjunction of the conjunctions of the markers along each path
// to it; one path without markers makes it unconditional. Optional dependencies are
// followed only for the extras a requirement names.
func (l *PoetryLock) AssignLegacyGroups(pyproject map[string]any) {
	index := map[string]int{}
	for i, p := range l.Packages {
		index[NormalizeName(p.Name)] = i
	}
	roots := legacyGroupRoots(pyproject)
	for _, g := range slices.Sorted(maps.Keys(roots)) {
		// paths[i] holds the markers under which group g reaches package i; "" is always.
		paths := map[int][]string{}
		var visit func(d legacyDependency, marker string)
		visit = func(d legacyDependency, marker string) {
			i, ok := index[d.name]
			if !ok {
				return
			}
			marker = andMarkers(marker, d.marker)
			known := paths[i]
			if slices.Contains(known, marker) || slices.Contains(known, "") {
				return
			}
			if marker == "" || len(known) >= maxMarkerPaths {
				// Past maxMarkerPaths paths the disjunction is taken as always: the
				// expected versions may then name a package a platform skips, never
				// leave out one it installs.
				paths[i] = []string{""}
			} else {
				paths[i] = append(known, marker)
			}
			p := l.Packages[i]
			for _, dep := range legacyDependencies(p.Dependencies) {
				if dep.optional && !extraBrings(p.Extras, d.extras, dep.name) {
					continue
				}
				// An extra's marker (extra == "socks") is met by asking for the extra.
				if dep.optional {
					dep.marker = ""
				}
				visit(dep, marker)
			}
		}
		for _, d := range roots[g] {
			visit(d, "")
		}
		for i, markers := range paths {
			p := &l.Packages[i]
			p.Groups = append(p.Groups, g)
			table, _ := p.Markers.(map[string]any)
			if table == nil {
				table = map[string]any{}
			}
			if len(markers) == 1 && markers[0] != "" {
				table[g] = markers[0]
			} else if len(markers) > 1 {
				table[g] = "(" + strings.Join(markers, ") or (") + ")"
			}
			if len(table) > 0 {
				p.Markers = table
			}
		}
	}
	for i := range l.Packages {
		slices.Sort(l.Packages[i].Groups)
	}
}

// extraBrings tells whether one of the extras asked for lists the package.
func extraBrings(extras map[string]any, asked []string, name string) bool {
	for x, reqs := range extras {
		if !slices.Contains(asked, NormalizeName(x)) {
			continue
		}
		for _, r := range asList(reqs) {
			if m := extraRequirementName.FindStringSubmatch(r); m != nil && NormalizeName(m[1]) == name {
				return true
			}
		}
	}
	return false
}

// andMarkers is the conjunction of two markers, either of which may be "" (always).
func andMarkers(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "" || a == b:
		return a
	}
	return "(" + a + ") and (" + b + ")"
}
