// Package sbom turns the inventory a runtime printed (plan.Inventory) and what the plugin
// knows of its inputs (pinned downloads, the source digests, poetry.lock) into a CycloneDX
// document. The target lists what it holds; no cataloguer runs in the plugin.
package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/uuid"
	"github.com/package-url/packageurl-go"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
	"github.com/openhands-runtime/packer-plugin-openhands/plan/projectfile"
)

// MediaType is the media type of the document, the artifact type of its OCI referrer.
const MediaType = "application/vnd.cyclonedx+json"

// toolName names the plugin in the documents' tools and creators.
const toolName = "packer-plugin-openhands"

// specVersion is the CycloneDX version written: 1.6, which Grype, Trivy and Amazon Inspector
// read, and whose schema the tests validate against.
const specVersion = cdx.SpecVersion1_6

// Subject is what the SBOM describes: the built image or the provisioned target.
type Subject struct {
	Name    string
	Version string
	Type    cdx.ComponentType
}

// Input is everything the document is made of.
type Input struct {
	Subject   Subject
	Inventory *plan.Inventory
	// Options are the prepared options the plan ran with, Inputs its input digests.
	Options plan.Options
	Inputs  plan.Inputs
	// Base is what the runtime was built on, for the provenance (zero when unknown).
	Base Base
	// Project is the installed project's name and version: the OpenHands checkout, or the agent-server.
	Project projectfile.Project
	// Pins are the poetry.lock packages the install was pinned to (nil without the lock).
	Pins []projectfile.Pin
	// PluginVersion names the plugin in the document's tools.
	PluginVersion string
	// Created is the documents' time: when the runtime was made, not when they were written
	// (the image's creation time, or DocumentTime), so describing the same runtime again
	// gives the same bytes.
	Created time.Time
}

// DocumentTime is the documents' time for a target with no creation time of its own (the
// provisioner's): SOURCE_DATE_EPOCH when set, as reproducible builds define it, else now.
func DocumentTime() (time.Time, error) {
	epoch, ok := os.LookupEnv("SOURCE_DATE_EPOCH")
	if !ok || epoch == "" {
		return time.Now(), nil
	}
	seconds, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil || seconds < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a whole number of seconds since 1970: set it to one (for example `git log -1 --format=%%ct`) or unset it", epoch)
	}
	return time.Unix(seconds, 0).UTC(), nil
}

// serialSpace is the namespace of the documents' name-based serial numbers.
var serialSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte(BuilderID+"/sbom"))

// serialNumber is a name-based UUID (version 5) of the document's content without a serial:
// the same runtime described on another run or checkout gets the same serial, so the same
// bytes and no new OCI referrer on an unchanged push; any difference in content (another
// image id, package or time) gives another serial.
func serialNumber(bom *cdx.BOM) (string, error) {
	unnumbered := *bom
	unnumbered.SerialNumber = ""
	raw, err := json.Marshal(&unnumbered)
	if err != nil {
		return "", fmt.Errorf("the SBOM's serial number: %w", err)
	}
	return "urn:uuid:" + uuid.NewSHA1(serialSpace, raw).String(), nil
}

// Properties of the components, in the plugin's namespace.
const (
	PropSourceTree      = "openhands:source-tree-sha256"
	PropDependencyFiles = "openhands:dependency-files-sha256"
	PropLocked          = "openhands:poetry-lock"
	PropSupplied        = "openhands:supplied-file"
)

// Build makes the CycloneDX document.
func Build(in Input) (*cdx.BOM, error) {
	inv := in.Inventory
	if inv == nil || !inv.Complete {
		return nil, fmt.Errorf("no complete inventory of the runtime")
	}
	bom := cdx.NewBOM()
	subject := cdx.Component{BOMRef: "subject", Type: in.Subject.Type, Name: in.Subject.Name, Version: in.Subject.Version}
	bom.Metadata = &cdx.Metadata{
		Timestamp: in.Created.UTC().Format(time.RFC3339),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: toolName, Version: in.PluginVersion,
		}}},
		Component: &subject,
	}
	var components []cdx.Component
	if inv.OSID != "" {
		components = append(components, cdx.Component{
			BOMRef: "os:" + inv.OSID + "-" + inv.OSVersionID, Type: cdx.ComponentTypeOS, Name: inv.OSID, Version: inv.OSVersionID,
		})
	}
	for _, p := range inv.Packages {
		components = append(components, systemComponent(p, inv))
	}
	components = append(components, pythonComponents(in)...)
	for _, t := range plan.Tools {
		if version, ok := inv.Tools[t.Name]; ok {
			components = append(components, toolComponent(t.Name, version, t.Origin(in.Options, in.Inputs, inv.Arch)))
		}
	}
	for _, dir := range inv.Chromium {
		build := strings.TrimPrefix(dir, "chromium-")
		components = append(components, cdx.Component{
			BOMRef: purl("generic", "", "playwright-chromium", build, nil), PackageURL: purl("generic", "", "playwright-chromium", build, nil),
			Type: cdx.ComponentTypeApplication, Name: "playwright-chromium", Version: build,
			Description: "Chromium downloaded by Playwright; the version is Playwright's build number (" + dir + ")",
		})
	}
	bom.Components = &components
	var err error
	if bom.SerialNumber, err = serialNumber(bom); err != nil {
		return nil, err
	}
	return bom, nil
}

// systemComponent is an OS package with its purl: pkg:deb/<os id>/... or pkg:rpm/<os id>/...
func systemComponent(p plan.SystemPackage, inv *plan.Inventory) cdx.Component {
	q := map[string]string{"arch": p.Arch, "distro": inv.OSID + "-" + inv.OSVersionID}
	switch p.Type {
	case "deb":
		if p.Source != "" && p.Source != p.Name {
			q["upstream"] = p.Source
		}
	case "rpm":
		if p.Epoch != "" && p.Epoch != "0" {
			q["epoch"] = p.Epoch
		}
		if p.Source != "" && p.Source != "(none)" {
			q["upstream"] = p.Source
		}
	}
	u := purl(p.Type, inv.OSID, p.Name, p.Version, q)
	return cdx.Component{BOMRef: u, Type: cdx.ComponentTypeLibrary, Name: p.Name, Version: p.Version, PackageURL: u}
}

// pypiName is a distribution name as the pypi purl type spells it.
func pypiName(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), "_", "-")
}

// normalized is a distribution name as PEP 503 compares them.
var separators = regexp.MustCompile(`[-_.]+`)

func normalized(name string) string { return separators.ReplaceAllString(strings.ToLower(name), "-") }

// pythonComponents are the environment's distributions: the OpenHands source carries its
// digests, a distribution installed at its locked version the lock's file hashes.
func pythonComponents(in Input) []cdx.Component {
	pins := map[string]projectfile.Pin{}
	for _, p := range in.Pins {
		pins[normalized(p.Name)] = p
	}
	var out []cdx.Component
	for _, d := range in.Inventory.Python {
		u := purl("pypi", "", pypiName(d.Name), d.Version, nil)
		c := cdx.Component{BOMRef: u, Type: cdx.ComponentTypeLibrary, Name: d.Name, Version: d.Version, PackageURL: u}
		var props []cdx.Property
		if in.Options.InstallsCheckout() && in.Project.Name != "" && normalized(d.Name) == normalized(in.Project.Name) {
			props = append(props,
				cdx.Property{Name: PropSourceTree, Value: in.Inputs.SourceTree},
				cdx.Property{Name: PropDependencyFiles, Value: in.Inputs.DependencyFiles})
		}
		if pin, ok := pins[normalized(d.Name)]; ok && pin.Version == d.Version {
			props = append(props, cdx.Property{Name: PropLocked, Value: "pinned"})
			var refs []cdx.ExternalReference
			for _, f := range pin.Files {
				algo, sum, ok := strings.Cut(f.Hash, ":")
				if !ok || algo != "sha256" {
					continue
				}
				refs = append(refs, cdx.ExternalReference{Type: cdx.ERTypeDistribution, URL: f.File,
					Hashes: &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: sum}}})
			}
			if len(refs) > 0 {
				c.ExternalReferences = &refs
			}
		}
		if len(props) > 0 {
			c.Properties = &props
		}
		out = append(out, c)
	}
	return out
}

// versionWord picks the version out of a --version line ("uv 0.12.16 (...)", "2.9.0").
var versionWord = regexp.MustCompile(`[0-9]+(\.[0-9A-Za-z_-]+)+`)

// toolComponent is a tool installed from a download, with the URL and checksum the plan
// verified, or from a supplied file with its digest.
func toolComponent(name, versionLine string, o plan.Origin) cdx.Component {
	version := versionWord.FindString(versionLine)
	q := map[string]string{}
	if o.URL != "" {
		q["download_url"] = o.URL
	}
	if o.SHA256 != "" {
		q["checksum"] = "sha256:" + o.SHA256
	}
	u := purl("generic", "", name, version, q)
	c := cdx.Component{BOMRef: purl("generic", "", name, version, nil), Type: cdx.ComponentTypeApplication,
		Name: name, Version: version, PackageURL: u}
	var hashes *[]cdx.Hash
	if o.SHA256 != "" {
		hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: o.SHA256}}
	}
	if o.URL != "" {
		c.ExternalReferences = &[]cdx.ExternalReference{{Type: cdx.ERTypeDistribution, URL: o.URL, Hashes: hashes}}
	} else {
		c.Hashes = hashes
		c.Properties = &[]cdx.Property{{Name: PropSupplied, Value: filepath.Base(o.Supplied)}}
	}
	return c
}

func purl(typ, namespace, name, version string, qualifiers map[string]string) string {
	var q packageurl.Qualifiers
	for _, k := range slices.Sorted(maps.Keys(qualifiers)) {
		q = append(q, packageurl.Qualifier{Key: k, Value: qualifiers[k]})
	}
	return packageurl.NewPackageURL(typ, namespace, name, version, q, "").ToString()
}

// Encode renders the document as CycloneDX JSON.
func Encode(bom *cdx.BOM) ([]byte, error) {
	var buf bytes.Buffer
	if err := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).SetPretty(true).EncodeVersion(bom, specVersion); err != nil {
		return nil, fmt.Errorf("encoding the SBOM: %w", err)
	}
	return buf.Bytes(), nil
}
