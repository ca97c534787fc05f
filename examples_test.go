package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/rig"
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
	vars := map[string][]string{
		"offline.pkr.hcl": {
			"source_dir=" + source,
			"micromamba_path=" + filepath.Join(standins, "micromamba"),
			"uv_path=" + filepath.Join(standins, "uv"),
		},
		"al2023-ami.pkr.hcl":        {"source_dir=" + source},
		"builder-runtime.pkr.hcl":   {"source_dir=" + source},
		"docker-runtime.pkr.hcl":    {"source_dir=" + source},
		"ami-and-container.pkr.hcl": {"source_dir=" + source},
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
