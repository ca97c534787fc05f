// Package sbom turns the inventory a runtime printed (plan.Inventory) and what the plugin
// knows of its inputs (pinned downloads, the source digests, poetry.lock) into a CycloneDX
// document. The target lists what it holds; no cataloguer runs in the plugin.
package sbom

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
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
	spdxjson "github.com/spdx/tools-golang/json"

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

// WriteFile writes data to path through a temporary file beside it, so a reader never sees
// half a document, and returns its digest ("sha256:<hex>").
func WriteFile(path string, data []byte) (string, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("writing the SBOM: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".sbom-*")
	if err != nil {
		return "", fmt.Errorf("writing the SBOM: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("writing the SBOM to %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("writing the SBOM to %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("writing the SBOM to %s: %w", path, err)
	}
	return digestOf(data), nil
}

// Written is what Write wrote: the SBOM and the provenance beside it.
type Written struct {
	// Path and Digest ("sha256:<hex>") of the SBOM, and its number of components.
	Path, Digest string
	Components   int
	// ProvenancePath and ProvenanceDigest of the provenance statement.
	ProvenancePath, ProvenanceDigest string
}

// Write completes the input with what the options say of the install (the checkout's
// project, the lock's pins), builds the SBOM in the configured format and writes it to the
// configured path, and the provenance beside it (ProvenancePath). subjectDigest is the
// provenance's subject, the image id, or "" to name the target by its SBOM's digest.
func Write(o plan.Options, c Settings, in Input, subjectDigest string) (Written, error) {
	var w Written
	var err error
	in.Options = o
	if in.Project, err = o.InstalledProject(); err != nil {
		return w, fmt.Errorf("the SBOM: reading the installed project: %w", err)
	}
	if in.Pins, err = plan.LockedPins(o); err != nil {
		return w, fmt.Errorf("the SBOM: %w", err)
	}
	bom, err := Build(in)
	if err != nil {
		return w, fmt.Errorf("the SBOM: %w", err)
	}
	data, err := EncodeFormat(bom, c.Format)
	if err != nil {
		return w, err
	}
	if w.Path, err = filepath.Abs(c.Path); err != nil {
		w.Path = c.Path
	}
	if w.Digest, err = WriteFile(w.Path, data); err != nil {
		return w, err
	}
	w.Components = len(*bom.Components)

	var lockSHA256 string
	if in.Pins != nil {
		if lockSHA256, err = plan.FileSHA256(filepath.Join(o.SourceDir, projectfile.PoetryLockFile)); err != nil {
			return w, fmt.Errorf("the provenance: %w", err)
		}
	}
	if subjectDigest == "" {
		subjectDigest = w.Digest
	}
	st, err := Provenance(in, resource(in.Subject.Name, "", subjectDigest), lockSHA256)
	if err != nil {
		return w, err
	}
	statement, err := EncodeStatement(st)
	if err != nil {
		return w, err
	}
	w.ProvenancePath = ProvenancePath(w.Path)
	if w.ProvenanceDigest, err = WriteFile(w.ProvenancePath, statement); err != nil {
		return w, err
	}
	return w, nil
}

// EncodeFormat renders the document in format (FormatCycloneDX or FormatSPDX).
func EncodeFormat(bom *cdx.BOM, format string) ([]byte, error) {
	if format != FormatSPDX {
		return Encode(bom)
	}
	doc, err := SPDX(bom)
	if err != nil {
		return nil, err
	}
	return EncodeSPDX(doc)
}

// MediaTypeOf tells an SBOM's media type from its content: what openhands-ecr pushes it as.
func MediaTypeOf(data []byte) (string, error) {
	var head struct {
		BOMFormat   string `json:"bomFormat"`
		SPDXVersion string `json:"spdxVersion"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return "", fmt.Errorf("not a JSON SBOM: %w", err)
	}
	switch {
	case head.BOMFormat == "CycloneDX":
		return MediaType, nil
	case strings.HasPrefix(head.SPDXVersion, "SPDX-"):
		return SPDXMediaType, nil
	}
	return "", fmt.Errorf("neither CycloneDX JSON (bomFormat) nor SPDX JSON (spdxVersion)")
}

// Describes tells whether the SBOM at path and the provenance beside it were written by this
// plugin version for the subject version (the builder's image id), and returns what Write
// would. An image id is the digest of the image's content, so its inventory cannot have
// changed: the builder keeps such documents rather than start a container again on a run
// that built nothing.
func Describes(path, subjectVersion, pluginVersion string) (Written, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Written{}, false
	}
	subject, tool, ok := describedBy(data)
	if !ok || subject != subjectVersion || tool != pluginVersion {
		return Written{}, false
	}
	w := Written{Path: path, Digest: digestOf(data), ProvenancePath: ProvenancePath(path)}
	statement, err := os.ReadFile(w.ProvenancePath)
	if err != nil {
		return Written{}, false
	}
	st, err := DecodeStatement(statement)
	if err != nil || builderVersion(st) != pluginVersion || len(st.Subject) != 1 ||
		"sha256:"+st.Subject[0].Digest["sha256"] != subjectVersion {
		return Written{}, false
	}
	w.ProvenanceDigest = digestOf(statement)
	return w, true
}

// describedBy reads the subject's version and the plugin's from a CycloneDX or SPDX document.
func describedBy(data []byte) (subject, tool string, ok bool) {
	mediaType, err := MediaTypeOf(data)
	if err != nil {
		return "", "", false
	}
	if mediaType == SPDXMediaType {
		doc, err := spdxjson.Read(bytes.NewReader(data))
		if err != nil || doc.CreationInfo == nil || len(doc.CreationInfo.Creators) != 1 {
			return "", "", false
		}
		for _, p := range doc.Packages {
			if p.PackageSPDXIdentifier == subjectID {
				tool, found := strings.CutPrefix(doc.CreationInfo.Creators[0].Creator, toolName+"-")
				return p.PackageVersion, tool, found
			}
		}
		return "", "", false
	}
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(data), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		return "", "", false
	}
	m := bom.Metadata
	if m == nil || m.Component == nil || m.Tools == nil || m.Tools.Components == nil || len(*m.Tools.Components) != 1 {
		return "", "", false
	}
	return m.Component.Version, (*m.Tools.Components)[0].Version, true
}

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}
