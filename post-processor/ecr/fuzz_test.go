package ecrpostprocessor

import (
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/spectest"
)

// FuzzPrepare feeds random HCL values through the post-processor's spec to Config.Prepare
// (Configure also checks AWS credentials, which needs no fuzzing): it never panics.
func FuzzPrepare(f *testing.F) {
	var c Config
	spectest.FuzzPrepare(f, c.FlatMapstructure().HCL2Spec(), "repository = \"agents/openhands-runtime\"\nregion = \"us-east-1\"\n", nil,
		func(raws ...interface{}) error {
			c = Config{}
			return c.Prepare(raws...)
		}, nil)
}
