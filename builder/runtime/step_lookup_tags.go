package runtimebuilder

import (
	"context"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// StepLookupTags computes the content tags and looks for them: an image with the source tag
// is the result, with nothing to build; one with the lock tag is the base of a build of the
// source layers only.
type StepLookupTags struct{}

func (s *StepLookupTags) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	config := state.Get("config").(*Config)
	driver := state.Get("driver").(engine.Driver)
	ui := state.Get("ui").(packersdk.Ui)

	// The plugin's version is in the rendered plan and Dockerfile, so in the digests too.
	// The platform is part of what the image is built from: an image per platform, each
	// named by its own tags, also when the base ids of two platforms coincide.
	base := state.Get("base_id").(string)
	if config.DockerPlatform != "" {
		base += " " + config.DockerPlatform
	}
	lock, source := plan.ContentTags(state.Get("openhands_version").(string), base,
		state.Get("dockerfile").(string), state.Get("script").(string), state.Get("inputs").(plan.Inputs))
	lockRef, sourceRef := config.ImageRepository+":"+lock, config.ImageRepository+":"+source
	state.Put("lock_ref", lockRef)
	state.Put("source_ref", sourceRef)
	ui.Sayf("Content tags: lock %s, source %s", lock, source)

	if config.ForceRebuild {
		ui.Say("force_rebuild is set: building without looking for existing images")
		return multistep.ActionContinue
	}
	id, err := localImageID(ctx, driver, sourceRef)
	if err != nil {
		return halt(state, err)
	}
	if id != "" {
		ui.Sayf("%s exists (%s): nothing to build", sourceRef, id)
		state.Put("image_id", id)
		return multistep.ActionContinue
	}
	id, err = localImageID(ctx, driver, lockRef)
	if err != nil {
		return halt(state, err)
	}
	if id != "" {
		ui.Sayf("%s exists: building the source layers on it", lockRef)
		state.Put("build_from", lockRef)
	}
	return multistep.ActionContinue
}

func (s *StepLookupTags) Cleanup(multistep.StateBag) {}
