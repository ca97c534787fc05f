package plan

import (
	"errors"
	"fmt"
	"iter"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/openhands-runtime/packer-plugin-openhands/plan/projectfile"
)

// An agent-server checkout is a software-agent-sdk uv workspace: a root pyproject.toml whose
// [tool.uv.workspace] members include the four packages, each in a directory of its name, and
// the uv.lock pinning everything they need. The plan installs what the lock pins; the checks
// here refuse a lock that no longer describes the checkout, as `uv lock --check` would.

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
	root, members, err := projectfile.ReadWorkspace(o.SourceDir)
	if err != nil {
		return append(errs, fmt.Errorf("source_dir: %w", err))
	}
	projects, err := projectfile.ReadMembers(o.SourceDir, members)
	if err != nil {
		return append(errs, fmt.Errorf("source_dir: %w", err))
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
func checkoutVersion(dir string, members []string, projects map[string]projectfile.MemberProject) (string, error) {
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
func uvLockErrors(dir string, root projectfile.Workspace, members []string, projects map[string]projectfile.MemberProject) []error {
	stale := func(format string, args ...any) error {
		return fmt.Errorf("source_dir: uv.lock does not match the checkout (%s); run `uv lock` in %s and use the lock it writes", fmt.Sprintf(format, args...), dir)
	}
	data, err := os.ReadFile(filepath.Join(dir, projectfile.UVLockFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return []error{fmt.Errorf("source_dir: %q holds no uv.lock; the agent-server is installed from a checkout at its lock's versions: run `uv lock` there first", dir)}
		}
		return []error{fmt.Errorf("source_dir: %w", err)}
	}
	lock, err := projectfile.ParseUVLock(data)
	if err != nil {
		return []error{fmt.Errorf("source_dir: uv.lock cannot be read: %v; restore it from the checkout or run `uv lock`", err)}
	}
	var errs []error
	var names []string
	for _, m := range members {
		names = append(names, projectfile.NormalizeName(projects[m].Project.Name))
	}
	locked := make([]string, len(lock.Manifest.Members))
	for i, n := range lock.Manifest.Members {
		locked[i] = projectfile.NormalizeName(n)
	}
	if root.Project != nil {
		// A root with a project is a member too, which the lock lists.
		locked = slices.DeleteFunc(locked, func(n string) bool { return n == projectfile.NormalizeName(root.Project.Name) })
	}
	sort.Strings(names)
	sort.Strings(locked)
	if !slices.Equal(names, locked) {
		errs = append(errs, stale("the workspace's members are %s, the lock's %s", strings.Join(names, ", "), strings.Join(locked, ", ")))
	}
	for _, m := range members {
		p := projects[m]
		i := slices.IndexFunc(lock.Packages, func(lp projectfile.UVLockedPackage) bool {
			return lp.FromWorkspace() && projectfile.NormalizeName(lp.Name) == projectfile.NormalizeName(p.Project.Name)
		})
		if i < 0 {
			if slices.Contains(locked, projectfile.NormalizeName(p.Project.Name)) || len(errs) == 0 {
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
			got[i] = r.Key()
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
					key, err := projectfile.PyprojectRequirementKey(req, "")
					if err != nil {
						errs = append(errs, fmt.Errorf("source_dir: pyproject.toml: dependency group %s: %w", group, err))
						continue
					}
					want = append(want, key)
				}
			}
			for _, r := range lock.Manifest.DependencyGroups[group] {
				got = append(got, r.Key())
			}
			if d := keyDifference(want, got); d != "" {
				errs = append(errs, stale("pyproject.toml's dependency group %s: %s", group, d))
			}
		}
	}
	return errs
}

// pyprojectKeys are the keys of a member's requirements and its extras' requirements.
func pyprojectKeys(p projectfile.MemberProject) ([]string, error) {
	var keys []string
	add := func(reqs []string, extra string) error {
		for _, r := range reqs {
			k, err := projectfile.PyprojectRequirementKey(r, extra)
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
