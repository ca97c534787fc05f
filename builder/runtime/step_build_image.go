package runtimebuilder

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
	"github.com/openhands-runtime/packer-plugin-openhands/version"
)

// StepBuildImage builds the image when no existing one has its source tag. The build context
// is streamed to the engine as it is packed.
type StepBuildImage struct{}

func (s *StepBuildImage) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	if _, done := state.GetOk("image_id"); done {
		return multistep.ActionContinue
	}
	config := state.Get("config").(*Config)
	driver := state.Get("driver").(engine.Driver)
	ui := state.Get("ui").(packersdk.Ui)
	p := state.Get("plan").(*plan.Plan)
	sourceRef, lockRef := state.Get("source_ref").(string), state.Get("lock_ref").(string)

	dockerfile := state.Get("dockerfile").(string)
	tags := []string{sourceRef, lockRef}
	if from, ok := state.GetOk("build_from"); ok {
		dockerfile = p.SourceDockerfile(from.(string), version.PluginVersion.FormattedVersion())
		tags = []string{sourceRef}
	}

	reader, writer := io.Pipe()
	go func() {
		writer.CloseWithError(plan.WriteDockerContext(writer, p, dockerfile, state.Get("script").(string), state.Get("files").([]plan.SourceFile)))
	}()
	defer reader.Close()

	ui.Say("Building the OpenHands runtime image")
	if s := config.Options.LockSummary(); s != "" {
		ui.Say(s)
	}
	started := time.Now()
	result, err := driver.Build(ctx, engine.BuildRequest{
		Context:     reader,
		Tags:        tags,
		BuildArgs:   config.BuildArgs,
		Platform:    config.DockerPlatform,
		BuildKit:    config.BuildKit,
		NetworkMode: config.NetworkMode,
	}, ui)
	if err != nil {
		return halt(state, fmt.Errorf("building the runtime image: %w", err))
	}
	took := time.Since(started).Round(time.Second)
	with := "the legacy builder"
	if config.BuildKit {
		with = "BuildKit"
	}
	ui.Sayf("Built %s in %s with %s: %d steps, %d from the cache", result.ImageID, took, with, result.Steps, result.CachedSteps)
	state.Put("image_id", result.ImageID)
	state.Put("created", tags)
	return multistep.ActionContinue
}

func (s *StepBuildImage) Cleanup(multistep.StateBag) {}
