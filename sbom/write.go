package sbom

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
	"github.com/openhands-runtime/packer-plugin-openhands/plan/projectfile"
)

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
