//go:generate go tool packer-sdc struct-markdown
//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Settings

package sbom

import (
	"fmt"
	"regexp"
	"strings"
)

// Artifact state names of the SBOM a builder wrote and of the provenance beside it: local
// paths and digests ("sha256:<hex>"), empty when none was written. openhands-ecr reads the
// paths to push both with the image.
const (
	StatePath             = "openhands_sbom_path"
	StateDigest           = "openhands_sbom_digest"
	StateProvenancePath   = "openhands_provenance_path"
	StateProvenanceDigest = "openhands_provenance_digest"
	// StatePlatformPaths are a multi-platform build's SBOM files, one per platform image, as
	// platform=path; each image's provenance is beside its SBOM (ProvenancePath).
	StatePlatformPaths = "openhands_platform_sbom_paths"
)

// Formats of the document.
const (
	FormatCycloneDX = "cyclonedx-json"
	FormatSPDX      = "spdx-json"
)

// Settings say whether and where the SBOM of the runtime is written: the provisioner and the
// builder embed it.
type Settings struct {
	// Write an SBOM of the finished runtime: its OS packages (dpkg or rpm), the environment's
	// Python distributions (with `poetry.lock`'s file hashes where the lock pinned them), the
	// installed tools with their download URL and SHA-256, the OpenHands source's digests and
	// Playwright's Chromium build. The target lists them itself after the plan, in the same
	// remote command. Defaults to true.
	SBOM *bool `mapstructure:"sbom"`
	// Local path of the SBOM. Defaults to `<build name>.sbom.cdx.json` (`.sbom.spdx.json` for
	// SPDX) in the directory Packer runs in (`openhands-runtime.sbom.cdx.json` for a build
	// without a name); use `"${path.root}/..."` to write it beside the template. The SLSA
	// provenance (an in-toto statement) is written beside it as
	// `<name>.provenance.intoto.json`.
	Path string `mapstructure:"sbom_path"`
	// Format of the SBOM: `cyclonedx-json` (CycloneDX 1.6, the default) or `spdx-json`
	// (SPDX 2.3), made from the same inventory.
	Format string `mapstructure:"sbom_format"`
}

// Enabled tells whether an SBOM is written. Defaults must have been set.
func (c *Settings) Enabled() bool { return *c.SBOM }

// unsafeName are the characters a build name may hold that a file name should not.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// DefaultPath is the SBOM's path for a build name and a format.
func DefaultPath(buildName, format string) string {
	name := strings.Trim(unsafeName.ReplaceAllString(buildName, "-"), "-.")
	if name == "" {
		name = "openhands-runtime"
	}
	if format == FormatSPDX {
		return name + ".sbom.spdx.json"
	}
	return name + ".sbom.cdx.json"
}

// Prepare fills in the defaults and returns every problem, each naming its option.
func (c *Settings) Prepare(buildName string) []error {
	if c.SBOM == nil {
		t := true
		c.SBOM = &t
	}
	if c.Format == "" {
		c.Format = FormatCycloneDX
	}
	var errs []error
	switch c.Format {
	case FormatCycloneDX, FormatSPDX:
	default:
		errs = append(errs, fmt.Errorf("sbom_format: %q is not a format; use %q (CycloneDX 1.6) or %q (SPDX 2.3)", c.Format, FormatCycloneDX, FormatSPDX))
	}
	if !*c.SBOM && c.Path != "" {
		errs = append(errs, fmt.Errorf("sbom_path: set, but sbom = false writes no SBOM; remove one of them"))
	}
	if c.Path == "" {
		c.Path = DefaultPath(buildName, c.Format)
	}
	return errs
}
