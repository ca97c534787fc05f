package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

var rigEnv *rig.Env

func TestMain(m *testing.M) { os.Exit(rig.Main(m, &rigEnv)) }

// TestAccExamplesValidate runs `packer validate` on every example with the docker and amazon
// plugins built from the module proxy and this plugin, as a user would after copying one.
func TestAccExamplesValidate(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	source := rig.FixtureSourceDir()
	standins := rig.StandinsDir()
	vscodeTarball, err := rig.VSCodeServerTarball()
	if err != nil {
		t.Fatal(err)
	}
	vscodeSHA := "vscode_server_sha256=" + strings.Repeat("ab", 32)
	vars := map[string][]string{
		"offline.pkr.hcl": {
			"source_dir=" + source,
			"micromamba_path=" + filepath.Join(standins, "micromamba"),
			"uv_path=" + filepath.Join(standins, "uv"),
			"vscode_server_path=" + vscodeTarball,
		},
		"al2023-ami.pkr.hcl":         {"source_dir=" + source, vscodeSHA},
		"graviton-ami.pkr.hcl":       {"source_dir=" + source, vscodeSHA},
		"builder-runtime.pkr.hcl":    {"source_dir=" + source, vscodeSHA},
		"docker-runtime.pkr.hcl":     {"source_dir=" + source, vscodeSHA},
		"ami-and-container.pkr.hcl":  {"source_dir=" + source, vscodeSHA},
		"agent-server-ami.pkr.hcl":   {vscodeSHA},
		"agent-server-image.pkr.hcl": {"vscode_server_sha256_x64=" + strings.Repeat("ab", 32), "vscode_server_sha256_arm64=" + strings.Repeat("cd", 32)},
		"ami-and-container-multiarch.pkr.hcl": {"source_dir=" + source,
			"vscode_server_sha256_x64=" + strings.Repeat("ab", 32), "vscode_server_sha256_arm64=" + strings.Repeat("cd", 32)},
	}
	examples, err := filepath.Glob(filepath.Join("example", "*.pkr.hcl"))
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, path := range examples {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			given, ok := vars[name]
			if !ok {
				t.Fatalf("%s has no variables in this test's table: add them", name)
			}
			args := []string{"validate"}
			for _, v := range given {
				args = append(args, "-var", v)
			}
			out, err := exec.Command(rigEnv.Packer, append(args, path)...).CombinedOutput()
			if err != nil {
				t.Fatalf("packer validate %s: %v\n%s", name, err, out)
			}
		})
	}
}

var (
	dockerSource = regexp.MustCompile(`(?s)source "docker" "[^"]*" \{.*?\n\}`)
	changesList  = regexp.MustCompile(`(?s)\n\s*changes\s*=\s*\[(.*?)\n\s*\]`)
	hclString    = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	// HCL's template escapes, for strings without interpolations.
	hclLiteral = strings.NewReplacer("$${", "${", "%%{", "%{")
)

// TestDocumentedDockerChangesCarryTheLaunchEnvironment checks every docker builder source in
// the examples, the README and the docs: an image committed from it must get the launch
// environment of the plan (plan.DockerChanges), in order, or OpenHands' launcher cannot start it
// (`micromamba run -n openhands` finds the environment only through MAMBA_ROOT_PREFIX).
func TestDocumentedDockerChangesCarryTheLaunchEnvironment(t *testing.T) {
	var o plan.Options
	o.SetDefaults()
	want := plan.DockerChanges(o)
	files, _ := filepath.Glob(filepath.Join("example", "*.pkr.hcl"))
	docs, _ := filepath.Glob(filepath.Join("docs", "*", "*.mdx"))
	files = append(append(files, docs...), "README.md")
	sources := 0
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, block := range dockerSource.FindAllString(string(data), -1) {
			sources++
			m := changesList.FindStringSubmatch(block)
			if m == nil {
				t.Errorf("%s: a docker source has no changes list:\n%s", path, block)
				continue
			}
			var got []string
			for _, lit := range hclString.FindAllString(m[1], -1) {
				s, err := strconv.Unquote(lit)
				if err != nil {
					t.Fatalf("%s: %s: %v", path, lit, err)
				}
				s = hclLiteral.Replace(s)
				if strings.HasPrefix(s, "ENV ") || strings.HasPrefix(s, "WORKDIR ") {
					got = append(got, s)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: the docker source's ENV and WORKDIR changes are\n%q\nwant (plan.DockerChanges)\n%q", path, got, want)
			}
		}
	}
	if sources < 4 {
		t.Errorf("found %d docker sources in the examples and docs, want at least 4", sources)
	}
}
