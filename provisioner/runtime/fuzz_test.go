package runtimeprovisioner

import (
	"strings"
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/fixture"
	"github.com/openhands-runtime/packer-plugin-openhands/internal/spectest"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// FuzzPrepare feeds random HCL values through the provisioner's spec: Prepare never panics,
// and a configuration it accepts renders its script and Dockerfile without panicking.
func FuzzPrepare(f *testing.F) {
	src := fixture.SourceDir(f)
	base := "source_dir = \"" + src + "\"\nvscode_server_sha256 = \"" + strings.Repeat("ab", 32) + "\"\n"
	var p Provisioner
	spectest.FuzzPrepare(f, p.ConfigSpec(), base, []interface{}{packerRaw()}, func(raws ...interface{}) error {
		p = Provisioner{}
		return p.Prepare(raws...)
	}, func(t *testing.T) {
		pl := plan.New(p.config.Options, plan.Inputs{})
		pl.Script("fuzz")
		pl.Dockerfile("debian:12", "fuzz")
	})
}
