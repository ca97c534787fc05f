// Package runtimebuilder is the openhands-runtime builder: the install plan rendered as a
// Dockerfile and built with the Docker Engine API, the image named by its content so that
// unchanged inputs build nothing.
package runtimebuilder

import (
	"context"
	"errors"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	"github.com/hashicorp/packer-plugin-sdk/multistep/commonsteps"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
)

type Builder struct {
	config Config
	runner multistep.Runner
	// driver is set by tests; otherwise the engine driver is made in Run.
	driver engine.Driver
}

func (b *Builder) ConfigSpec() hcldec.ObjectSpec { return b.config.FlatMapstructure().HCL2Spec() }

func (b *Builder) Prepare(raws ...interface{}) ([]string, []string, error) {
	warnings, err := b.config.Prepare(raws...)
	return nil, warnings, err
}

func (b *Builder) Run(ctx context.Context, ui packersdk.Ui, hook packersdk.Hook) (packersdk.Artifact, error) {
	driver := b.driver
	if driver == nil {
		d, err := engine.NewClient()
		if err != nil {
			return nil, err
		}
		driver = d
	}
	var images []*Artifact
	for _, platform := range b.config.buildPlatforms() {
		if len(b.config.Platforms) > 1 {
			ui.Sayf("Building the image for %s", platform)
		}
		image, err := b.runSteps(ctx, ui, hook, driver, b.config.forPlatform(platform))
		if err != nil {
			return nil, err
		}
		image.platform = platform
		images = append(images, image)
	}
	if len(images) == 1 {
		return images[0], nil
	}
	return multiPlatformArtifact(images), nil
}

// runSteps builds one platform's image.
func (b *Builder) runSteps(ctx context.Context, ui packersdk.Ui, hook packersdk.Hook, driver engine.Driver, config *Config) (*Artifact, error) {
	state := new(multistep.BasicStateBag)
	state.Put("config", config)
	state.Put("driver", driver)
	state.Put("hook", hook)
	state.Put("ui", ui)

	steps := []multistep.Step{
		&StepRefuseProvisioners{},
		&StepRender{},
		&StepPullBase{},
		&StepLookupTags{},
		&StepBuildImage{},
		&StepSBOM{},
		&StepApplyTags{},
	}
	b.runner = commonsteps.NewRunnerWithPauseFn(steps, config.PackerConfig, ui, state)
	b.runner.Run(ctx, state)

	if err, ok := state.GetOk("error"); ok {
		return nil, err.(error)
	}
	if _, ok := state.GetOk(multistep.StateCancelled); ok {
		return nil, errors.New("build was cancelled")
	}
	if _, ok := state.GetOk(multistep.StateHalted); ok {
		return nil, errors.New("build was halted")
	}
	return state.Get("artifact").(*Artifact), nil
}
