package plan

import (
	"errors"
	"fmt"
	"iter"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// An agent-server checkout is a software-agent-sdk uv workspace: a root pyproject.toml whose
// [tool.uv.workspace] members include the four packages, each in a directory of its name, and
// the uv.lock pinning everything they need. The plan installs what the lock pins; the checks
// here refuse a lock that no longer describes the checkout, as `uv lock --check` would.

// uvWorkspace is what a root pyproject.toml says of its workspace.
type uvWorkspace struct {
	Project *struct {
		Name string `toml:"name"`
	} `toml:"project"`
	Tool struct {
		UV struct {
			Workspace *struct {
				Members []string `toml:"members"`
				Exclude []string `toml:"exclude"`
			} `toml:"workspace"`
		} `toml:"uv"`
	} `toml:"tool"`
	DependencyGroups map[string][]any `toml:"dependency-groups"`
}

// memberProject is what a member's pyproject.toml says of its distribution.
type memberProject struct {
	Project struct {
		Name                 string              `toml:"name"`
		Version              string              `toml:"version"`
		Dynamic              []string            `toml:"dynamic"`
		Dependencies         []string            `toml:"dependencies"`
		OptionalDependencies map[string][]string `toml:"optional-dependencies"`
	} `toml:"project"`
}

// uvLock is the part of uv.lock the checks compare with the checkout.
type uvLock struct {
	Manifest struct {
		Members          []string                   `toml:"members"`
		DependencyGroups map[string][]uvRequirement `toml:"dependency-groups"`
	} `toml:"manifest"`
	Packages []uvLockedPackage `toml:"package"`
}

// uvLockedPackage is one [[package]] of uv.lock.
type uvLockedPackage struct {
	Name     string         `toml:"name"`
	Version  string         `toml:"version"`
	Source   map[string]any `toml:"source"`
	Metadata struct {
		RequiresDist []uvRequirement `toml:"requires-dist"`
	} `toml:"metadata"`
}

// fromWorkspace tells whether the package is a project of the workspace rather than a
// distribution from an index.
func (lp uvLockedPackage) fromWorkspace() bool {
	for _, kind := range []string{"editable", "virtual", "directory"} {
		if _, ok := lp.Source[kind]; ok {
			return true
		}
	}
	return false
}

// uvRequirement is a requirement as uv.lock records one.
type uvRequirement struct {
	Name      string   `toml:"name"`
	Extras    []string `toml:"extras"`
	Specifier string   `toml:"specifier"`
	Marker    string   `toml:"marker"`
	URL       string   `toml:"url"`
}

// key is the requirement as the checks compare it: the name, extras and version specifier, and
// the project extra it belongs to. Other markers are not compared: uv rewrites them
// (python_version becomes python_full_version).
func (r uvRequirement) key() string {
	extra := ""
	if m := extraMarker.FindStringSubmatch(r.Marker); m != nil {
		extra = normalizeName(m[1])
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
		normalized[i] = normalizeName(e)
	}
	sort.Strings(normalized)
	if !strings.HasPrefix(spec, "@") {
		spec = strings.NewReplacer(" ", "", "(", "", ")", "").Replace(spec)
		parts := strings.Split(spec, ",")
		sort.Strings(parts)
		spec = strings.Join(parts, ",")
	}
	key := normalizeName(name)
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

// pyprojectRequirementKey is the key of a pyproject.toml requirement string of extra (or "").
func pyprojectRequirementKey(req, extra string) (string, error) {
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
	return requirementKey(m[1], extras, spec, normalizeName(extra)), nil
}

// workspaceMembers are the member directories of the uv workspace in dir, relative to it and
// sorted; none when its pyproject.toml declares no workspace (an OpenHands checkout).
func workspaceMembers(dir string) ([]string, error) {
	_, members, err := readWorkspace(dir)
	return members, err
}

// readWorkspace reads the root pyproject.toml in dir and finds its workspace's members.
func readWorkspace(dir string) (uvWorkspace, []string, error) {
	var root uvWorkspace
	if _, err := toml.DecodeFile(filepath.Join(dir, "pyproject.toml"), &root); err != nil {
		return root, nil, fmt.Errorf("source_dir: reading pyproject.toml: %w", err)
	}
	if root.Tool.UV.Workspace == nil {
		return root, nil, nil
	}
	var members []string
	for _, pattern := range root.Tool.UV.Workspace.Members {
		matches, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(pattern)))
		if err != nil {
			return root, nil, fmt.Errorf("source_dir: pyproject.toml: workspace member %q: %w", pattern, err)
		}
		for _, m := range matches {
			rel, _ := filepath.Rel(dir, m)
			rel = filepath.ToSlash(rel)
			excluded := slices.ContainsFunc(root.Tool.UV.Workspace.Exclude, func(p string) bool {
				ok, _ := filepath.Match(p, rel)
				return ok
			})
			// Only a directory with a project in it is a member, and only inside the checkout.
			if _, err := os.Stat(filepath.Join(m, "pyproject.toml")); err == nil && !excluded && !strings.HasPrefix(rel, "../") && rel != "." {
				members = append(members, rel)
			}
		}
	}
	sort.Strings(members)
	return root, slices.Compact(members), nil
}

// readMembers reads each member's pyproject.toml, by member directory.
func readMembers(dir string, members []string) (map[string]memberProject, error) {
	projects := map[string]memberProject{}
	for _, m := range members {
		var p memberProject
		if _, err := toml.DecodeFile(filepath.Join(dir, m, "pyproject.toml"), &p); err != nil {
			return nil, fmt.Errorf("source_dir: reading %s/pyproject.toml: %w", m, err)
		}
		projects[m] = p
	}
	return projects, nil
}

// agentServerCheckoutErrors checks an agent-server checkout in source_dir and the options that
// go with it, and sets agent_server_version to the checkout's.
func (o *Options) agentServerCheckoutErrors(groupsSet bool) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, set := range []struct {
		option, why string
		isSet       bool
	}{
		{"use_lock", "the agent-server's checkout is always installed at its uv.lock's versions", o.UseLock != nil},
		{"lock_groups", "uv.lock's development groups are never installed", groupsSet},
		{"extra_pip_packages", "everything installed from a checkout is pinned by its uv.lock: add the packages to a member's dependencies and run `uv lock`", len(o.ExtraPipPackages) > 0},
	} {
		if set.isSet {
			add("%s: not used with runtime = %q and source_dir (%s); remove %s", set.option, RuntimeAgentServer, set.why, set.option)
		}
	}
	if sourceErrs := checkSourceDir(o.SourceDir); len(sourceErrs) > 0 {
		return append(errs, sourceErrs...)
	}
	// Each pyproject.toml is read once, for the version and for the lock's comparison.
	root, members, err := readWorkspace(o.SourceDir)
	if err != nil {
		return append(errs, err)
	}
	projects, err := readMembers(o.SourceDir, members)
	if err != nil {
		return append(errs, err)
	}
	version, err := checkoutVersion(o.SourceDir, members, projects)
	if err != nil {
		return append(errs, err)
	}
	switch {
	case o.AgentServerVersion == "":
		o.AgentServerVersion = version
	case o.AgentServerVersion != version:
		add("agent_server_version: %q, but the checkout in source_dir is version %s; remove agent_server_version (a checkout installs its own version) or check out %s", o.AgentServerVersion, version, o.AgentServerVersion)
	}
	return append(errs, uvLockErrors(o.SourceDir, root, members, projects)...)
}

// checkoutVersion is the version of the software-agent-sdk checkout in dir: the one of its
// four packages, each a workspace member in a directory of its name.
func checkoutVersion(dir string, members []string, projects map[string]memberProject) (string, error) {
	versions := map[string]string{}
	for _, name := range agentServerPackages {
		if len(members) == 0 {
			return "", fmt.Errorf("source_dir: %q is not a software-agent-sdk checkout: its pyproject.toml declares no uv workspace ([tool.uv.workspace] members with the directory %s); point source_dir at the root of the SDK's repository", dir, name)
		}
		if !slices.Contains(members, name) {
			return "", fmt.Errorf("source_dir: %q is not a software-agent-sdk checkout: its pyproject.toml's [tool.uv.workspace] members do not include the directory %s (members: %s); point source_dir at the root of the SDK's repository", dir, name, strings.Join(members, ", "))
		}
		p := projects[name]
		if p.Project.Name != name {
			return "", fmt.Errorf("source_dir: %s/pyproject.toml is the project %q, not %s", name, p.Project.Name, name)
		}
		if p.Project.Version == "" {
			return "", fmt.Errorf("source_dir: %s/pyproject.toml has no static [project] version to install and check", name)
		}
		versions[name] = p.Project.Version
	}
	version := versions[agentServerPackages[0]]
	for _, name := range agentServerPackages[1:] {
		if versions[name] != version {
			return "", fmt.Errorf("source_dir: the checkout's packages are at different versions (%s %s, %s %s); upstream releases the four at one version, which the server reports and launchers check", agentServerPackages[0], version, name, versions[name])
		}
	}
	return version, nil
}

// uvLockErrors compares the uv.lock of the workspace in dir with its pyproject.toml files: the
// members, each member's version and requirements (extras included), and the root's
// dependency groups.
func uvLockErrors(dir string, root uvWorkspace, members []string, projects map[string]memberProject) []error {
	stale := func(format string, args ...any) error {
		return fmt.Errorf("source_dir: uv.lock does not match the checkout (%s); run `uv lock` in %s and use the lock it writes", fmt.Sprintf(format, args...), dir)
	}
	data, err := os.ReadFile(filepath.Join(dir, UVLockFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return []error{fmt.Errorf("source_dir: %q holds no uv.lock; the agent-server is installed from a checkout at its lock's versions: run `uv lock` there first", dir)}
		}
		return []error{fmt.Errorf("source_dir: %w", err)}
	}
	var lock uvLock
	if _, err := toml.Decode(string(data), &lock); err != nil {
		return []error{fmt.Errorf("source_dir: uv.lock cannot be read: %v; restore it from the checkout or run `uv lock`", err)}
	}
	var errs []error
	var names []string
	for _, m := range members {
		names = append(names, normalizeName(projects[m].Project.Name))
	}
	locked := make([]string, len(lock.Manifest.Members))
	for i, n := range lock.Manifest.Members {
		locked[i] = normalizeName(n)
	}
	if root.Project != nil {
		// A root with a project is a member too, which the lock lists.
		locked = slices.DeleteFunc(locked, func(n string) bool { return n == normalizeName(root.Project.Name) })
	}
	sort.Strings(names)
	sort.Strings(locked)
	if !slices.Equal(names, locked) {
		errs = append(errs, stale("the workspace's members are %s, the lock's %s", strings.Join(names, ", "), strings.Join(locked, ", ")))
	}
	for _, m := range members {
		p := projects[m]
		i := slices.IndexFunc(lock.Packages, func(lp uvLockedPackage) bool {
			return lp.fromWorkspace() && normalizeName(lp.Name) == normalizeName(p.Project.Name)
		})
		if i < 0 {
			if slices.Contains(locked, normalizeName(p.Project.Name)) || len(errs) == 0 {
				errs = append(errs, stale("%s/pyproject.toml's project %s is not in it", m, p.Project.Name))
			}
			continue
		}
		lp := lock.Packages[i]
		if slices.Contains(p.Project.Dynamic, "dependencies") || slices.Contains(p.Project.Dynamic, "optional-dependencies") {
			errs = append(errs, fmt.Errorf("source_dir: %s/pyproject.toml's dependencies are dynamic: they cannot be compared with uv.lock; declare them in [project]", m))
			continue
		}
		if p.Project.Version != "" && p.Project.Version != lp.Version {
			errs = append(errs, stale("%s/pyproject.toml is version %s, the lock has %s", m, p.Project.Version, lp.Version))
		}
		want, err := pyprojectKeys(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("source_dir: %s/pyproject.toml: %w", m, err))
			continue
		}
		got := make([]string, len(lp.Metadata.RequiresDist))
		for i, r := range lp.Metadata.RequiresDist {
			got[i] = r.key()
		}
		if d := keyDifference(want, got); d != "" {
			errs = append(errs, stale("%s/pyproject.toml: %s", m, d))
		}
	}
	if root.Project == nil {
		for _, group := range slices.Sorted(mapKeys(root.DependencyGroups, lock.Manifest.DependencyGroups)) {
			var want, got []string
			for _, item := range root.DependencyGroups[group] {
				// {include-group = "..."} tables are uv's to expand.
				if req, ok := item.(string); ok {
					key, err := pyprojectRequirementKey(req, "")
					if err != nil {
						errs = append(errs, fmt.Errorf("source_dir: pyproject.toml: dependency group %s: %w", group, err))
						continue
					}
					want = append(want, key)
				}
			}
			for _, r := range lock.Manifest.DependencyGroups[group] {
				got = append(got, r.key())
			}
			if d := keyDifference(want, got); d != "" {
				errs = append(errs, stale("pyproject.toml's dependency group %s: %s", group, d))
			}
		}
	}
	return errs
}

// pyprojectKeys are the keys of a member's requirements and its extras' requirements.
func pyprojectKeys(p memberProject) ([]string, error) {
	var keys []string
	add := func(reqs []string, extra string) error {
		for _, r := range reqs {
			k, err := pyprojectRequirementKey(r, extra)
			if err != nil {
				return err
			}
			keys = append(keys, k)
		}
		return nil
	}
	if err := add(p.Project.Dependencies, ""); err != nil {
		return nil, err
	}
	for _, extra := range slices.Sorted(maps.Keys(p.Project.OptionalDependencies)) {
		if err := add(p.Project.OptionalDependencies[extra], extra); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// keyDifference says what the checkout requires that the lock does not record and the other
// way round, or "" when they agree.
func keyDifference(want, got []string) string {
	var missing, extra []string
	for _, k := range want {
		if !slices.Contains(got, k) {
			missing = append(missing, k)
		}
	}
	for _, k := range got {
		if !slices.Contains(want, k) {
			extra = append(extra, k)
		}
	}
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "requires "+strings.Join(missing, ", ")+", which the lock does not record")
	}
	if len(extra) > 0 {
		parts = append(parts, "the lock records "+strings.Join(extra, ", ")+", which it no longer requires")
	}
	return strings.Join(parts, "; ")
}

// mapKeys are the keys of both maps.
func mapKeys[V, W any](a map[string]V, b map[string]W) iter.Seq[string] {
	return func(yield func(string) bool) {
		seen := map[string]bool{}
		for k := range a {
			seen[k] = true
			if !yield(k) {
				return
			}
		}
		for k := range b {
			if !seen[k] && !yield(k) {
				return
			}
		}
	}
}
