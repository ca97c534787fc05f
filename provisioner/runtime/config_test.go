package runtimeprovisioner

import (
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
	"github.com/openhands-runtime/packer-plugin-openhands/acctest/spectest"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// Compile-time check: the provisioner is a Packer provisioner.
var _ packersdk.Provisioner = new(Provisioner)

// packerRaw is the second raw Packer passes to Prepare: the build's packer_* values.
func packerRaw() map[string]interface{} {
	return map[string]interface{}{
		"packer_build_name":          "acc",
		"packer_builder_type":        "docker",
		"packer_core_version":        "1.11.2",
		"packer_debug":               false,
		"packer_force":               false,
		"packer_on_error":            "cleanup",
		"packer_user_variables":      map[string]string{},
		"packer_sensitive_variables": []string{},
	}
}

// rawConfig is a valid provisioner config with the given keys set (or removed when nil).
func rawConfig(sourceDir string, set map[string]interface{}) map[string]interface{} {
	// openvscode-server has no pinned checksum: a download needs the user's. The tests of the
	// SBOM turn it on with a path of theirs; others would write one into the package.
	raw := map[string]interface{}{"source_dir": sourceDir, "vscode_server_sha256": strings.Repeat("ab", 32), "sbom": false}
	for k, v := range set {
		if v == nil {
			delete(raw, k)
			continue
		}
		raw[k] = v
	}
	return raw
}

func TestPrepareValid(t *testing.T) {
	src := fixture.SourceDir(t)
	tools := t.TempDir()
	uv := filepath.Join(tools, "uv")
	mm := filepath.Join(tools, "micromamba")
	fixture.WriteFile(t, "", uv, "#!/bin/sh\n", 0o755)
	fixture.WriteFile(t, "", mm, "#!/bin/sh\n", 0o755)

	cases := []struct {
		name  string
		set   map[string]interface{}
		check func(t *testing.T, o plan.Options)
	}{
		{
			name: "minimal: defaults filled in",
			check: func(t *testing.T, o plan.Options) {
				if o.SourceDir != src {
					t.Errorf("source_dir = %q, want %q", o.SourceDir, src)
				}
				for _, c := range []struct{ name, got, want string }{
					{"prefix", o.Prefix, plan.DefaultPrefix},
					{"user", o.User, plan.DefaultUser},
					{"env_name", o.EnvName, plan.DefaultEnvName},
					{"python_version", o.PythonVersion, plan.DefaultPythonVersion},
					{"platform", o.Platform, plan.PlatformAuto},
					{"conda_channel", o.CondaChannel, plan.DefaultCondaChannel},
					{"playwright_browsers_path", o.PlaywrightBrowsersPath, plan.DefaultPlaywrightBrowsersPath},
				} {
					if c.got != c.want {
						t.Errorf("%s = %q, want the default %q", c.name, c.got, c.want)
					}
				}
				if o.UID != nil {
					t.Errorf("uid = %d, want unset (pick on the target)", *o.UID)
				}
				for name, b := range map[string]*bool{
					"system_packages": o.SystemPackages, "install_browser": o.InstallBrowser,
					"passwordless_sudo": o.PasswordlessSudo, "skip_vscode_build": o.SkipVSCodeBuild,
				} {
					if b == nil || !*b {
						t.Errorf("%s = %v, want the default true", name, b)
					}
				}
				if *o.NetworkRetries != plan.DefaultNetworkRetries || *o.MinFreeDiskGB != plan.DefaultMinFreeDiskGB || *o.Verify.MinPackages != plan.DefaultMinPackages {
					t.Errorf("network_retries, min_free_disk_gb, verify.min_packages = %d, %d, %d; want the defaults",
						*o.NetworkRetries, *o.MinFreeDiskGB, *o.Verify.MinPackages)
				}
				if !slices.Equal(o.ExtraPipPackages, plan.DefaultExtraPipPackages) {
					t.Errorf("extra_pip_packages = %q, want the default %q", o.ExtraPipPackages, plan.DefaultExtraPipPackages)
				}
				if !slices.Equal(o.Verify.Imports, plan.DefaultImports) {
					t.Errorf("verify.imports = %q, want the default %q", o.Verify.Imports, plan.DefaultImports)
				}
			},
		},
		{
			name: "every option set (numbers as float64, as JSON and HCL2 deliver them)",
			set: map[string]interface{}{
				"prefix":                   "/opt/oh",
				"user":                     "runtime",
				"uid":                      float64(2001),
				"env_name":                 "oh-env",
				"python_version":           "3.11",
				"platform":                 "debian-12",
				"system_packages":          true,
				"extra_system_packages":    []interface{}{"jq", "git-lfs"},
				"micromamba_path":          mm,
				"uv_path":                  uv,
				"conda_channel":            "https://conda.example/forge",
				"channel_alias":            "https://conda.example",
				"index_url":                "https://user:s3cret@pypi.example/simple",
				"extra_index_urls":         []interface{}{"https://pypi.example/extra"},
				"extra_pip_packages":       []interface{}{"notebook>=7", "flake8"},
				"install_browser":          false,
				"playwright_browsers_path": "/opt/pw",
				"passwordless_sudo":        false,
				"skip_vscode_build":        false,
				"environment_vars":         []interface{}{"FOO=bar baz", "EMPTY="},
				"network_retries":          float64(0),
				"min_free_disk_gb":         float64(0),
				"verify": map[string]interface{}{
					"imports":      []interface{}{"openhands.core"},
					"min_packages": float64(10),
					"commands":     []interface{}{"true"},
				},
				"skip_verify": true,
			},
			check: func(t *testing.T, o plan.Options) {
				if o.Prefix != "/opt/oh" || o.User != "runtime" || o.UID == nil || *o.UID != 2001 || o.EnvName != "oh-env" ||
					o.PythonVersion != "3.11" || o.Platform != "debian-12" || !*o.SystemPackages ||
					o.MicromambaPath != mm || o.UVPath != uv || *o.InstallBrowser || *o.PasswordlessSudo ||
					*o.SkipVSCodeBuild || *o.NetworkRetries != 0 || *o.MinFreeDiskGB != 0 || !o.SkipVerify ||
					o.PlaywrightBrowsersPath != "/opt/pw" || o.ChannelAlias != "https://conda.example" {
					t.Errorf("options not decoded as set: %+v", o)
				}
				if !slices.Equal(o.ExtraPipPackages, []string{"notebook>=7", "flake8"}) ||
					!slices.Equal(o.ExtraSystemPackages, []string{"jq", "git-lfs"}) ||
					!slices.Equal(o.EnvironmentVars, []string{"FOO=bar baz", "EMPTY="}) ||
					!slices.Equal(o.ExtraIndexURLs, []string{"https://pypi.example/extra"}) {
					t.Errorf("lists not decoded as set: %+v", o)
				}
				if !slices.Equal(o.Verify.Imports, []string{"openhands.core"}) || *o.Verify.MinPackages != 10 ||
					!slices.Equal(o.Verify.Commands, []string{"true"}) {
					t.Errorf("verify = %+v", o.Verify)
				}
				if got := o.Secrets(); !slices.Equal(got, []string{"s3cret"}) {
					t.Errorf("secrets = %q, want [s3cret]", got)
				}
			},
		},
		{
			name: "extra_pip_packages = [] keeps no packages",
			set:  map[string]interface{}{"extra_pip_packages": []interface{}{}},
			check: func(t *testing.T, o plan.Options) {
				if o.ExtraPipPackages == nil || len(o.ExtraPipPackages) != 0 {
					t.Errorf("extra_pip_packages = %#v, want an empty, non-nil list", o.ExtraPipPackages)
				}
			},
		},
		{
			name: "verify.imports = [] checks no imports",
			set:  map[string]interface{}{"verify": map[string]interface{}{"imports": []interface{}{}}},
			check: func(t *testing.T, o plan.Options) {
				if o.Verify.Imports == nil || len(o.Verify.Imports) != 0 {
					t.Errorf("verify.imports = %#v, want an empty, non-nil list", o.Verify.Imports)
				}
				if *o.Verify.MinPackages != plan.DefaultMinPackages {
					t.Errorf("verify.min_packages = %d, want the default", *o.Verify.MinPackages)
				}
			},
		},
		{
			name: "micromamba_url with micromamba_sha256",
			set: map[string]interface{}{
				"micromamba_url":    "https://mirror.example/micromamba",
				"micromamba_sha256": strings.Repeat("aB", 32),
				"uv_url":            "https://mirror.example/uv.tar.gz",
				"uv_sha256":         strings.Repeat("0", 64),
			},
			check: func(t *testing.T, o plan.Options) {
				if o.MicromambaURL == "" || o.UVURL == "" {
					t.Errorf("download URLs not decoded: %+v", o)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p Provisioner
			if err := p.Prepare(rawConfig(src, tc.set), packerRaw()); err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			tc.check(t, p.config.Options)
		})
	}
}

// TestPrepareExtraPipPackagesAbsentKeepsDefault is the other half of the `[]` case: an
// absent key, in either raw form Packer uses, keeps the default packages.
func TestPrepareExtraPipPackagesAbsentKeepsDefault(t *testing.T) {
	src := fixture.SourceDir(t)
	var p Provisioner
	if err := p.Prepare(rawConfig(src, nil), packerRaw()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.config.ExtraPipPackages, plan.DefaultExtraPipPackages) {
		t.Errorf("absent extra_pip_packages = %q, want the default %q", p.config.ExtraPipPackages, plan.DefaultExtraPipPackages)
	}
	// A JSON null, which HCL2 produces for an unset attribute, is absent too.
	var q Provisioner
	if err := q.Prepare(rawConfig(src, map[string]interface{}{}), map[string]interface{}{"extra_pip_packages": nil}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(q.config.ExtraPipPackages, plan.DefaultExtraPipPackages) {
		t.Errorf("null extra_pip_packages = %q, want the default %q", q.config.ExtraPipPackages, plan.DefaultExtraPipPackages)
	}
}

// TestPrepareHCL2 decodes HCL through ConfigSpec, as Packer does for .pkr.hcl templates, and
// passes the resulting cty value to Prepare.
func TestPrepareHCL2(t *testing.T) {
	src := fixture.SourceDir(t)
	cases := []struct {
		name  string
		body  string
		check func(t *testing.T, o plan.Options)
	}{
		{
			name: "extra_pip_packages = []",
			body: `extra_pip_packages = []`,
			check: func(t *testing.T, o plan.Options) {
				if o.ExtraPipPackages == nil || len(o.ExtraPipPackages) != 0 {
					t.Errorf("extra_pip_packages = %#v, want an empty, non-nil list", o.ExtraPipPackages)
				}
			},
		},
		{
			name: "extra_pip_packages absent",
			body: ``,
			check: func(t *testing.T, o plan.Options) {
				if !slices.Equal(o.ExtraPipPackages, plan.DefaultExtraPipPackages) {
					t.Errorf("extra_pip_packages = %q, want the default", o.ExtraPipPackages)
				}
			},
		},
		{
			name: "verify block",
			body: "uid = 1234\nverify {\n  imports = [\"json\"]\n  min_packages = 7\n  commands = [\"python -V\"]\n}\n",
			check: func(t *testing.T, o plan.Options) {
				if o.UID == nil || *o.UID != 1234 || !slices.Equal(o.Verify.Imports, []string{"json"}) || *o.Verify.MinPackages != 7 ||
					!slices.Equal(o.Verify.Commands, []string{"python -V"}) {
					t.Errorf("options = %+v, verify = %+v", o, o.Verify)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p Provisioner
			val := decodeHCL(t, p.ConfigSpec(), "source_dir = \""+src+"\"\nvscode_server_sha256 = \""+strings.Repeat("ab", 32)+"\"\n"+tc.body)
			if err := p.Prepare(val); err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			tc.check(t, p.config.Options)
		})
	}
}

func decodeHCL(t *testing.T, spec hcldec.ObjectSpec, src string) interface{} {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "test.pkr.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	val, diags := hcldec.Decode(f.Body, spec, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return val
}

// invalidCases each hold one invalid value and the text its error must contain, which
// starts with the option's HCL name.
func invalidCases(t *testing.T) []struct {
	name string
	set  map[string]interface{}
	want string
} {
	tmp := t.TempDir()
	noProject := filepath.Join(tmp, "no-project")
	if err := os.Mkdir(noProject, 0o755); err != nil {
		t.Fatal(err)
	}
	aFile := filepath.Join(tmp, "file")
	fixture.WriteFile(t, "", aFile, "x", 0o644)
	return []struct {
		name string
		set  map[string]interface{}
		want string
	}{
		{"source_dir missing", map[string]interface{}{"source_dir": nil}, "source_dir: required"},
		{"source_dir absent on disk", map[string]interface{}{"source_dir": filepath.Join(tmp, "nope")}, "source_dir: "},
		{"source_dir without pyproject.toml", map[string]interface{}{"source_dir": noProject}, "source_dir: "},
		{"source_dir a file", map[string]interface{}{"source_dir": aFile}, "source_dir: "},
		{"prefix relative", map[string]interface{}{"prefix": "openhands"}, "prefix: "},
		{"prefix root", map[string]interface{}{"prefix": "/"}, "prefix: "},
		{"prefix with a space", map[string]interface{}{"prefix": "/open hands"}, "prefix: "},
		{"user", map[string]interface{}{"user": "Open Hands"}, "user: "},
		{"uid negative", map[string]interface{}{"uid": float64(-1)}, "uid: "},
		{"uid too large", map[string]interface{}{"uid": float64(70000)}, "uid: "},
		{"env_name", map[string]interface{}{"env_name": "a b"}, "env_name: "},
		{"python_version", map[string]interface{}{"python_version": "3"}, "python_version: "},
		{"platform", map[string]interface{}{"platform": "windows-11"}, "platform: "},
		{"extra_system_packages", map[string]interface{}{"extra_system_packages": []interface{}{"ok", "bad pkg"}}, "extra_system_packages[1]: "},
		{"micromamba_url without sha256", map[string]interface{}{"micromamba_url": "https://x.example/mm"}, "micromamba_sha256: "},
		{"micromamba_sha256 without url", map[string]interface{}{"micromamba_sha256": strings.Repeat("a", 64)}, "micromamba_url: "},
		{"micromamba_url not http", map[string]interface{}{"micromamba_url": "ftp://x.example/mm", "micromamba_sha256": strings.Repeat("a", 64)}, "micromamba_url: "},
		{"micromamba_sha256 short", map[string]interface{}{"micromamba_url": "https://x.example/mm", "micromamba_sha256": "abc"}, "micromamba_sha256: "},
		{"micromamba_path missing", map[string]interface{}{"micromamba_path": filepath.Join(tmp, "nope")}, "micromamba_path: "},
		{"micromamba_path with url", map[string]interface{}{"micromamba_path": aFile, "micromamba_url": "https://x.example/mm"}, "micromamba_path: "},
		{"uv_path a directory", map[string]interface{}{"uv_path": tmp}, "uv_path: "},
		{"uv_sha256 short", map[string]interface{}{"uv_url": "https://x.example/uv", "uv_sha256": "123"}, "uv_sha256: "},
		{"conda_channel", map[string]interface{}{"conda_channel": "not a channel"}, "conda_channel: "},
		{"channel_alias", map[string]interface{}{"channel_alias": "conda.example"}, "channel_alias: "},
		{"index_url", map[string]interface{}{"index_url": "ftp://pypi.example/simple"}, "index_url: "},
		{"extra_index_urls", map[string]interface{}{"extra_index_urls": []interface{}{"https://ok.example", "nope"}}, "extra_index_urls[1]: "},
		{"extra_pip_packages", map[string]interface{}{"extra_pip_packages": []interface{}{"bad pkg"}}, "extra_pip_packages[0]: "},
		{"playwright_browsers_path", map[string]interface{}{"playwright_browsers_path": "browsers"}, "playwright_browsers_path: "},
		{"environment_vars", map[string]interface{}{"environment_vars": []interface{}{"A=1", "NOEQUALS"}}, "environment_vars[1]: "},
		{"network_retries", map[string]interface{}{"network_retries": float64(21)}, "network_retries: "},
		{"min_free_disk_gb", map[string]interface{}{"min_free_disk_gb": float64(-1)}, "min_free_disk_gb: "},
		{"verify.imports", map[string]interface{}{"verify": map[string]interface{}{"imports": []interface{}{"1bad"}}}, "verify.imports[0]: "},
		{"verify.min_packages", map[string]interface{}{"verify": map[string]interface{}{"min_packages": float64(-1)}}, "verify.min_packages: "},
		{"verify.commands", map[string]interface{}{"verify": map[string]interface{}{"commands": []interface{}{"true", "  "}}}, "verify.commands[1]: "},
	}
}

func TestPrepareInvalidValue(t *testing.T) {
	src := fixture.SourceDir(t)
	for _, tc := range invalidCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			var p Provisioner
			err := p.Prepare(rawConfig(src, tc.set), packerRaw())
			if err == nil {
				t.Fatalf("Prepare accepted %v", tc.set)
			}
			var me *packersdk.MultiError
			if !errors.As(err, &me) {
				t.Fatalf("error is %T, want *packersdk.MultiError: %v", err, err)
			}
			if len(me.Errors) != 1 {
				t.Errorf("got %d errors, want 1: %v", len(me.Errors), err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not contain %q:\n%v", tc.want, err)
			}
		})
	}
}

// TestPrepareReportsEveryInvalidValue sets every invalid value that can coexist in one config
// and expects one MultiError holding them all.
func TestPrepareReportsEveryInvalidValue(t *testing.T) {
	src := fixture.SourceDir(t)
	set := map[string]interface{}{}
	var wants []string
	verify := map[string]interface{}{}
	for _, tc := range invalidCases(t) {
		switch tc.name {
		// Alternatives for the same keys: keep one of each.
		case "source_dir absent on disk", "source_dir without pyproject.toml", "source_dir a file",
			"prefix root", "prefix with a space", "uid too large",
			"micromamba_sha256 without url", "micromamba_url not http", "micromamba_sha256 short",
			"micromamba_path missing", "micromamba_path with url", "uv_sha256 short":
			continue
		}
		for k, v := range tc.set {
			if k == "verify" {
				for vk, vv := range v.(map[string]interface{}) {
					verify[vk] = vv
				}
				continue
			}
			set[k] = v
		}
		wants = append(wants, tc.want)
	}
	set["verify"] = verify
	set["source_dir"] = nil

	var p Provisioner
	err := p.Prepare(rawConfig(src, set), packerRaw())
	var me *packersdk.MultiError
	if !errors.As(err, &me) {
		t.Fatalf("error is %T, want *packersdk.MultiError: %v", err, err)
	}
	if len(me.Errors) != len(wants) {
		t.Errorf("got %d errors, want %d:\n%v", len(me.Errors), len(wants), err)
	}
	msgs := make([]string, len(me.Errors))
	for i, e := range me.Errors {
		msgs[i] = e.Error()
	}
	for _, want := range wants {
		found := false
		for _, m := range msgs {
			if strings.HasPrefix(m, want) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no error starts with %q:\n%v", want, err)
		}
	}
}

// TestPrepareHidesCredentialsInErrors: an invalid URL carrying a password is reported
// without it.
func TestPrepareHidesCredentialsInErrors(t *testing.T) {
	src := fixture.SourceDir(t)
	for _, key := range []string{"index_url", "channel_alias"} {
		for _, bad := range []string{"ftp://user:s3cret@pypi.example/simple", "user:s3cret@pypi.example/simple", "https://user:s3cret@pypi.example/a b"} {
			var p Provisioner
			err := p.Prepare(rawConfig(src, map[string]interface{}{key: bad}), packerRaw())
			if err == nil {
				t.Fatalf("%s = %q accepted", key, bad)
			}
			if !strings.Contains(err.Error(), key+": ") {
				t.Errorf("%s = %q: error does not name the option: %v", key, bad, err)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("%s = %q: error shows the password: %v", key, bad, err)
			}
		}
	}
}

func TestPrepareRejectsUnknownKey(t *testing.T) {
	src := fixture.SourceDir(t)
	// max_retries belongs to Packer's provisioner block, which consumes it: the plugin
	// never sees it, and network_retries is its own retry option.
	for _, key := range []string{"sourcedir", "max_retries", "verify_imports"} {
		t.Run(key, func(t *testing.T) {
			var p Provisioner
			err := p.Prepare(rawConfig(src, map[string]interface{}{key: "x"}), packerRaw())
			if err == nil {
				t.Fatalf("unknown key %q accepted", key)
			}
			if !strings.Contains(err.Error(), "unknown configuration key") || !strings.Contains(err.Error(), key) {
				t.Errorf("error does not name the unknown key %q: %v", key, err)
			}
		})
	}
	t.Run("unknown key inside verify", func(t *testing.T) {
		var p Provisioner
		err := p.Prepare(rawConfig(src, map[string]interface{}{"verify": map[string]interface{}{"import": []interface{}{"x"}}}), packerRaw())
		if err == nil || !strings.Contains(err.Error(), "import") {
			t.Errorf("unknown verify key not reported: %v", err)
		}
	})
}

func TestPrepareRejectsWrongType(t *testing.T) {
	src := fixture.SourceDir(t)
	for key, v := range map[string]interface{}{
		"uid":             "one thousand",
		"install_browser": "maybe",
		"network_retries": []interface{}{1},
	} {
		t.Run(key, func(t *testing.T) {
			var p Provisioner
			err := p.Prepare(rawConfig(src, map[string]interface{}{key: v}), packerRaw())
			if err == nil || !strings.Contains(err.Error(), key) {
				t.Errorf("%s = %#v: want an error naming %s, got %v", key, v, key, err)
			}
		})
	}
}

func TestConfigSpecHasVerifyBlock(t *testing.T) {
	var p Provisioner
	spec := p.ConfigSpec()
	block, ok := spec["verify"].(*hcldec.BlockSpec)
	if !ok {
		t.Fatalf("ConfigSpec()[\"verify\"] is %T, want *hcldec.BlockSpec", spec["verify"])
	}
	if block.TypeName != "verify" || block.Required {
		t.Errorf("verify block spec = %+v", block)
	}
	nested, ok := block.Nested.(hcldec.ObjectSpec)
	if !ok {
		t.Fatalf("verify block nests %T, want hcldec.ObjectSpec", block.Nested)
	}
	var keys []string
	for k := range nested {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if want := []string{"commands", "imports", "launch", "min_packages", "start_server", "start_server_timeout"}; !slices.Equal(keys, want) {
		t.Errorf("verify block attributes = %q, want %q", keys, want)
	}
	for _, name := range []string{"source_dir", "index_url", "extra_pip_packages", "skip_verify"} {
		if _, ok := spec[name].(*hcldec.AttrSpec); !ok {
			t.Errorf("ConfigSpec()[%q] is %T, want an attribute", name, spec[name])
		}
	}
}

func TestFlatConfigMatchesConfig(t *testing.T) {
	spectest.CheckFlat(t, reflect.TypeOf(Config{}), reflect.TypeOf(FlatConfig{}), (*FlatConfig)(nil).HCL2Spec())
	// Every plan option is a provisioner option.
	flat := spectest.Fields(t, reflect.TypeOf(FlatConfig{}))
	for name := range spectest.Fields(t, reflect.TypeOf(plan.Options{})) {
		if _, ok := flat[name]; !ok {
			t.Errorf("plan.Options %q is missing from FlatConfig", name)
		}
	}
}

// TestPreparePerPlatformFiles: the provisioner takes each architecture's tool files for AMIs
// of both (the target picks its own by `uname -m`), refuses an executable of another
// architecture than its entry's platform, or one its own option gives a platform without an
// entry, naming the option and the platform, and reports every such error at once.
func TestPreparePerPlatformFiles(t *testing.T) {
	dir := t.TempDir()
	x86 := fixture.ELFFile(t, dir, "x86_64/micromamba", elf.EM_X86_64)
	arm := fixture.ELFFile(t, dir, "aarch64/micromamba", elf.EM_AARCH64)
	script := fixture.WriteFile(t, dir, "uv-wrapper", "#!/bin/sh\nexec /opt/uv/uv \"$@\"\n", 0o755)
	tests := []struct {
		name string
		set  map[string]interface{}
		want []string // errors the message holds; none: accepted
	}{
		{"one file, the target's own", map[string]interface{}{"micromamba_path": x86}, nil},
		{"each architecture its own", map[string]interface{}{"micromamba_path_by_platform": map[string]interface{}{"linux/amd64": x86, "linux/arm64": arm}}, nil},
		{"a script for both", map[string]interface{}{"uv_path_by_platform": map[string]interface{}{"linux/amd64": script, "linux/arm64": script}}, nil},
		{"x86_64 for arm64, twice", map[string]interface{}{
			"micromamba_path_by_platform": map[string]interface{}{"linux/amd64": x86, "linux/arm64": x86},
			"uv_path":                     arm, "uv_path_by_platform": map[string]interface{}{"linux/arm64": arm},
		}, []string{
			`micromamba_path_by_platform["linux/arm64"]: "` + x86 + `" is an x86_64 executable, not aarch64`,
			`uv_path: "` + arm + `" is an aarch64 executable, but it goes to linux/amd64 targets, which have no entry in uv_path_by_platform; give uv_path_by_platform["linux/amd64"] an x86_64 one`,
		}},
		{"an unknown platform", map[string]interface{}{"micromamba_path_by_platform": map[string]interface{}{"linux/riscv64": x86}},
			[]string{`micromamba_path_by_platform: "linux/riscv64" is not a platform the plan installs for; use linux/amd64 or linux/arm64`}},
		{"the own option beside entries for every platform", map[string]interface{}{"micromamba_path": x86,
			"micromamba_path_by_platform": map[string]interface{}{"linux/amd64": x86, "linux/arm64": arm}},
			[]string{"micromamba_path: no platform takes it: each of linux/amd64, linux/arm64 has its own entries"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			fixture.WantErrors(t, c.Prepare(rawConfig(fixture.SourceDir(t), tt.set), packerRaw()), tt.want)
		})
	}
}
