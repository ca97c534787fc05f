package projectfile

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// PyprojectFile is the project metadata of a checkout, at its root and in each member of a
// uv workspace.
const PyprojectFile = "pyproject.toml"

// decodeFile reads the TOML file at path into v.
func decodeFile(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return toml.Unmarshal(data, v)
}

// ParsePyproject reads a pyproject.toml as nested tables, as Poetry's content-hash sees it.
func ParsePyproject(data []byte) (map[string]any, error) {
	var pyproject map[string]any
	if err := toml.Unmarshal(data, &pyproject); err != nil {
		return nil, err
	}
	return pyproject, nil
}

// Project is what a checkout's pyproject.toml says of itself: `[project]` (OpenHands 1.x)
// or `[tool.poetry]` (0.x).
type Project struct {
	Name, Version string
	// DynamicVersion is set when `[project] dynamic` lists the version.
	DynamicVersion bool
}

// ReadProject reads the name and version of the checkout in dir.
func ReadProject(dir string) (Project, error) {
	path := filepath.Join(dir, PyprojectFile)
	var pyproject struct {
		Project struct {
			Name    string   `toml:"name"`
			Version string   `toml:"version"`
			Dynamic []string `toml:"dynamic"`
		} `toml:"project"`
		Tool struct {
			Poetry struct {
				Name    string `toml:"name"`
				Version string `toml:"version"`
			} `toml:"poetry"`
		} `toml:"tool"`
	}
	if err := decodeFile(path, &pyproject); err != nil {
		return Project{}, err
	}
	p := Project{Name: pyproject.Project.Name, Version: pyproject.Project.Version,
		DynamicVersion: slices.Contains(pyproject.Project.Dynamic, "version")}
	if p.Name == "" {
		p.Name = pyproject.Tool.Poetry.Name
	}
	if p.Version == "" {
		p.Version = pyproject.Tool.Poetry.Version
	}
	return p, nil
}

// Workspace is what a root pyproject.toml says of its workspace.
type Workspace struct {
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

// MemberProject is what a member's pyproject.toml says of its distribution.
type MemberProject struct {
	Project struct {
		Name                 string              `toml:"name"`
		Version              string              `toml:"version"`
		Dynamic              []string            `toml:"dynamic"`
		Dependencies         []string            `toml:"dependencies"`
		OptionalDependencies map[string][]string `toml:"optional-dependencies"`
	} `toml:"project"`
}

// WorkspaceMembers are the member directories of the uv workspace in dir, relative to it and
// sorted; none when its pyproject.toml declares no workspace (an OpenHands checkout).
func WorkspaceMembers(dir string) ([]string, error) {
	_, members, err := ReadWorkspace(dir)
	return members, err
}

// ReadWorkspace reads the root pyproject.toml in dir and finds its workspace's members.
func ReadWorkspace(dir string) (Workspace, []string, error) {
	var root Workspace
	if err := decodeFile(filepath.Join(dir, PyprojectFile), &root); err != nil {
		return root, nil, fmt.Errorf("reading pyproject.toml: %w", err)
	}
	if root.Tool.UV.Workspace == nil {
		return root, nil, nil
	}
	var members []string
	for _, pattern := range root.Tool.UV.Workspace.Members {
		matches, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(pattern)))
		if err != nil {
			return root, nil, fmt.Errorf("pyproject.toml: workspace member %q: %w", pattern, err)
		}
		for _, m := range matches {
			rel, _ := filepath.Rel(dir, m)
			rel = filepath.ToSlash(rel)
			excluded := slices.ContainsFunc(root.Tool.UV.Workspace.Exclude, func(p string) bool {
				ok, _ := filepath.Match(p, rel)
				return ok
			})
			// Only a directory with a project in it is a member, and only inside the checkout.
			if _, err := os.Stat(filepath.Join(m, PyprojectFile)); err == nil && !excluded && !strings.HasPrefix(rel, "../") && rel != "." {
				members = append(members, rel)
			}
		}
	}
	sort.Strings(members)
	return root, slices.Compact(members), nil
}

// ReadMembers reads each member's pyproject.toml, by member directory.
func ReadMembers(dir string, members []string) (map[string]MemberProject, error) {
	projects := map[string]MemberProject{}
	for _, m := range members {
		var p MemberProject
		if err := decodeFile(filepath.Join(dir, m, PyprojectFile), &p); err != nil {
			return nil, fmt.Errorf("reading %s/pyproject.toml: %w", m, err)
		}
		projects[m] = p
	}
	return projects, nil
}

// GroupRequirements are the direct requirements of the chosen groups other than main, which
// package metadata never carries: Poetry's [tool.poetry.group.NAME.dependencies] (by name,
// the lock pins the version) and PEP 735 [dependency-groups].
func GroupRequirements(pyproject map[string]any, groups []string) []string {
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
