//go:generate go tool packer-sdc struct-markdown
//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Config

package runtimeprovisioner

import (
	"github.com/hashicorp/packer-plugin-sdk/common"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
	"github.com/openhands-runtime/packer-plugin-openhands/sbom"
)

// Config is the openhands-runtime provisioner's configuration: the plan's install options.
type Config struct {
	common.PackerConfig `mapstructure:",squash"`
	plan.Options        `mapstructure:",squash"`
	sbom.Settings       `mapstructure:",squash"`

	ctx interpolate.Context
}

// Prepare decodes the raw configuration and reports every invalid value at once.
func (c *Config) Prepare(raws ...interface{}) error {
	err := config.Decode(c, &config.DecodeOpts{
		PluginType:         "packer.provisioner.openhands-runtime",
		Interpolate:        true,
		InterpolateContext: &c.ctx,
	}, raws...)
	if err != nil {
		return err
	}
	var errs *packersdk.MultiError
	for _, e := range append(c.Options.Prepare(), c.Settings.Prepare(c.PackerBuildName)...) {
		errs = packersdk.MultiErrorAppend(errs, e)
	}
	if errs != nil && len(errs.Errors) > 0 {
		return errs
	}
	packersdk.LogSecretFilter.Set(c.Options.Secrets()...)
	return nil
}
