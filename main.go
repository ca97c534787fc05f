// Command packer-plugin-openhands is the Packer plugin: it registers the openhands-runtime
// builder and provisioner and the openhands-ecr post-processor with Packer.
package main

import (
	"fmt"
	"os"

	"github.com/hashicorp/packer-plugin-sdk/plugin"

	"github.com/openhands-runtime/packer-plugin-openhands/builder/runtime"
	"github.com/openhands-runtime/packer-plugin-openhands/post-processor/ecr"
	"github.com/openhands-runtime/packer-plugin-openhands/provisioner/runtime"
	"github.com/openhands-runtime/packer-plugin-openhands/version"
)

func main() {
	pps := plugin.NewSet()
	pps.RegisterBuilder("runtime", new(runtimebuilder.Builder))
	pps.RegisterProvisioner("runtime", new(runtimeprovisioner.Provisioner))
	pps.RegisterPostProcessor("ecr", new(ecrpostprocessor.PostProcessor))
	pps.SetVersion(version.PluginVersion)
	if err := pps.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err.Error())
		os.Exit(1)
	}
}
