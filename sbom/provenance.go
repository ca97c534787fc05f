package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
	"github.com/openhands-runtime/packer-plugin-openhands/plan/projectfile"
)

// The provenance is an in-toto Statement v1 whose predicate is SLSA Provenance v1: what built
// the runtime (this plugin, its version) from what (base, source, lock, options, downloads).
// It is not signed: a user signs it (or the image) with cosign or Notation after the push.
const (
	// ProvenanceMediaType is the media type of an in-toto statement, the artifact type of its
	// OCI referrer.
	ProvenanceMediaType = "application/vnd.in-toto+json"
	// ProvenancePredicateType is SLSA Provenance v1.
	ProvenancePredicateType = "https://slsa.dev/provenance/v1"
	// BuilderID names this plugin as the builder; its version goes in builder.version.
	BuilderID = "https://github.com/openhands-runtime/packer-plugin-openhands"
	// BuildType says how to read externalParameters.
	BuildType = BuilderID + "/provenance/runtime/v1"
)

// Base is what the runtime was built on: the base image (reference and image id) or the
// machine image the build started from.
type Base struct {
	// Name is the reference or id as the build named it (an image reference, an AMI id).
	Name string
	// Digest is the content digest ("sha256:<hex>") when the plugin knows one.
	Digest string
}

// ProvenancePath is the provenance's path beside the SBOM at sbomPath: the SBOM's name with
// its format suffix (.sbom.cdx.json, .sbom.spdx.json or .json) replaced.
func ProvenancePath(sbomPath string) string {
	dir, name := filepath.Split(sbomPath)
	for _, suffix := range []string{".sbom.cdx.json", ".sbom.spdx.json", ".cdx.json", ".spdx.json", ".json"} {
		if trimmed, ok := strings.CutSuffix(name, suffix); ok && trimmed != "" {
			name = trimmed
			break
		}
	}
	return filepath.Join(dir, name+".provenance.intoto.json")
}

// resource is an in-toto resource descriptor of a sha256 digest ("sha256:<hex>" or bare hex).
func resource(name, uri, sha256 string) *intoto.ResourceDescriptor {
	r := &intoto.ResourceDescriptor{Name: name, Uri: uri}
	if sum := strings.TrimPrefix(sha256, "sha256:"); sum != "" {
		r.Digest = map[string]string{"sha256": strings.ToLower(sum)}
	}
	return r
}

// Provenance makes the statement of the runtime in the input. subject is what it describes:
// the image id for the builder; for the provisioner, whose target has no digest of its own,
// the SBOM that lists its content. openhands-ecr replaces it with the pushed image (Retarget).
// lockSHA256 is poetry.lock's digest when the install was pinned to it.
func Provenance(in Input, subject *intoto.ResourceDescriptor, lockSHA256 string) (*intoto.Statement, error) {
	inv := in.Inventory
	if inv == nil || !inv.Complete {
		return nil, fmt.Errorf("no complete inventory of the runtime")
	}
	var deps []*intoto.ResourceDescriptor
	if in.Base.Name != "" || in.Base.Digest != "" {
		deps = append(deps, resource("base:"+in.Base.Name, "", in.Base.Digest))
	}
	deps = append(deps,
		resource("openhands-source", "", in.Inputs.SourceTree),
		resource("openhands-dependency-files", "", in.Inputs.DependencyFiles))
	if lockSHA256 != "" {
		deps = append(deps, resource(projectfile.PoetryLockFile, "", lockSHA256))
	}
	for _, t := range plan.Tools {
		if _, ok := inv.Tools[t.Name]; !ok {
			continue
		}
		o := t.Origin(in.Options, in.Inputs, inv.Arch)
		name := t.Name
		if o.Supplied != "" {
			name += " (supplied " + filepath.Base(o.Supplied) + ")"
		}
		// Origin's URL is already without credentials (plan.RedactURL).
		deps = append(deps, resource(name, o.URL, o.SHA256))
	}
	params := map[string]any{
		"options_sha256": plan.OptionsDigest(in.Options),
		"subject":        in.Subject.Name,
	}
	if in.Base.Name != "" {
		params["base"] = in.Base.Name
	}
	if in.Project.Name != "" {
		params["openhands"] = in.Project.Name + " " + in.Project.Version
	}
	external, err := structpb.NewStruct(params)
	if err != nil {
		return nil, err
	}
	predicate := &slsa.Provenance{
		BuildDefinition: &slsa.BuildDefinition{BuildType: BuildType, ExternalParameters: external, ResolvedDependencies: deps},
		RunDetails: &slsa.RunDetails{
			Builder:  &slsa.Builder{Id: BuilderID, Version: map[string]string{"packer-plugin-openhands": in.PluginVersion}},
			Metadata: &slsa.BuildMetadata{FinishedOn: timestamppb.New(in.Created)},
		},
	}
	if err := predicate.Validate(); err != nil {
		return nil, fmt.Errorf("the provenance: %w", err)
	}
	raw, err := protojson.Marshal(predicate)
	if err != nil {
		return nil, err
	}
	var fields structpb.Struct
	if err := protojson.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	st := &intoto.Statement{
		Type:          intoto.StatementTypeUri,
		Subject:       []*intoto.ResourceDescriptor{subject},
		PredicateType: ProvenancePredicateType,
		Predicate:     &fields,
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("the provenance: %w", err)
	}
	return st, nil
}

// EncodeStatement renders a statement as indented JSON.
func EncodeStatement(st *intoto.Statement) ([]byte, error) {
	raw, err := protojson.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encoding the provenance: %w", err)
	}
	// protojson's spacing is unstable on purpose; indent with encoding/json.
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// DecodeStatement reads a statement and checks it is one.
func DecodeStatement(data []byte) (*intoto.Statement, error) {
	var st intoto.Statement
	if err := protojson.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("reading the provenance: %w", err)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("reading the provenance: %w", err)
	}
	return &st, nil
}

// Retarget makes the provenance at data describe the image pushed as repository@digest: its
// manifest digest is what a verifier pulls, which the local image id is not.
func Retarget(data []byte, repository, digest string) ([]byte, error) {
	st, err := DecodeStatement(data)
	if err != nil {
		return nil, err
	}
	st.Subject = []*intoto.ResourceDescriptor{resource(repository, "", digest)}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("the provenance of %s@%s: %w", repository, digest, err)
	}
	return EncodeStatement(st)
}

// builderVersion is the plugin version a statement names as its builder's.
func builderVersion(st *intoto.Statement) string {
	run := st.GetPredicate().GetFields()["runDetails"].GetStructValue()
	builder := run.GetFields()["builder"].GetStructValue()
	return builder.GetFields()["version"].GetStructValue().GetFields()["packer-plugin-openhands"].GetStringValue()
}
