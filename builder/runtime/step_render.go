package runtimebuilder

import (
	"context"
	"fmt"
	"os"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
	"github.com/openhands-runtime/packer-plugin-openhands/version"
)

// StepRender lists and digests the source tree, reads the version of what is installed (the
// content tags carry it) and renders the plan script and Dockerfile.
// The script is rendered without the source digests: it is an image layer of its own, which
// must not change when only the source does.
type StepRender struct{}

func (s *StepRender) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	config := state.Get("config").(*Config)
	ui := state.Get("ui").(packersdk.Ui)

	var files []plan.SourceFile
	if config.InstallsCheckout() {
		var err error
		if files, err = plan.ListSource(config.SourceDir); err != nil {
			return halt(state, err)
		}
	}
	openhands, err := openHandsVersion(config.Options)
	if err != nil {
		return halt(state, err)
	}
	inputs, err := plan.ComputeInputs(config.Options, files)
	if err != nil {
		return halt(state, err)
	}
	p := plan.New(config.Options, plan.Inputs{})
	v := version.PluginVersion.FormattedVersion()
	script := p.Script(v)
	dockerfile := p.Dockerfile(config.BaseImage, v)
	if config.DockerfilePath != "" {
		if err := os.WriteFile(config.DockerfilePath, []byte(dockerfile), 0o644); err != nil {
			return halt(state, fmt.Errorf("dockerfile_path: %w", err))
		}
		ui.Sayf("Wrote the rendered Dockerfile to %s", config.DockerfilePath)
	}
	state.Put("files", files)
	state.Put("inputs", inputs)
	state.Put("openhands_version", openhands)
	state.Put("plan", p)
	state.Put("script", script)
	state.Put("dockerfile", dockerfile)
	return multistep.ActionContinue
}

func (s *StepRender) Cleanup(multistep.StateBag) {}

// halt records err for the build's result and stops the steps.
func halt(state multistep.StateBag, err error) multistep.StepAction {
	state.Put("error", err)
	state.Get("ui").(packersdk.Ui).Error(err.Error())
	return multistep.ActionHalt
}
