package runtimebuilder

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
	"github.com/openhands-runtime/packer-plugin-openhands/sbom"
	"github.com/openhands-runtime/packer-plugin-openhands/version"
)

// StepSBOM writes the SBOM of the image: the plan's inventory runs as root in a network-less
// container of it, unless the file at sbom_path already describes the same image id. The
// image is not
// labelled with the SBOM's digest: a label would change the image, and with it the image the
// content tags name, on every run; the artifact's metadata records it instead.
type StepSBOM struct{}

func (s *StepSBOM) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	config := state.Get("config").(*Config)
	if !config.Settings.Enabled() {
		return multistep.ActionContinue
	}
	driver := state.Get("driver").(Driver)
	ui := state.Get("ui").(packersdk.Ui)
	id := state.Get("image_id").(string)
	p := state.Get("plan").(*plan.Plan)

	if abs, err := filepath.Abs(config.Settings.Path); err == nil {
		if digest, ok := sbom.Describes(abs, id, version.PluginVersion.FormattedVersion()); ok {
			ui.Sayf("SBOM of %s kept: %s (%s) describes the same image", id, abs, digest)
			state.Put("sbom_path", abs)
			state.Put("sbom_digest", digest)
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
	path, digest, count, err := sbom.Write(config.Options, config.Settings, sbom.Input{
		Subject:       sbom.Subject{Name: state.Get("source_ref").(string), Version: id, Type: cdx.ComponentTypeContainer},
		Inventory:     inv,
		Inputs:        state.Get("inputs").(plan.Inputs),
		PluginVersion: version.PluginVersion.FormattedVersion(),
		Now:           time.Now(),
	})
	if err != nil {
		return halt(state, err)
	}
	ui.Sayf("SBOM written to %s (%d components, %s) in %s", path, count, digest, time.Since(started).Round(10*time.Millisecond))
	state.Put("sbom_path", path)
	state.Put("sbom_digest", digest)
	return multistep.ActionContinue
}

func (s *StepSBOM) Cleanup(multistep.StateBag) {}
