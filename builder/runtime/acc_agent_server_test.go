package runtimebuilder

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/rig"
)

// agentServerVersion is the release the V1 tests install: the four packages from PyPI through
// the rig's local index.
const agentServerVersion = "1.58.2"

// TestAccBuilderAgentServer builds the V1 runtime from PyPI: the real uv installs the four
// agent-server packages at agent_server_version from the rig's index into a venv on the
// micromamba environment's Python (Debian 13's 3.13 through the micromamba stand-in:
// conda-forge is out of reach here), the launch check starts the server with a session key,
// and then OpenHands' own DockerWorkspace starts the image as SDK users do and runs a command
// in it. A rebuild with the same options finds the image by its content tag.
func TestAccBuilderAgentServer(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	repo := accImageRepository(t, "agent-server")
	tmpl, err := rig.AgentServerBuilderTemplate(rigEnv, repo, agentServerVersion, "")
	if err != nil {
		t.Fatal(err)
	}
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "builder_agent_server",
		Template: tmpl,
		Check:    rig.AgentServerBuilt(t, "check agent-server versions: ok", "check self-contained venv: ok", "check tini: ok"),
	})
	image := repo + ":acc"
	config := rig.InImage(t, image, "", `id -un; id -u; stat -c '%U %a' /workspace/project; command -v tini`)
	if want := "openhands\n10001\nopenhands 755\n/usr/bin/tini"; config != want {
		t.Errorf("in the image: %q, want %q", config, want)
	}
	inspect, err := rig.Docker("image", "inspect", "--format", "{{json .Config.Entrypoint}} {{json .Config.ExposedPorts}} {{.Config.User}} {{.Config.WorkingDir}}", image)
	if err != nil {
		t.Fatal(err)
	}
	if want := `["tini","--","/openhands/agent-server/bin/python","-m","openhands.agent_server"] {"8000/tcp":{},"8001/tcp":{}} openhands /`; strings.TrimSpace(inspect) != want {
		t.Errorf("image config %s, want %s", strings.TrimSpace(inspect), want)
	}
	rig.RequireWorkspaceCommand(t, rigEnv, image, agentServerVersion)
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "builder_agent_server_unchanged",
		Template: tmpl,
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			if log := rig.ReadLog(t, logfile); !strings.Contains(log, "nothing to build") {
				return fmt.Errorf("the rebuild with the same options built again")
			}
			return nil
		},
	})
}
