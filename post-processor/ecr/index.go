package ecrpostprocessor

import (
	"context"
	"fmt"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/artifact"
	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
	"github.com/openhands-runtime/packer-plugin-openhands/internal/imagepush"
	"github.com/openhands-runtime/packer-plugin-openhands/sbom"
)

// platformImage is a local image the artifact holds: the one image, or one of the images of
// a multi-platform build, which are pushed together as one index.
type platformImage struct {
	platform    string // os/arch[/variant]; "" for an image of an unnamed platform
	id          string
	contentTags []string
	// sbomPath and provenancePath are the documents to attach to its manifest ("" for none).
	sbomPath, provenancePath string
}

func (img platformImage) String() string {
	if img.platform == "" {
		return img.id
	}
	return img.platform + " image " + img.id
}

// sourceImages are the artifact's images in the local engine. An artifact of several
// platforms (the openhands-runtime builder's platform_images) is checked image by image: its
// platform must be what the engine records, and each content tag names one of its images.
func (p *PostProcessor) sourceImages(ctx context.Context, driver engine.Driver, source packersdk.Artifact) ([]platformImage, error) {
	refs, tags := contentRefs(source)
	entries := artifact.Strings(source, artifact.StatePlatformImages)
	if len(entries) <= 1 {
		img, err := driver.Image(ctx, source.Id())
		if err != nil {
			return nil, err
		}
		sbomPath, provenancePath := documents(&p.config, source)
		return []platformImage{{id: img.ID, contentTags: tags, sbomPath: sbomPath, provenancePath: provenancePath}}, nil
	}
	sboms := map[string]string{}
	for _, entry := range artifact.Strings(source, sbom.StatePlatformPaths) {
		platform, path, _ := strings.Cut(entry, "=")
		sboms[platform] = path
	}
	var images []platformImage
	byID := map[string]int{}
	for _, entry := range entries {
		platform, ref, ok := strings.Cut(entry, "=")
		if !ok {
			return nil, fmt.Errorf("the artifact's platform_images entry %q is not platform=image", entry)
		}
		local, err := driver.Image(ctx, ref)
		if err != nil {
			return nil, err
		}
		id, recorded := local.ID, local.Platform
		if recorded != platform {
			return nil, fmt.Errorf("the artifact says image %s is for %s, and the engine records it as %s: nothing was pushed; check the base image of %s (base_images)", id, platform, recorded, platform)
		}
		byID[id] = len(images)
		img := platformImage{platform: platform, id: id, sbomPath: sboms[platform]}
		if img.sbomPath != "" {
			img.provenancePath = sbom.ProvenancePath(img.sbomPath)
		}
		images = append(images, img)
	}
	for i, ref := range refs {
		local, err := driver.Image(ctx, ref)
		if err != nil {
			return nil, err
		}
		id := local.ID
		n, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("content tag %s names image %s, which is none of the artifact's platform images", ref, id)
		}
		images[n].contentTags = append(images[n].contentTags, tags[i])
	}
	return images, nil
}

// pushIndex pushes every platform's image under its own content tags, then one index of them
// under the configured tags: a Docker manifest list over Docker manifests (gzip layers), an
// OCI image index over OCI manifests (zstd). ECR takes both, and `docker pull --platform`
// picks its image from either. Each image's SBOM and provenance are attached to its own
// manifest; the sbom_path option's file and the provenance beside it, when set, to the index.
func (p *PostProcessor) pushIndex(ctx context.Context, ui packersdk.Ui, target pushTarget, images []platformImage, region string) (*Artifact, error) {
	c := &p.config
	repo, err := target.repository()
	if err != nil {
		return nil, err
	}
	started := time.Now()
	pushed := &Artifact{name: target.name, region: region, sourceImageID: images[0].id}
	var manifests []v1.Descriptor
	for _, img := range images {
		if len(img.contentTags) == 0 && c.PushMethod == pushEngine {
			return nil, fmt.Errorf("the %s has no content tag to push it under with push_method = \"engine\": build it with the openhands-runtime builder, or use push_method = \"plugin\"", img)
		}
		ui.Sayf("Pushing the %s", img)
		digest, err := p.pushImage(ctx, ui, target, img.id, img.contentTags)
		if err != nil {
			return nil, err
		}
		desc, err := remote.Head(repo.Digest(digest), target.remoteOptions(ctx)...)
		if err != nil {
			return nil, fmt.Errorf("reading the descriptor of the %s pushed as %s: %w", img, digest, err)
		}
		if desc.Platform, err = v1.ParsePlatform(img.platform); err != nil {
			return nil, fmt.Errorf("the platform of the %s: %w", img, err)
		}
		manifests = append(manifests, *desc)
		pushed.platformManifests = append(pushed.platformManifests, img.platform+"="+digest)
		referrers, err := attachDocuments(ctx, ui, target.name, digest, img.sbomPath, img.provenancePath, target.reg.auth)
		if err != nil {
			return nil, err
		}
		if referrers.sbom != "" {
			pushed.platformSBOMReferrers = append(pushed.platformSBOMReferrers, img.platform+"="+referrers.sbom)
		}
		if referrers.provenance != "" {
			pushed.platformProvenanceReferrers = append(pushed.platformProvenanceReferrers, img.platform+"="+referrers.provenance)
		}
	}
	index, err := imagepush.NewIndex(manifests)
	if err != nil {
		return nil, err
	}
	pushed.digest, pushed.tags = index.Digest().String(), pushTags(c.Tags)
	if err := p.putManifest(ctx, ui, target, index, pushed.tags, started); err != nil {
		return nil, err
	}
	ui.Sayf("Pushed %s@%s, an index of %d platforms (%s), with tags %s", target.name, pushed.digest, len(images), strings.Join(pushed.platformManifests, " "), strings.Join(pushed.tags, " "))
	if c.SBOMPath != "" {
		if pushed.referrers, err = attachDocuments(ctx, ui, target.name, pushed.digest, c.SBOMPath, sbom.ProvenancePath(c.SBOMPath), target.reg.auth); err != nil {
			return nil, err
		}
	}
	return pushed, nil
}
