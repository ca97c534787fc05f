package runtimeprovisioner

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/rig"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// TestAccProvisionerAgentServer: the docker builder and this provisioner make the V1 runtime
// with the `changes` the docs print (plan.DockerChanges of the agent-server's layout), the
// real agent-server packages installed from the rig's index; OpenHands' own DockerWorkspace
// then starts the committed image as SDK users do and runs a command in it.
func TestAccProvisionerAgentServer(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	const version, image = "1.58.2", "openhands-acc-agent-server"
	real, err := rig.RealInstallAttributes(rigEnv, "    ")
	if err != nil {
		t.Fatal(err)
	}
	real = strings.ReplaceAll(real, "    install_browser    = false\n", "")
	changes := rig.DockerChangesFor(plan.Layout{Runtime: plan.RuntimeAgentServer, AgentServerVersion: version})
	tmpl := fmt.Sprintf(`
source "docker" "acc" {
  image       = %q
  pull        = false
  commit      = true
  run_command = ["-d", "-i", "-t", "--network=host", "--", "{{.Image}}"]
  changes     = %s
}

build {
  sources = ["source.docker.acc"]

  provisioner "openhands-runtime" {
    runtime              = "agent-server"
    agent_server_version = %q
%s  }

  post-processor "docker-tag" {
    repository = %q
    tags       = ["acc"]
  }
}
`, rigEnv.TrixieImage, changes, version, real, image)
	t.Cleanup(func() { rig.RemoveImages(image + ":acc") })
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "provisioner_agent_server",
		Template: tmpl,
		Check:    rig.AgentServerBuilt(t),
	})
	rig.RequireWorkspaceCommand(t, rigEnv, image+":acc", version)
}
