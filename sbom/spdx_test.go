package sbom

import (
	"bytes"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdxlib"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
	"github.com/openhands-runtime/packer-plugin-openhands/plan/projectfile"
)

// spdxID is an SPDX element id as SPDX 2.3 clause 7.2 defines it.
var spdxID = regexp.MustCompile(`^SPDXRef-[A-Za-z0-9.-]+$`)

// validateSPDX checks an SPDX 2.3 JSON document: the library reads it back and validates its
// relationships, and the fields SPDX 2.3 makes mandatory are there and well formed (document
// creation info, each package's name, unique id and download location, no verification
// code where no files were analysed, a DESCRIBES of the document).
func validateSPDX(t *testing.T, data []byte) {
	t.Helper()
	doc, err := spdxjson.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the SPDX reader refused the document: %v", err)
	}
	if err := spdxlib.ValidateDocument(doc); err != nil {
		t.Errorf("spdxlib: %v", err)
	}
	var raw struct {
		SPDXVersion, DataLicense, SPDXID, Name, DocumentNamespace string
		CreationInfo                                              struct {
			Created  string
			Creators []string
		}
		Packages []struct {
			Name, SPDXID, DownloadLocation string
			FilesAnalyzed                  *bool
			PackageVerificationCode        any
			ExternalRefs                   []struct{ ReferenceCategory, ReferenceType, ReferenceLocator string }
			Checksums                      []struct{ Algorithm, ChecksumValue string }
		}
		Relationships []struct{ SPDXElementID, RelatedSPDXElement, RelationshipType string }
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if raw.SPDXVersion != "SPDX-2.3" || raw.DataLicense != "CC0-1.0" || raw.SPDXID != "SPDXRef-DOCUMENT" || raw.Name == "" {
		t.Errorf("document header %q %q %q %q", raw.SPDXVersion, raw.DataLicense, raw.SPDXID, raw.Name)
	}
	if u, err := url.Parse(raw.DocumentNamespace); err != nil || !u.IsAbs() || u.Fragment != "" {
		t.Errorf("documentNamespace %q is not an absolute URI without a fragment", raw.DocumentNamespace)
	}
	if _, err := time.Parse(time.RFC3339, raw.CreationInfo.Created); err != nil {
		t.Errorf("creationInfo.created %q: %v", raw.CreationInfo.Created, err)
	}
	if len(raw.CreationInfo.Creators) == 0 {
		t.Error("no creator")
	}
	for _, c := range raw.CreationInfo.Creators {
		if kind, name, ok := strings.Cut(c, ": "); !ok || name == "" || (kind != "Tool" && kind != "Person" && kind != "Organization") {
			t.Errorf("creator %q", c)
		}
	}
	ids := map[string]bool{"SPDXRef-DOCUMENT": true}
	for _, p := range raw.Packages {
		if p.Name == "" || !spdxID.MatchString(p.SPDXID) || ids[p.SPDXID] || p.DownloadLocation == "" {
			t.Errorf("package %+v: name, a unique SPDXRef id and downloadLocation are mandatory", p)
		}
		ids[p.SPDXID] = true
		if p.FilesAnalyzed != nil && !*p.FilesAnalyzed && p.PackageVerificationCode != nil {
			t.Errorf("package %s: a verification code without analysed files", p.SPDXID)
		}
		for _, r := range p.ExternalRefs {
			if r.ReferenceCategory != "PACKAGE-MANAGER" || r.ReferenceType != "purl" || !strings.HasPrefix(r.ReferenceLocator, "pkg:") {
				t.Errorf("package %s: external reference %+v", p.SPDXID, r)
			}
		}
		for _, c := range p.Checksums {
			if c.Algorithm != "SHA256" || len(c.ChecksumValue) != 64 {
				t.Errorf("package %s: checksum %+v", p.SPDXID, c)
			}
		}
	}
	describes := false
	for _, r := range raw.Relationships {
		if !ids[r.SPDXElementID] || !ids[r.RelatedSPDXElement] {
			t.Errorf("relationship %+v names an element that is not there", r)
		}
		describes = describes || (r.SPDXElementID == "SPDXRef-DOCUMENT" && r.RelationshipType == "DESCRIBES")
	}
	if !describes {
		t.Error("the document DESCRIBES nothing")
	}
}

// TestSPDX: the SPDX document has one package per CycloneDX component, contained by the
// subject, with the same purls; a tool keeps its download location and SHA-256, a locked
// distribution (several files) names no single checksum.
func TestSPDX(t *testing.T) {
	pins := []projectfile.Pin{{LockedPackage: projectfile.LockedPackage{Name: "pydantic", Version: "2.11.7"}}}
	for _, f := range []string{"pydantic-2.11.7-py3-none-any.whl", "pydantic-2.11.7.tar.gz"} {
		pins[0].Files = append(pins[0].Files, struct {
			File string `toml:"file"`
			Hash string `toml:"hash"`
		}{f, "sha256:" + sum})
	}
	cases := []struct {
		name    string
		subject cdx.ComponentType
		purpose string
	}{
		{name: "image", subject: cdx.ComponentTypeContainer, purpose: "CONTAINER"},
		{name: "machine", subject: cdx.ComponentTypePlatform, purpose: "OTHER"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bom, err := Build(Input{
				Subject: Subject{Name: "acc", Version: "v1", Type: tc.subject},
				Inventory: inventory(t, "os\tdebian\t12\tx86_64", "deb\tzlib1g\t1:1.2.13.dfsg-1\tamd64\tzlib\t1:1.2.13.dfsg-1",
					"pypi\topenhands_ai\t0.0.0", "pypi\tpydantic\t2.11.7", "tool\tuv\tuv 0.12.16", "chromium\tchromium-1187"),
				Options: options(t, nil), Inputs: plan.Inputs{SourceTree: "tree", DependencyFiles: "deps"},
				Project: projectfile.Project{Name: "openhands-ai"}, Pins: pins, PluginVersion: "1.2.3", Created: time.Unix(0, 0),
			})
			if err != nil {
				t.Fatal(err)
			}
			data, err := EncodeFormat(bom, FormatSPDX)
			if err != nil {
				t.Fatal(err)
			}
			validateSPDX(t, data)
			if mt, err := MediaTypeOf(data); err != nil || mt != SPDXMediaType {
				t.Errorf("media type %q, %v", mt, err)
			}
			doc, err := spdxjson.Read(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if len(doc.Packages) != 1+len(*bom.Components) {
				t.Fatalf("%d packages for %d components", len(doc.Packages), len(*bom.Components))
			}
			subject := doc.Packages[0]
			if subject.PackageName != "acc" || subject.PackageVersion != "v1" || subject.PrimaryPackagePurpose != tc.purpose {
				t.Errorf("subject %+v", subject)
			}
			if creator := doc.CreationInfo.Creators[0]; creator.CreatorType != "Tool" || creator.Creator != "packer-plugin-openhands-1.2.3" {
				t.Errorf("creator %+v", creator)
			}
			contains := 0
			for _, r := range doc.Relationships {
				if r.Relationship == "CONTAINS" && r.RefA.ElementRefID == subjectID {
					contains++
				}
			}
			if contains != len(*bom.Components) {
				t.Errorf("the subject contains %d packages, want %d", contains, len(*bom.Components))
			}
			for i, c := range *bom.Components {
				p := doc.Packages[i+1]
				if p.PackageName != c.Name || p.PackageVersion != c.Version {
					t.Errorf("package %d is %s %s, component %s %s", i, p.PackageName, p.PackageVersion, c.Name, c.Version)
				}
				if c.PackageURL != "" && (len(p.PackageExternalReferences) != 1 || p.PackageExternalReferences[0].Locator != c.PackageURL) {
					t.Errorf("%s: purl %+v, want %s", c.Name, p.PackageExternalReferences, c.PackageURL)
				}
				switch c.Name {
				case "uv":
					want := "8e5c6e5523dffc2dcf615bd995554c84c9feb4e577808a3fb8698a639d3f8d9c"
					if !strings.HasPrefix(p.PackageDownloadLocation, "https://github.com/astral-sh/uv/releases/download/") ||
						len(p.PackageChecksums) != 1 || p.PackageChecksums[0].Value != want {
						t.Errorf("uv: %s %+v", p.PackageDownloadLocation, p.PackageChecksums)
					}
				case "pydantic":
					if p.PackageDownloadLocation != noAssertion || len(p.PackageChecksums) != 0 || !strings.Contains(p.PackageComment, PropLocked+"=pinned") {
						t.Errorf("pydantic: %s %+v %q", p.PackageDownloadLocation, p.PackageChecksums, p.PackageComment)
					}
				case "openhands_ai":
					if !strings.Contains(p.PackageComment, PropSourceTree+"=tree") {
						t.Errorf("the source's package comment %q", p.PackageComment)
					}
				}
			}
		})
	}
}

func TestMediaTypeOf(t *testing.T) {
	cases := []struct{ doc, want, err string }{
		{doc: `{"bomFormat": "CycloneDX", "specVersion": "1.6"}`, want: MediaType},
		{doc: `{"spdxVersion": "SPDX-2.3"}`, want: SPDXMediaType},
		{doc: `{"_type": "https://in-toto.io/Statement/v1"}`, err: "neither CycloneDX"},
		{doc: `<bom/>`, err: "not a JSON SBOM"},
	}
	for _, tc := range cases {
		got, err := MediaTypeOf([]byte(tc.doc))
		if got != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("MediaTypeOf(%s) = %q, %v; want %q, %q", tc.doc, got, err, tc.want, tc.err)
		}
	}
}
