package runtimebuilder

import (
	"fmt"
	"path/filepath"
	"regexp"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// openHandsVersion is the version of what the options install: the agent-server's, or the
// OpenHands checkout's from its pyproject.toml, `[project] version` (OpenHands 1.x) or
// `[tool.poetry] version` (0.x). The content tags
// carry it, as OpenHands' runtime builder named them `oh_v<OpenHands version>_...`.
func openHandsVersion(o plan.Options) (string, error) {
	path := filepath.Join(o.SourceDir, "pyproject.toml")
	project, err := o.InstalledProject()
	if err != nil {
		return "", fmt.Errorf("source_dir: reading the OpenHands version from %s: %w", path, err)
	}
	v := project.Version
	switch {
	case v == "" && project.DynamicVersion:
		return "", fmt.Errorf("source_dir: %s declares its version dynamic; the content tags (oh_v<version>_...) need a static [project] version or [tool.poetry] version: set one in the checkout", path)
	case v == "":
		return "", fmt.Errorf("source_dir: %s has no [project] version or [tool.poetry] version, which the content tags (oh_v<version>_...) are named with; is source_dir an OpenHands checkout?", path)
	}
	if !tagVersion.MatchString(v) {
		return "", fmt.Errorf("source_dir: %s: version %q cannot be part of an image tag (letters, digits, '.', '_', '-', '+', at most 64)", path, v)
	}
	return v, nil
}

// tagVersion is a version that fits in a tag (plan.ContentTags turns PEP 440's '+' into '_').
var tagVersion = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$`)
