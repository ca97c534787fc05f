package artifact

import (
	"slices"
	"testing"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// TestStrings reads a list of strings as a plugin's own artifact hands it and as Packer's
// RPC does ([]interface{}), skipping what is no string; anything else is none.
func TestStrings(t *testing.T) {
	a := &packersdk.MockArtifact{StateValues: map[string]interface{}{
		StateDockerTags:     []string{"runtime:latest", "runtime:oh_v1_abc"},
		StatePlatformImages: []interface{}{"linux/amd64=sha256:a", 7, "linux/arm64=sha256:b"},
		StateDigest:         "sha256:d",
	}}
	if got := Strings(a, StateDockerTags); !slices.Equal(got, []string{"runtime:latest", "runtime:oh_v1_abc"}) {
		t.Errorf("docker_tags: %q", got)
	}
	if got := Strings(a, StatePlatformImages); !slices.Equal(got, []string{"linux/amd64=sha256:a", "linux/arm64=sha256:b"}) {
		t.Errorf("platform_images through RPC: %q", got)
	}
	if got := Strings(a, StateDigest); got != nil {
		t.Errorf("a string read as a list: %q", got)
	}
	if got, none := String(a, StateDigest), String(a, StateDockerTags); got != "sha256:d" || none != "" {
		t.Errorf("String = %q and %q, want the digest and nothing for a list", got, none)
	}
}

// TestIsContentTag: the builder's content tags, and no other tag.
func TestIsContentTag(t *testing.T) {
	for tag, want := range map[string]bool{"oh_v0.62.0_0123456789abcdef": true, "oh_v1_abc_def": true, "latest": false, "v1.2.3": false, "x_oh_v1": false} {
		if got := IsContentTag(tag); got != want {
			t.Errorf("IsContentTag(%q) = %t, want %t", tag, got, want)
		}
	}
}
