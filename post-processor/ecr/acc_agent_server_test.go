package ecrpostprocessor

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/ecrtest"
	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
)

// TestAccECRPushesAgentServer builds the V1 runtime with the builder (the real packages from
// the rig's index) and pushes it with openhands-ecr, which is told nothing of the runtime: the
// builder's record says agent-server, so the network-less verification runs the
// agent-server's checks, the server's launch with a session key among them, before the push.
func TestAccECRPushesAgentServer(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	cleanupImages(t)
	repository := fmt.Sprintf("openhands-acc-ecr-%d", os.Getpid())
	reg := ecrtest.NewRegistry(t, "AWS", registryPwd)
	ecr := ecrtest.NewECR(t, reg, ecrtest.ECROptions{AccessKeyID: accessKey, SecretAccessKey: secretKey})
	tmpl, err := rig.AgentServerBuilderTemplate(rigEnv, repository, rig.AgentServerRelease("1.58.2"), false, "\n  "+ecrPostProcessor(t, ecr, secretKey, ""))
	if err != nil {
		t.Fatal(err)
	}
	var digest string
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "ecr_agent_server",
		Template: tmpl,
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			log := rig.ReadLog(t, logfile)
			for _, want := range []string{"(openhands-ecr): check agent-server launch: ok", "(openhands-ecr): check agent-server versions: ok",
				"(openhands-ecr): verification passed"} {
				if !strings.Contains(log, want) {
					return fmt.Errorf("the output lacks %q", want)
				}
			}
			if strings.Contains(log, "(openhands-ecr): check editable install") {
				return fmt.Errorf("the agent-server image was checked as an action server")
			}
			m := pushedLine.FindStringSubmatch(log)
			if m == nil {
				return fmt.Errorf("no push summary in the output")
			}
			digest = m[2]
			return nil
		},
	})
	if !t.Failed() {
		checkLatest(t, reg, digest)
	}
}
