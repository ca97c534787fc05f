package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
)

var networkNone = regexp.MustCompile(`(?m)^\s*network_mode\s*=\s*"none"\s*$`)

// TestAccAirGappedGuide runs the air-gapped guide's own snippet, as a reader copies it, with
// `packer build`: the builder with network_mode = "none" on the rig's base image (its OS
// packages installed, not pulled), the tools supplied with their *_path variables and no
// browser, so no step of the plan reaches a network. The tools are the rig's stand-ins, which
// fetch nothing from index_url and channel_alias. Hook: when the rig serves a local package
// index on 127.0.0.1 with the real uv (the realinstall branch), run this snippet again with
// network_mode = "host" and index_url set to that index, the real uv as uv_path.
func TestAccAirGappedGuide(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	page := filepath.Join("docs", "guides", "air-gapped.mdx")
	var snippet *hclSnippet
	for _, s := range hclSnippets(t) {
		if s.page == page && networkNone.MatchString(s.text) {
			snippet = &s
			break
		}
	}
	if snippet == nil {
		t.Fatalf("%s has no hcl snippet with network_mode = \"none\"", page)
	}
	tarball, err := rig.VSCodeServerTarball()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{
		"base_image":         rigEnv.BaseImage,
		"source_dir":         rig.FixtureSourceDir(),
		"micromamba_path":    filepath.Join(rig.StandinsDir(), "micromamba"),
		"uv_path":            filepath.Join(rig.StandinsDir(), "uv"),
		"vscode_server_path": tarball,
	}
	dir := t.TempDir()
	template := filepath.Join(dir, "airgapped.pkr.hcl")
	if err := os.WriteFile(template, []byte(snippet.template), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"build", "-color=false"}
	for _, name := range snippet.declared {
		if v, ok := values[name]; ok {
			args = append(args, "-var", name+"="+v)
		}
	}
	repository := regexp.MustCompile(`image_repository\s*=\s*"([^"]+)"`).FindStringSubmatch(snippet.text)
	if repository == nil {
		t.Fatalf("%s: the snippet names no image_repository", snippet)
	}
	t.Cleanup(func() {
		out, _ := exec.Command("docker", "images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference="+repository[1]).Output()
		rig.RemoveImages(strings.Fields(string(out))...)
	})
	cmd := exec.Command(rigEnv.Packer, append(args, template)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: packer build of the guide's snippet fails: %v\n%s", snippet, err, out)
	}
	for _, want := range []string{"verification passed", "finished"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the build's output does not say %q:\n%s", want, out)
		}
	}
}
