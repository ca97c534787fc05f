package sbom

import (
	"bytes"
	"fmt"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/spdxlib"
)

// SPDXMediaType is the media type of an SPDX JSON document, the artifact type of its referrer.
const SPDXMediaType = "application/spdx+json"

// noAssertion is SPDX's value for a field the document does not state.
const noAssertion = "NOASSERTION"

// subjectID is the SPDX id of the package the document describes.
const subjectID = common.ElementID("subject")

// spdxPurpose is the SPDX primary package purpose of a CycloneDX component type.
var spdxPurpose = map[cdx.ComponentType]string{
	cdx.ComponentTypeApplication: "APPLICATION",
	cdx.ComponentTypeLibrary:     "LIBRARY",
	cdx.ComponentTypeOS:          "OPERATING-SYSTEM",
	cdx.ComponentTypeContainer:   "CONTAINER",
	cdx.ComponentTypePlatform:    "OTHER",
}

// SPDX renders the same document as SPDX 2.3: one package per component, contained by the
// subject, with its purl, the download location and SHA-256 the plan verified, and the
// plugin's properties in the package comment. Both formats come from the one collection.
func SPDX(bom *cdx.BOM) (*spdx.Document, error) {
	m := bom.Metadata
	if m == nil || m.Component == nil || m.Tools == nil || m.Tools.Components == nil || len(*m.Tools.Components) == 0 {
		return nil, fmt.Errorf("the SBOM has no subject or tool")
	}
	tool := (*m.Tools.Components)[0]
	subject := &spdx.Package{
		PackageName: m.Component.Name, PackageSPDXIdentifier: subjectID, PackageVersion: m.Component.Version,
		PackageDownloadLocation: noAssertion, IsFilesAnalyzedTagPresent: true,
		PrimaryPackagePurpose: spdxPurpose[m.Component.Type],
	}
	doc := &spdx.Document{
		SPDXVersion:    spdx.Version,
		DataLicense:    spdx.DataLicense,
		SPDXIdentifier: "DOCUMENT",
		DocumentName:   m.Component.Name,
		// Unique per document, as the spec asks: the CycloneDX serial number is a digest of
		// the content, so the same content gets the same namespace on every run.
		DocumentNamespace: BuilderID + "/spdx/" + strings.TrimPrefix(bom.SerialNumber, "urn:uuid:"),
		CreationInfo: &spdx.CreationInfo{
			Created:  m.Timestamp,
			Creators: []common.Creator{{CreatorType: "Tool", Creator: tool.Name + "-" + tool.Version}},
		},
		Packages: []*spdx.Package{subject},
		Relationships: []*spdx.Relationship{{
			RefA: common.MakeDocElementID("", "DOCUMENT"), RefB: common.MakeDocElementID("", string(subjectID)), Relationship: common.TypeRelationshipDescribe,
		}},
	}
	if bom.Components != nil {
		for i, c := range *bom.Components {
			p := spdxPackage(c, common.ElementID(fmt.Sprintf("Package-%d", i+1)))
			doc.Packages = append(doc.Packages, p)
			doc.Relationships = append(doc.Relationships, &spdx.Relationship{
				RefA: common.MakeDocElementID("", string(subjectID)), RefB: common.MakeDocElementID("", string(p.PackageSPDXIdentifier)), Relationship: common.TypeRelationshipContains,
			})
		}
	}
	if err := spdxlib.ValidateDocument(doc); err != nil {
		return nil, fmt.Errorf("the SPDX document: %w", err)
	}
	return doc, nil
}

// spdxPackage is one component as an SPDX package.
func spdxPackage(c cdx.Component, id common.ElementID) *spdx.Package {
	p := &spdx.Package{
		PackageName: c.Name, PackageSPDXIdentifier: id, PackageVersion: c.Version,
		PackageDownloadLocation: noAssertion, IsFilesAnalyzedTagPresent: true,
		PrimaryPackagePurpose: spdxPurpose[c.Type], PackageDescription: c.Description,
	}
	if c.PackageURL != "" {
		p.PackageExternalReferences = []*spdx.PackageExternalReference{{
			Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: c.PackageURL,
		}}
	}
	hashes := c.Hashes
	var notes []string
	if c.ExternalReferences != nil {
		refs := *c.ExternalReferences
		// One download is the package's; several (a lock's wheels and sdist) are files it may
		// have been installed from, which no single checksum stands for.
		if len(refs) == 1 {
			p.PackageDownloadLocation = refs[0].URL
			hashes = refs[0].Hashes
		} else {
			notes = append(notes, fmt.Sprintf("%d distribution files pinned by their SHA-256 (see the CycloneDX SBOM)", len(refs)))
		}
	}
	if hashes != nil {
		for _, h := range *hashes {
			if h.Algorithm == cdx.HashAlgoSHA256 {
				p.PackageChecksums = append(p.PackageChecksums, common.Checksum{Algorithm: common.SHA256, Value: h.Value})
			}
		}
	}
	if c.Properties != nil {
		for _, prop := range *c.Properties {
			notes = append(notes, prop.Name+"="+prop.Value)
		}
	}
	p.PackageComment = strings.Join(notes, "; ")
	return p
}

// EncodeSPDX renders an SPDX document as JSON.
func EncodeSPDX(doc *spdx.Document) ([]byte, error) {
	var buf bytes.Buffer
	if err := spdxjson.Write(doc, &buf, spdxjson.Indent("  ")); err != nil {
		return nil, fmt.Errorf("encoding the SPDX document: %w", err)
	}
	return buf.Bytes(), nil
}
