package sbom

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/fixture"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
	"github.com/openhands-runtime/packer-plugin-openhands/plan/projectfile"
)

// dependencies are a statement's resolvedDependencies, name to sha256 ("" without one), with
// their URIs under "uri:<name>".
func dependencies(t *testing.T, st *intoto.Statement) map[string]string {
	t.Helper()
	def := st.GetPredicate().GetFields()["buildDefinition"].GetStructValue()
	out := map[string]string{}
	for _, v := range def.GetFields()["resolvedDependencies"].GetListValue().GetValues() {
		f := v.GetStructValue().GetFields()
		name := f["name"].GetStringValue()
		out[name] = f["digest"].GetStructValue().GetFields()["sha256"].GetStringValue()
		if uri := f["uri"].GetStringValue(); uri != "" {
			out["uri:"+name] = uri
		}
	}
	return out
}

// TestProvenance: the statement is an in-toto Statement v1 with a SLSA Provenance v1
// predicate naming this plugin, the subject, and every input the runtime was built from (base,
// source, lock, options digest, each installed tool's download and checksum), and no
// credential of any option.
func TestProvenance(t *testing.T) {
	const (
		password = "s3cr3t-pa55"
		token    = "t0ken-in-user"
		image    = "sha256:abababababababababababababababababababababababababababababababab"
		baseID   = "sha256:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
	)
	tree := strings.Repeat("7e", 32)
	tools := []string{"os\tdebian\t12\tx86_64", "tool\tmicromamba\t2.9.0", "tool\tuv\tuv 0.12.16", "tool\tvscode_server\t1.98.2"}
	cases := []struct {
		name    string
		options func(*plan.Options)
		lines   []string
		base    Base
		lock    string
		// want are dependencies that must be there, by name ("uri:<name>" for a URI).
		want map[string]string
		// absent are dependency names that must not be there.
		absent []string
	}{
		{
			name:  "pinned downloads, base image and lock",
			lines: tools,
			base:  Base{Name: "debian:bookworm", Digest: baseID},
			lock:  sum,
			want: map[string]string{
				"base:debian:bookworm": strings.TrimPrefix(baseID, "sha256:"),
				"openhands-source":     tree,
				"poetry.lock":          sum,
				"micromamba":           "366cd9cd8be14df1ab8ed50352a82111082a36686b2d389fdb79a92c3fafb3e3",
				"uri:micromamba":       "https://github.com/mamba-org/micromamba-releases/releases/download/2.9.0-0/micromamba-linux-64",
				"uv":                   "8e5c6e5523dffc2dcf615bd995554c84c9feb4e577808a3fb8698a639d3f8d9c",
				"vscode_server":        sum,
			},
		},
		{
			name: "credentialed mirrors and download",
			options: func(o *plan.Options) {
				o.IndexURL = "https://ci:" + password + "@pypi.example.com/simple"
				o.ExtraIndexURLs = []string{"https://" + token + "@extra.example.com/simple"}
				o.UVURL = "https://ci:" + password + "@downloads.example.com/uv.tar.gz"
				o.UVSHA256 = strings.ToUpper(sum)
			},
			lines: tools,
			want: map[string]string{
				"uv":     sum,
				"uri:uv": "https://ci:xxxxx@downloads.example.com/uv.tar.gz",
			},
			absent: []string{"poetry.lock"},
		},
		{
			name: "a supplied tool and no browser tool installed",
			options: func(o *plan.Options) {
				o.UVPath = fixture.WriteFile(t, t.TempDir(), "uv-binary", "#!/bin/sh\n", 0o755)
			},
			lines:  []string{"os\tdebian\t12\tx86_64", "tool\tuv\tuv 0.12.16"},
			want:   map[string]string{"uv (supplied uv-binary)": sum},
			absent: []string{"micromamba", "vscode_server", "base:"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := options(t, tc.options)
			in := Input{
				Subject: Subject{Name: "runtime:latest"}, Inventory: inventory(t, tc.lines...), Options: o, Base: tc.base,
				Inputs:  plan.Inputs{SourceTree: tree, DependencyFiles: sum, Supplied: map[string]string{"uv": sum}},
				Project: projectfile.Project{Name: "openhands-ai", Version: "0.59.0"}, PluginVersion: "1.2.3", Created: time.Unix(1700000000, 0),
			}
			st, err := Provenance(in, resource("runtime:latest", "", image), tc.lock)
			if err != nil {
				t.Fatal(err)
			}
			data, err := EncodeStatement(st)
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{password, token} {
				if strings.Contains(string(data), secret) {
					t.Errorf("the provenance holds the credential %q:\n%s", secret, data)
				}
			}
			st, err = DecodeStatement(data)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{`"_type": "https://in-toto.io/Statement/v1"`, `"predicateType": "https://slsa.dev/provenance/v1"`,
				`"buildType": "` + BuildType + `"`, `"id": "` + BuilderID + `"`} {
				if !strings.Contains(string(data), want) {
					t.Errorf("the provenance lacks %s:\n%s", want, data)
				}
			}
			if builderVersion(st) != "1.2.3" || len(st.Subject) != 1 || st.Subject[0].Digest["sha256"] != strings.TrimPrefix(image, "sha256:") {
				t.Errorf("builder version %q, subject %v", builderVersion(st), st.Subject)
			}
			params := st.GetPredicate().GetFields()["buildDefinition"].GetStructValue().GetFields()["externalParameters"].GetStructValue().GetFields()
			if got := params["options_sha256"].GetStringValue(); got != plan.OptionsDigest(o) || !strings.HasPrefix(got, "sha256:") {
				t.Errorf("options digest %q, want %s", got, plan.OptionsDigest(o))
			}
			deps := dependencies(t, st)
			for name, want := range tc.want {
				if deps[name] != want {
					t.Errorf("dependency %s: %q, want %q (have %v)", name, deps[name], want, deps)
				}
			}
			for _, name := range tc.absent {
				for have := range deps {
					if strings.HasPrefix(have, name) {
						t.Errorf("dependency %s is there: %v", have, deps)
					}
				}
			}
		})
	}
}

// TestOptionsDigest: the options digest changes with what the runtime is built from, not
// with the credential a mirror is reached with.
func TestOptionsDigest(t *testing.T) {
	digest := func(set func(*plan.Options)) string { return plan.OptionsDigest(options(t, set)) }
	withPassword := func(p string) func(*plan.Options) {
		return func(o *plan.Options) { o.IndexURL = "https://ci:" + p + "@pypi.example.com/simple" }
	}
	base := digest(withPassword("one"))
	if other := digest(withPassword("two")); other != base {
		t.Errorf("a new password changed the options digest: %s, %s", base, other)
	}
	for name, set := range map[string]func(*plan.Options){
		"another mirror":         func(o *plan.Options) { o.IndexURL = "https://ci:one@other.example.com/simple" },
		"another Python":         func(o *plan.Options) { withPassword("one")(o); o.PythonVersion = "3.13" },
		"no mirror":              nil,
		"another extra package":  func(o *plan.Options) { withPassword("one")(o); o.ExtraPipPackages = []string{"rich"} },
		"another runtime prefix": func(o *plan.Options) { withPassword("one")(o); o.Prefix = "/opt/oh" },
	} {
		if d := digest(set); d == base {
			t.Errorf("%s: the options digest did not change", name)
		}
	}
}

// TestRetarget: openhands-ecr's provenance names the pushed manifest digest as its only
// subject and keeps the rest; a file that is not a statement is refused.
func TestRetarget(t *testing.T) {
	o := options(t, nil)
	st, err := Provenance(Input{Subject: Subject{Name: "img"}, Inventory: inventory(t, "os\tdebian\t12\tx86_64"), Options: o,
		Inputs: plan.Inputs{SourceTree: sum, DependencyFiles: sum}, PluginVersion: "1.2.3", Created: time.Unix(0, 0)},
		resource("img", "", "sha256:"+sum), "")
	if err != nil {
		t.Fatal(err)
	}
	data, err := EncodeStatement(st)
	if err != nil {
		t.Fatal(err)
	}
	pushed := "sha256:" + strings.Repeat("ef", 32)
	out, err := Retarget(data, "123456789012.dkr.ecr.us-east-1.amazonaws.com/oh", pushed)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeStatement(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Subject) != 1 || got.Subject[0].Name != "123456789012.dkr.ecr.us-east-1.amazonaws.com/oh" || got.Subject[0].Digest["sha256"] != strings.Repeat("ef", 32) {
		t.Errorf("subject %v", got.Subject)
	}
	if dependencies(t, got)["openhands-source"] != sum || builderVersion(got) != "1.2.3" {
		t.Errorf("the predicate changed: %s", out)
	}
	for name, bad := range map[string]string{"an SBOM": `{"bomFormat": "CycloneDX"}`, "not JSON": "{", "no subject": `{"_type": "https://in-toto.io/Statement/v1", "predicateType": "x", "predicate": {}}`} {
		if _, err := Retarget([]byte(bad), "r", pushed); err == nil {
			t.Errorf("%s: retargeted", name)
		}
	}
}

func TestProvenancePath(t *testing.T) {
	for in, want := range map[string]string{
		"out/a.sbom.cdx.json":  "out/a.provenance.intoto.json",
		"out/a.sbom.spdx.json": "out/a.provenance.intoto.json",
		"a.cdx.json":           "a.provenance.intoto.json",
		"sbom.json":            "sbom.provenance.intoto.json",
		"bom":                  "bom.provenance.intoto.json",
		".json":                ".json.provenance.intoto.json",
	} {
		if got := ProvenancePath(filepath.FromSlash(in)); got != filepath.FromSlash(want) {
			t.Errorf("ProvenancePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkWrite is the plugin's side of the SBOM's cost on every run: the documents of a rig
// runtime image's real inventory (testdata/inventory-rig-image.txt: the inventory script's
// output in openhands-runtime-demo, 385 deb packages, 328 distributions, 3 tools), built,
// encoded and written with the provenance, in each format.
func BenchmarkWrite(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "inventory-rig-image.txt"))
	if err != nil {
		b.Fatal(err)
	}
	inv, err := plan.ParseInventory(string(raw))
	if err != nil {
		b.Fatal(err)
	}
	o := rigSourceOptions(b)
	image := "sha256:" + strings.Repeat("ab", 32)
	for _, format := range []string{FormatCycloneDX, FormatSPDX} {
		b.Run(format, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "image.sbom.json")
			for b.Loop() {
				w, err := Write(o, Settings{Path: path, Format: format}, Input{
					Subject: Subject{Name: "img", Version: image}, Inventory: inv,
					Inputs:        plan.Inputs{SourceTree: sum, DependencyFiles: sum},
					PluginVersion: "1.2.3", Created: time.Now(),
				}, image)
				if err != nil {
					b.Fatal(err)
				}
				if w.Components != len(inv.Packages)+len(inv.Python)+len(inv.Tools)+len(inv.Chromium)+1 {
					b.Fatalf("%d components", w.Components)
				}
			}
		})
	}
}
