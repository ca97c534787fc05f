package ecrpostprocessor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/docker/docker/api/types/registry"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/imagepush"
	"github.com/openhands-runtime/packer-plugin-openhands/sbom"
)

// The SBOM and the provenance travel with the image as OCI 1.1 referrers: an artifact manifest whose subject
// is the pushed image, which `oras discover`, `aws ecr` (the referrers API) and scanners find
// from the image's digest.

// documents are the SBOM and the provenance to attach: the sbom_path option and the
// provenance beside it, else the ones the openhands-runtime builder wrote (its artifact names
// them); "" for what there is none of.
func documents(c *Config, source packersdk.Artifact) (sbomPath, provenancePath string) {
	if c.SBOMPath != "" {
		return c.SBOMPath, sbom.ProvenancePath(c.SBOMPath)
	}
	sbomPath, _ = source.State(sbom.StatePath).(string)
	provenancePath, _ = source.State(sbom.StateProvenancePath).(string)
	return sbomPath, provenancePath
}

// referrers are the digests of the referrer manifests attached to a pushed image.
type referrers struct{ sbom, provenance string }

// attachDocuments pushes the SBOM and the provenance as referrers of the image at digest in
// repository (registry/repository). The SBOM's artifact type follows its format; the
// provenance is made to name the pushed image as its subject first. A provenance file that
// is not there (an SBOM written by another tool or an older plugin) is said, not an error.
func attachDocuments(ctx context.Context, ui packersdk.Ui, repository, digest, sbomPath, provenancePath string, auth registry.AuthConfig) (referrers, error) {
	var r referrers
	if sbomPath == "" {
		return r, nil
	}
	data, err := os.ReadFile(sbomPath)
	if err != nil {
		return r, fmt.Errorf("attaching the SBOM: %w", err)
	}
	mediaType, err := sbom.MediaTypeOf(data)
	if err != nil {
		return r, fmt.Errorf("attaching the SBOM %s: %w", sbomPath, err)
	}
	if r.sbom, err = attach(ctx, ui, "SBOM", sbomPath, repository, digest, mediaType, data, auth); err != nil {
		return r, err
	}
	statement, err := os.ReadFile(provenancePath)
	if errors.Is(err, fs.ErrNotExist) {
		ui.Sayf("No provenance at %s: only the SBOM is attached", provenancePath)
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("attaching the provenance: %w", err)
	}
	if statement, err = sbom.Retarget(statement, repository, digest); err != nil {
		return r, fmt.Errorf("attaching the provenance %s: %w", provenancePath, err)
	}
	r.provenance, err = attach(ctx, ui, "provenance", provenancePath, repository, digest, sbom.ProvenanceMediaType, statement, auth)
	return r, err
}

// attach pushes data (what, read from path) as a referrer of artifactType of the image at
// digest, and returns the referrer's manifest digest.
func attach(ctx context.Context, ui packersdk.Ui, what, path, repository, digest, artifactType string, data []byte, auth registry.AuthConfig) (string, error) {
	referrer, err := imagepush.PushReferrer(ctx, repository, digest, artifactType, data, imagepush.RemoteOptions(auth)...)
	if err != nil {
		return "", fmt.Errorf("attaching the %s %s to %s@%s: %w", what, path, repository, digest, err)
	}
	ui.Sayf("Attached the %s %s to %s@%s as referrer %s (%s)", what, path, repository, digest, referrer, artifactType)
	return referrer, nil
}
