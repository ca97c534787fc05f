package runtimebuilder

import (
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
	"github.com/openhands-runtime/packer-plugin-openhands/acctest/spectest"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// FuzzPrepare feeds random HCL values through the builder's spec: Prepare never panics, and
// a configuration it accepts renders its Dockerfile without panicking.
func FuzzPrepare(f *testing.F) {
	var b Builder
	spectest.FuzzPrepare(f, b.ConfigSpec(), fixture.SourceHCL(f), []interface{}{packerBuildRaw()}, func(raws ...interface{}) error {
		b = Builder{}
		_, _, err := b.Prepare(raws...)
		return err
	}, func(t *testing.T) {
		plan.New(b.config.Options, plan.Inputs{}).Dockerfile(b.config.BaseImage, "fuzz")
	})
}
