package sbom

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/xeipuuv/gojsonschema"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/fixture"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
	"github.com/openhands-runtime/packer-plugin-openhands/plan/projectfile"
)

const sum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func inventory(t *testing.T, lines ...string) *plan.Inventory {
	t.Helper()
	var out strings.Builder
	for _, l := range lines {
		out.WriteString("openhands-inventory\t" + l + "\n")
	}
	out.WriteString("openhands-inventory\tend\t" + itoa(len(lines)) + "\n")
	inv, err := plan.ParseInventory(out.String())
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func options(t *testing.T, set func(*plan.Options)) plan.Options {
	t.Helper()
	o := plan.Options{SourceDir: fixture.SourceDir(t), VSCodeServerSHA256: sum}
	if set != nil {
		set(&o)
	}
	if errs := o.Prepare(); len(errs) != 0 {
		t.Fatal(errs)
	}
	return o
}

// validate checks the document against the CycloneDX 1.6 JSON schema in testdata. The schemas
// it references are loaded first under their $id, so nothing is fetched.
func validate(t *testing.T, data []byte) {
	t.Helper()
	for _, e := range schemaErrors(t, data) {
		t.Errorf("schema: %s", e)
	}
}

func schemaErrors(t *testing.T, data []byte) []gojsonschema.ResultError {
	t.Helper()
	sl := gojsonschema.NewSchemaLoader()
	for _, name := range []string{"spdx.schema.json", "jsf-0.82.schema.json"} {
		raw, err := os.ReadFile(filepath.Join("testdata", "schema", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := sl.AddSchemas(gojsonschema.NewBytesLoader(raw)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "schema", "bom-1.6.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	schema, err := sl.Compile(gojsonschema.NewBytesLoader(raw))
	if err != nil {
		t.Fatal(err)
	}
	res, err := schema.Validate(gojsonschema.NewBytesLoader(data))
	if err != nil {
		t.Fatal(err)
	}
	return res.Errors()
}

// The schema check is a check: a document the schema forbids fails it.
func TestSchemaRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown hash algorithm": `{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "library", "name": "a", "hashes": [{"alg": "SHA256", "content": "00"}]}]}`,
		"unknown component type": `{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "machine", "name": "a"}]}`,
	} {
		if len(schemaErrors(t, []byte(doc))) == 0 {
			t.Errorf("%s: the schema accepted %s", name, doc)
		}
	}
}

func TestBuild(t *testing.T) {
	pins := []projectfile.Pin{{LockedPackage: projectfile.LockedPackage{Name: "Pydantic", Version: "2.11.7"}}}
	pins[0].Files = append(pins[0].Files,
		struct {
			File string `toml:"file"`
			Hash string `toml:"hash"`
		}{"pydantic-2.11.7-py3-none-any.whl", "sha256:" + sum},
		struct {
			File string `toml:"file"`
			Hash string `toml:"hash"`
		}{"pydantic-2.11.7.tar.gz", "md5:0123"})
	cases := []struct {
		name    string
		options func(*plan.Options)
		lines   []string
		pins    []projectfile.Pin
		// want are the purls of components that must be there, with their hashes ("" for
		// none) as "<purl> <sha256 of the first hash or distribution reference>".
		want  map[string]string
		count int
	}{
		{
			name: "debian with the pinned tools",
			lines: []string{"os\tdebian\t12\tx86_64",
				"deb\tadduser\t3.134\tall\tadduser\t3.134",
				"deb\tzlib1g\t1:1.2.13.dfsg-1\tamd64\tzlib\t1:1.2.13.dfsg-1",
				"pypi\topenhands_ai\t0.0.0", "pypi\tPydantic\t2.11.7", "pypi\ttyping_extensions\t4.14.1",
				"tool\tmicromamba\t2.9.0", "tool\tuv\tuv 0.12.16 (abc 2026-01-01)", "tool\tvscode_server\t1.98.2",
				"chromium\tchromium-1187"},
			pins: pins,
			want: map[string]string{
				"pkg:deb/debian/adduser@3.134?arch=all&distro=debian-12":                          "",
				"pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib": "",
				"pkg:pypi/openhands-ai@0.0.0":                                                     "",
				"pkg:pypi/pydantic@2.11.7":                                                        sum,
				"pkg:pypi/typing-extensions@4.14.1":                                               "",
				"pkg:generic/micromamba@2.9.0?checksum=sha256:366cd9cd8be14df1ab8ed50352a82111082a36686b2d389fdb79a92c3fafb3e3&download_url=https://github.com/mamba-org/micromamba-releases/releases/download/2.9.0-0/micromamba-linux-64": "366cd9cd8be14df1ab8ed50352a82111082a36686b2d389fdb79a92c3fafb3e3",
				"pkg:generic/uv@0.12.16?checksum=sha256:8e5c6e5523dffc2dcf615bd995554c84c9feb4e577808a3fb8698a639d3f8d9c&download_url=https://github.com/astral-sh/uv/releases/download/0.12.16/uv-x86_64-unknown-linux-gnu.tar.gz":         "8e5c6e5523dffc2dcf615bd995554c84c9feb4e577808a3fb8698a639d3f8d9c",
				"pkg:generic/vscode_server@1.98.2?checksum=sha256:" + sum + "&download_url=https://github.com/gitpod-io/openvscode-server/releases/download/openvscode-server-v1.98.2/openvscode-server-v1.98.2-linux-x64.tar.gz":           sum,
				"pkg:generic/playwright-chromium@1187": "",
			},
			count: 1 + 2 + 3 + 3 + 1,
		},
		{
			name: "amazon linux 2023 on arm, supplied uv, no browser",
			options: func(o *plan.Options) {
				o.Platform = "amzn-2023"
				o.UVPath = fixture.WriteFile(t, t.TempDir(), "uv", "#!/bin/sh\n", 0o755)
				f := false
				o.InstallBrowser = &f
			},
			lines: []string{"os\tamzn\t2023\taarch64",
				"rpm\tbash\t5.2.15-1.amzn2023.0.2\taarch64\t0\tbash-5.2.15-1.amzn2023.0.2.src.rpm",
				"rpm\tsudo\t1.9.15-1.p5.amzn2023.0.1\taarch64\t1\tsudo-1.9.15-1.p5.amzn2023.0.1.src.rpm",
				"pypi\tpydantic\t2.11.7", "tool\tuv\tuv 0.12.16"},
			pins: pins,
			want: map[string]string{
				"pkg:rpm/amzn/bash@5.2.15-1.amzn2023.0.2?arch=aarch64&distro=amzn-2023&upstream=bash-5.2.15-1.amzn2023.0.2.src.rpm":               "",
				"pkg:rpm/amzn/sudo@1.9.15-1.p5.amzn2023.0.1?arch=aarch64&distro=amzn-2023&epoch=1&upstream=sudo-1.9.15-1.p5.amzn2023.0.1.src.rpm": "",
				"pkg:pypi/pydantic@2.11.7":                      sum,
				"pkg:generic/uv@0.12.16?checksum=sha256:" + sum: sum,
			},
			count: 1 + 2 + 1 + 1,
		},
		{
			name:  "a version other than the locked one gets no lock hashes",
			lines: []string{"os\tdebian\t12\tx86_64", "pypi\tpydantic\t2.12.0"},
			pins:  pins,
			want:  map[string]string{"pkg:pypi/pydantic@2.12.0": ""},
			count: 2,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := options(t, tc.options)
			in := plan.Inputs{SourceTree: "tree", DependencyFiles: "deps", Supplied: map[string]string{"uv": sum}}
			bom, err := Build(Input{
				Subject: Subject{Name: "acc", Type: cdx.ComponentTypeContainer}, Inventory: inventory(t, tc.lines...),
				Options: o, Inputs: in, Project: projectfile.Project{Name: "openhands-ai"}, Pins: tc.pins,
				PluginVersion: "1.2.3", Created: time.Unix(0, 0),
			})
			if err != nil {
				t.Fatal(err)
			}
			data, err := Encode(bom)
			if err != nil {
				t.Fatal(err)
			}
			validate(t, data)
			var doc cdx.BOM
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			if doc.SpecVersion != cdx.SpecVersion1_6 || doc.Metadata.Component.Name != "acc" {
				t.Errorf("spec %s, subject %+v", doc.SpecVersion, doc.Metadata.Component)
			}
			got := map[string]cdx.Component{}
			for _, c := range *doc.Components {
				// The expectations are written unescaped, for reading.
				readable, err := url.QueryUnescape(c.PackageURL)
				if err != nil {
					t.Fatal(err)
				}
				got[readable] = c
			}
			if len(*doc.Components) != tc.count {
				t.Errorf("%d components, want %d", len(*doc.Components), tc.count)
			}
			for purl, wantSum := range tc.want {
				c, ok := got[purl]
				if !ok {
					t.Errorf("no component %s; have %v", purl, keys(got))
					continue
				}
				if gotSum := firstSHA256(c); gotSum != wantSum {
					t.Errorf("%s: sha256 %q, want %q", purl, gotSum, wantSum)
				}
			}
			if c, ok := got["pkg:pypi/openhands-ai@0.0.0"]; ok {
				props := map[string]string{}
				for _, p := range *c.Properties {
					props[p.Name] = p.Value
				}
				if props[PropSourceTree] != "tree" || props[PropDependencyFiles] != "deps" {
					t.Errorf("the source's distribution lacks its digests: %v", props)
				}
			}
		})
	}
}

func keys(m map[string]cdx.Component) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// firstSHA256 is the component's first SHA-256: of the component, else of its first
// distribution reference.
func firstSHA256(c cdx.Component) string {
	var hashes []cdx.Hash
	if c.Hashes != nil {
		hashes = *c.Hashes
	} else if c.ExternalReferences != nil && (*c.ExternalReferences)[0].Hashes != nil {
		hashes = *(*c.ExternalReferences)[0].Hashes
	}
	for _, h := range hashes {
		if h.Algorithm == cdx.HashAlgoSHA256 {
			return h.Value
		}
	}
	return ""
}

func TestBuildRefusesAnIncompleteInventory(t *testing.T) {
	if _, err := Build(Input{Inventory: &plan.Inventory{}}); err == nil {
		t.Fatal("an inventory without its end line made a document")
	}
}

// rigSourceOptions are the prepared options of the rig's OpenHands checkout, which has a
// poetry.lock the install is pinned to.
func rigSourceOptions(tb testing.TB) plan.Options {
	tb.Helper()
	src, err := filepath.Abs("../internal/rig/testdata/openhands-src")
	if err != nil {
		tb.Fatal(err)
	}
	o := plan.Options{SourceDir: src, VSCodeServerSHA256: sum}
	if errs := o.Prepare(); len(errs) != 0 {
		tb.Fatal(errs)
	}
	return o
}

// TestWriteReadsTheLock: Write finds the lock's pins and the source's digests itself, in
// either format, and writes the provenance beside the SBOM naming poetry.lock's digest; a
// second look at the same image keeps both documents (Describes), another image or plugin
// version does not.
func TestWriteReadsTheLock(t *testing.T) {
	o := rigSourceOptions(t)
	src := o.SourceDir
	pins, err := plan.LockedPins(o)
	if err != nil || len(pins) == 0 {
		t.Fatalf("pins %v, %v", pins, err)
	}
	lockSum, err := plan.FileSHA256(filepath.Join(src, projectfile.PoetryLockFile))
	if err != nil {
		t.Fatal(err)
	}
	locked := pins[0]
	image := "sha256:" + strings.Repeat("ab", 32)
	cases := []struct {
		format, file, provenance string
		validate                 func(*testing.T, []byte)
	}{
		{FormatCycloneDX, "x.sbom.cdx.json", "x.provenance.intoto.json", validate},
		{FormatSPDX, "x.sbom.spdx.json", "x.provenance.intoto.json", validateSPDX},
	}
	for _, tc := range cases {
		t.Run(tc.format, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out", tc.file)
			w, err := Write(o, Settings{Path: path, Format: tc.format}, Input{
				Subject:       Subject{Name: "img", Version: image, Type: cdx.ComponentTypeContainer},
				Inventory:     inventory(t, "os\tdebian\t12\tx86_64", "pypi\t"+locked.Name+"\t"+locked.Version, "pypi\topenhands-ai\t0.59.0"),
				PluginVersion: "1.2.3", Created: time.Now(),
			}, image)
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			tc.validate(t, data)
			if w.Path != path || w.Components != 3 || w.Digest != digestOf(data) {
				t.Errorf("written %+v", w)
			}
			for _, want := range []string{PropLocked, PropSourceTree} {
				if !strings.Contains(string(data), want) {
					t.Errorf("the document lacks %s", want)
				}
			}
			statement, err := os.ReadFile(w.ProvenancePath)
			if err != nil || w.ProvenancePath != filepath.Join(filepath.Dir(path), tc.provenance) || w.ProvenanceDigest != digestOf(statement) {
				t.Fatalf("provenance %+v: %v", w, err)
			}
			st, err := DecodeStatement(statement)
			if err != nil {
				t.Fatal(err)
			}
			if deps := dependencies(t, st); deps[projectfile.PoetryLockFile] != lockSum {
				t.Errorf("the provenance names poetry.lock as %q, want %s", deps[projectfile.PoetryLockFile], lockSum)
			}

			// Describes does not count components again.
			want := w
			want.Components = 0
			if kept, ok := Describes(path, image, "1.2.3"); !ok || kept != want {
				t.Errorf("the same image: kept %v, %+v, want %+v", ok, kept, want)
			}
			if _, ok := Describes(path, "sha256:"+strings.Repeat("cd", 32), "1.2.3"); ok {
				t.Error("kept the documents of another image")
			}
			if _, ok := Describes(path, image, "1.2.4"); ok {
				t.Error("kept the documents of another plugin version")
			}
			if err := os.Remove(w.ProvenancePath); err != nil {
				t.Fatal(err)
			}
			if _, ok := Describes(path, image, "1.2.3"); ok {
				t.Error("kept an SBOM whose provenance is gone")
			}
		})
	}
}

func TestSettingsPrepare(t *testing.T) {
	f := false
	cases := []struct {
		name     string
		settings Settings
		build    string
		path     string
		format   string
		err      string
	}{
		{name: "defaults", build: "docker.acc", path: "docker.acc.sbom.cdx.json"},
		{name: "build without a name", path: "openhands-runtime.sbom.cdx.json"},
		{name: "unsafe characters", build: "a b/c", path: "a-b-c.sbom.cdx.json"},
		{name: "spdx", settings: Settings{Format: FormatSPDX}, build: "docker.acc", path: "docker.acc.sbom.spdx.json", format: FormatSPDX},
		{name: "unknown format", settings: Settings{Format: "xml"}, err: `sbom_format: "xml" is not a format`},
		{name: "path without sbom", settings: Settings{SBOM: &f, Path: "x.json"}, err: "sbom_path: set, but sbom = false"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.settings
			errs := s.Prepare(tc.build)
			if tc.err != "" {
				if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.err) {
					t.Fatalf("errors %v, want one containing %q", errs, tc.err)
				}
				return
			}
			format := tc.format
			if format == "" {
				format = FormatCycloneDX
			}
			if len(errs) != 0 || s.Path != tc.path || !s.Enabled() || s.Format != format {
				t.Errorf("errors %v, settings %+v", errs, s)
			}
		})
	}
}

// TestDocumentsAreReproducible: the same image described on another run, in another checkout
// (another directory), gives the same SBOM and provenance bytes in either format, so an
// unchanged push attaches no new referrer; another image id or time gives another serial
// number (SPDX: document namespace) and other bytes.
func TestDocumentsAreReproducible(t *testing.T) {
	o := rigSourceOptions(t)
	image := "sha256:" + strings.Repeat("ab", 32)
	created := time.Date(2026, 11, 29, 21, 7, 12, 345678901, time.UTC)
	// write writes the documents of image made at created into a directory of their own and
	// returns the SBOM's bytes, the provenance's, and the serial (or namespace) it names.
	write := func(t *testing.T, format, image string, created time.Time) (doc, statement []byte, serial string) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "checkout", "image.sbom.json")
		w, err := Write(o, Settings{Path: path, Format: format}, Input{
			Subject:   Subject{Name: "img", Version: image, Type: cdx.ComponentTypeContainer},
			Inventory: inventory(t, "os\tdebian\t12\tx86_64", "deb\tadduser\t3.134\tall\tadduser\t3.134", "pypi\topenhands-ai\t0.59.0"),
			Base:      Base{Name: "debian:bookworm", Digest: "sha256:" + strings.Repeat("cd", 32)},
			Inputs:    plan.Inputs{SourceTree: sum, DependencyFiles: sum}, PluginVersion: "1.2.3", Created: created,
		}, image)
		if err != nil {
			t.Fatal(err)
		}
		if doc, err = os.ReadFile(w.Path); err != nil {
			t.Fatal(err)
		}
		if statement, err = os.ReadFile(w.ProvenancePath); err != nil {
			t.Fatal(err)
		}
		var head struct {
			SerialNumber      string `json:"serialNumber"`
			DocumentNamespace string `json:"documentNamespace"`
		}
		if err := json.Unmarshal(doc, &head); err != nil {
			t.Fatal(err)
		}
		serial = head.SerialNumber + head.DocumentNamespace
		if serial == "" {
			t.Fatalf("the %s document names no serial number or namespace:\n%s", format, doc)
		}
		return doc, statement, serial
	}
	for _, format := range []string{FormatCycloneDX, FormatSPDX} {
		t.Run(format, func(t *testing.T) {
			doc, statement, serial := write(t, format, image, created)
			again, againStatement, _ := write(t, format, image, created)
			if !bytes.Equal(doc, again) || !bytes.Equal(statement, againStatement) {
				t.Errorf("the same image written twice gave other bytes:\n%s\n%s\n%s\n%s", doc, again, statement, againStatement)
			}
			if !strings.Contains(string(doc), "2026-11-29T21:07:12Z") || !strings.Contains(string(statement), "2026-11-29T21:07:12.345678901Z") {
				t.Errorf("the documents do not carry the image's creation time:\n%s\n%s", doc, statement)
			}
			for name, other := range map[string]struct {
				image   string
				created time.Time
			}{
				"another image id": {"sha256:" + strings.Repeat("ef", 32), created},
				"another time":     {image, created.Add(time.Second)},
			} {
				otherDoc, _, otherSerial := write(t, format, other.image, other.created)
				if otherSerial == serial || bytes.Equal(otherDoc, doc) {
					t.Errorf("%s: the same serial %s", name, serial)
				}
			}
		})
	}
}

// TestDocumentTime: SOURCE_DATE_EPOCH, when set, is the time of documents with no image to
// take one from; a value that is not seconds since 1970 is an error naming it.
func TestDocumentTime(t *testing.T) {
	cases := []struct {
		name, epoch string
		unset       bool
		want        time.Time
		err         string
	}{
		{name: "set", epoch: "1700000000", want: time.Unix(1700000000, 0)},
		{name: "unset", unset: true},
		{name: "empty", epoch: ""},
		{name: "not a number", epoch: "2026-11-29", err: `SOURCE_DATE_EPOCH="2026-11-29" is not a whole number of seconds`},
		{name: "negative", epoch: "-1", err: `SOURCE_DATE_EPOCH="-1"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SOURCE_DATE_EPOCH", tc.epoch)
			if tc.unset {
				os.Unsetenv("SOURCE_DATE_EPOCH")
			}
			before := time.Now()
			got, err := DocumentTime()
			if fixture.WantError(t, err, tc.err) {
				return
			}
			switch {
			case !tc.want.IsZero() && !got.Equal(tc.want):
				t.Errorf("time %s, want %s", got, tc.want)
			case tc.want.IsZero() && (got.Before(before) || got.After(time.Now())):
				t.Errorf("time %s, want now", got)
			}
		})
	}
}
