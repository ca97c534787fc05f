package runtimeprovisioner

import (
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
	"github.com/openhands-runtime/packer-plugin-openhands/acctest/spectest"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// FuzzPrepare feeds random HCL values through the provisioner's spec: Prepare never panics,
// and a configuration it accepts renders its script and Dockerfile without panicking.
func FuzzPrepare(f *testing.F) {
	var p Provisioner
	spectest.FuzzPrepare(f, p.ConfigSpec(), fixture.SourceHCL(f), []interface{}{packerRaw()}, func(raws ...interface{}) error {
		p = Provisioner{}
		return p.Prepare(raws...)
	}, func(t *testing.T) {
		pl := plan.New(p.config.Options, plan.Inputs{})
		pl.Script("fuzz")
		pl.Dockerfile("debian:12", "fuzz")
	})
}
