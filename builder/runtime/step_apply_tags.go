package runtimebuilder

import (
	"context"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
	"github.com/openhands-runtime/packer-plugin-openhands/sbom"
)

// StepApplyTags adds the user's tags and makes the artifact, listing every tag that points
// at the image: the content tags and the user's.
type StepApplyTags struct{}

func (s *StepApplyTags) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	config := state.Get("config").(*Config)
	driver := state.Get("driver").(engine.Driver)
	ui := state.Get("ui").(packersdk.Ui)
	id := state.Get("image_id").(string)

	var created []string
	if c, ok := state.GetOk("created"); ok {
		created = c.([]string)
	}
	var tags []string
	for _, ref := range []string{state.Get("source_ref").(string), state.Get("lock_ref").(string)} {
		current, err := localImageID(ctx, driver, ref)
		if err != nil {
			return halt(state, err)
		}
		if current == id {
			tags = append(tags, ref)
		}
	}
	for _, t := range config.Tags {
		ref := config.ImageRepository + ":" + t
		current, err := localImageID(ctx, driver, ref)
		if err != nil {
			return halt(state, err)
		}
		if current != id {
			if err := driver.Tag(ctx, id, ref); err != nil {
				return halt(state, err)
			}
			created = append(created, ref)
		}
		tags = append(tags, ref)
	}
	ui.Sayf("Image %s tagged %v", id, tags)
	// The zero Written when no SBOM was written.
	written, _ := state.GetOk("sbom")
	documents, _ := written.(sbom.Written)
	state.Put("artifact", &Artifact{
		imageID:     id,
		tags:        tags,
		created:     created,
		baseImage:   config.BaseImage,
		baseImageID: state.Get("base_id").(string),
		sbom:        documents,
		sbomFormat:  config.Settings.Format,
		record:      plan.NewRecord(config.Options).JSON(),
		driver:      driver,
	})
	return multistep.ActionContinue
}

func (s *StepApplyTags) Cleanup(multistep.StateBag) {}
