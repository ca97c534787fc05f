package runtimebuilder

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
	"github.com/openhands-runtime/packer-plugin-openhands/sbom"
	"github.com/openhands-runtime/packer-plugin-openhands/version"
)

// StepSBOM writes the SBOM of the image and its provenance: the plan's inventory runs as root
// in a network-less container of it, unless the files at sbom_path and beside it already
// describe the same image id. The image is not labelled with the SBOM's digest: a label would change the image, and with it the image the
// content tags name, on every run; the artifact's metadata records it instead.
type StepSBOM struct{}

func (s *StepSBOM) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	config := state.Get("config").(*Config)
	if !config.Settings.Enabled() {
		return multistep.ActionContinue
	}
	driver := state.Get("driver").(engine.Driver)
	ui := state.Get("ui").(packersdk.Ui)
	id := state.Get("image_id").(string)
	p := state.Get("plan").(*plan.Plan)

	if abs, err := filepath.Abs(config.Settings.Path); err == nil {
		if w, ok := sbom.Describes(abs, id, version.PluginVersion.FormattedVersion()); ok {
			ui.Sayf("SBOM and provenance of %s kept: %s (%s) and %s describe the same image", id, abs, w.Digest, w.ProvenancePath)
			state.Put("sbom", w)
			return multistep.ActionContinue
		}
	}
	started := time.Now()
	inv := &plan.Inventory{}
	var lineErr error
	code, err := driver.RunScript(ctx, id, plan.RootUser, p.InventoryScript(version.PluginVersion.FormattedVersion()), func(line string) {
		ok, err := inv.Add(line)
		if !ok {
			ui.Say(line)
		}
		if err != nil && lineErr == nil {
			lineErr = err
		}
	})
	switch {
	case err != nil:
		return halt(state, fmt.Errorf("the SBOM: %w", err))
	case code != 0:
		return halt(state, fmt.Errorf("the SBOM: the inventory of %s exited with code %d", id, code))
	case lineErr != nil:
		return halt(state, fmt.Errorf("the SBOM: %w", lineErr))
	case !inv.Complete:
		return halt(state, fmt.Errorf("the SBOM: the inventory of %s printed no end line", id))
	}
	// The image's creation time, not now: the same image gets the same documents on any run
	// or checkout, and an unchanged push attaches no new referrer.
	img, err := driver.Image(ctx, id)
	created := img.Created
	if err != nil {
		return halt(state, fmt.Errorf("the SBOM: %w", err))
	}
	w, err := sbom.Write(config.Options, config.Settings, sbom.Input{
		Subject:       sbom.Subject{Name: state.Get("source_ref").(string), Version: id, Type: cdx.ComponentTypeContainer},
		Inventory:     inv,
		Inputs:        state.Get("inputs").(plan.Inputs),
		Base:          sbom.Base{Name: config.BaseImage, Digest: state.Get("base_id").(string)},
		PluginVersion: version.PluginVersion.FormattedVersion(),
		Created:       created,
	}, id)
	if err != nil {
		return halt(state, err)
	}
	ui.Sayf("SBOM written to %s (%d components, %s), provenance to %s, in %s", w.Path, w.Components, w.Digest, w.ProvenancePath, time.Since(started).Round(10*time.Millisecond))
	state.Put("sbom", w)
	return multistep.ActionContinue
}

func (s *StepSBOM) Cleanup(multistep.StateBag) {}
