package runtimebuilder

import (
	"context"
	"fmt"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
)

// StepPullBase pulls the base image when asked, and records its id: the id, not the name,
// goes into the content tags, so a newer base under the same name is a new image.
type StepPullBase struct{}

func (s *StepPullBase) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	config := state.Get("config").(*Config)
	driver := state.Get("driver").(engine.Driver)
	ui := state.Get("ui").(packersdk.Ui)

	if *config.Pull {
		ui.Sayf("Pulling the base image %s", config.BaseImage)
		if err := driver.Pull(ctx, config.BaseImage, config.DockerPlatform, ui); err != nil {
			return halt(state, fmt.Errorf("base_image: %w", err))
		}
	}
	id, err := localImageID(ctx, driver, config.BaseImage)
	if err != nil {
		return halt(state, err)
	}
	if id == "" {
		return halt(state, fmt.Errorf("base_image: %s is not in the local Docker engine; set pull = true or pull or load it first", config.BaseImage))
	}
	state.Put("base_id", id)
	return multistep.ActionContinue
}

func (s *StepPullBase) Cleanup(multistep.StateBag) {}
