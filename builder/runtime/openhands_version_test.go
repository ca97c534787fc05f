package runtimebuilder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// TestOpenHandsVersion reads the version from the pyproject.toml layouts OpenHands has had,
// and refuses one the tags cannot be named with, saying why.
func TestOpenHandsVersion(t *testing.T) {
	tests := []struct {
		name, pyproject string // no file when pyproject is ""
		want            string
		wantErr         string
	}{
		{name: "[tool.poetry] (OpenHands 0.x)", pyproject: "[tool.poetry]\nname = \"openhands-ai\"\nversion = \"0.62.0\"\n", want: "0.62.0"},
		{name: "[project] (OpenHands 1.x)", pyproject: "[project]\nname = \"openhands-ai\"\nversion = \"1.0.3\"\n\n[tool.poetry]\npackages = []\n", want: "1.0.3"},
		{name: "[project] before [tool.poetry]", pyproject: "[project]\nversion = \"1.1.0\"\n[tool.poetry]\nversion = \"0.0.0\"\n", want: "1.1.0"},
		{name: "a PEP 440 local version", pyproject: "[project]\nversion = \"0.62.0+corp.1\"\n", want: "0.62.0+corp.1"},
		{name: "no version", pyproject: "[project]\nname = \"openhands-ai\"\n",
			wantErr: "has no [project] version or [tool.poetry] version, which the content tags (oh_v<version>_...) are named with"},
		{name: "a dynamic version", pyproject: "[project]\nname = \"openhands-ai\"\ndynamic = [\"version\"]\n",
			wantErr: "declares its version dynamic; the content tags (oh_v<version>_...) need a static [project] version or [tool.poetry] version"},
		{name: "a version with an epoch", pyproject: "[project]\nversion = \"1!2.0\"\n",
			wantErr: `version "1!2.0" cannot be part of an image tag`},
		{name: "not TOML", pyproject: "[project\nversion = 1\n", wantErr: "source_dir: reading the OpenHands version from "},
		{name: "no pyproject.toml", wantErr: "source_dir: reading the OpenHands version from "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.pyproject != "" {
				if err := os.WriteFile(filepath.Join(dir, "pyproject.toml"), []byte(tt.pyproject), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := openHandsVersion(plan.Options{SourceDir: dir})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), filepath.Join(dir, "pyproject.toml")) {
					t.Errorf("got %q, %v; want an error naming the file with %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
