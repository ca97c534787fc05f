package runtimebuilder

import (
	"strings"
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/fixture"
	"github.com/openhands-runtime/packer-plugin-openhands/internal/spectest"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// FuzzPrepare feeds random HCL values through the builder's spec: Prepare never panics, and
// a configuration it accepts renders its Dockerfile without panicking.
func FuzzPrepare(f *testing.F) {
	src := fixture.SourceDir(f)
	base := "source_dir = \"" + src + "\"\nvscode_server_sha256 = \"" + strings.Repeat("ab", 32) + "\"\n"
	var b Builder
	spectest.FuzzPrepare(f, b.ConfigSpec(), base, []interface{}{packerBuildRaw()}, func(raws ...interface{}) error {
		b = Builder{}
		_, _, err := b.Prepare(raws...)
		return err
	}, func(t *testing.T) {
		plan.New(b.config.Options, plan.Inputs{}).Dockerfile(b.config.BaseImage, "fuzz")
	})
}
