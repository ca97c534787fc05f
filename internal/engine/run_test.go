package engine

import (
	"reflect"
	"testing"
)

// TestScriptContainerHasNoNetwork checks the configuration a script runs in (the ECR
// post-processor's verification, the builder's inventory): the script as root's entrypoint,
// no network, nothing published or mounted.
func TestScriptContainerHasNoNetwork(t *testing.T) {
	config, host := ScriptContainer("sha256:0123", "root", "echo checks")
	if host.NetworkMode != "none" || !host.NetworkMode.IsNone() {
		t.Errorf("NetworkMode %q, want \"none\"", host.NetworkMode)
	}
	if len(host.PortBindings) != 0 || host.PublishAllPorts || len(host.ExtraHosts) != 0 || len(host.DNS) != 0 || len(host.Links) != 0 {
		t.Errorf("network settings on a container without network: %+v", host)
	}
	if host.Privileged || len(host.Binds) != 0 || len(host.Mounts) != 0 || len(host.CapAdd) != 0 {
		t.Errorf("privileges or mounts: %+v", host)
	}
	if len(config.ExposedPorts) != 0 {
		t.Errorf("exposed ports %v", config.ExposedPorts)
	}
	if config.Image != "sha256:0123" || config.User != "root" || !reflect.DeepEqual([]string(config.Entrypoint), []string{"/bin/bash", "-c", "echo checks"}) || len(config.Cmd) != 0 {
		t.Errorf("config %+v: want the image, as root, bash -c the script, no command", config)
	}
}
