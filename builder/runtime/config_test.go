package runtimebuilder

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
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

// Compile-time check: the builder is a Packer builder.
var _ packersdk.Builder = new(Builder)

// builderRaw is a builder config with source_dir and the given keys set (removed when nil).
func builderRaw(sourceDir string, set map[string]interface{}) map[string]interface{} {
	// openvscode-server has no pinned checksum: a download needs the user's.
	raw := map[string]interface{}{"source_dir": sourceDir, "vscode_server_sha256": strings.Repeat("ab", 32)}
	for k, v := range set {
		if v == nil {
			delete(raw, k)
			continue
		}
		raw[k] = v
	}
	return raw
}

// packerBuildRaw is the raw Packer adds: the build's packer_* values.
func packerBuildRaw() map[string]interface{} {
	return map[string]interface{}{
		"packer_build_name":   "image",
		"packer_builder_type": "openhands-runtime",
		"packer_core_version": "1.11.2",
		"packer_debug":        false,
		"packer_force":        false,
		"packer_on_error":     "cleanup",
	}
}

func prepareBuilder(t *testing.T, raws ...interface{}) (*Builder, error) {
	t.Helper()
	var b Builder
	generated, warnings, err := b.Prepare(raws...)
	if len(generated) != 0 {
		t.Errorf("Prepare returned generated variables %q", generated)
	}
	if len(warnings) != 0 {
		t.Errorf("Prepare returned warnings %q", warnings)
	}
	return &b, err
}

func TestPrepareDefaults(t *testing.T) {
	src := fixture.SourceDir(t)
	b, err := prepareBuilder(t, builderRaw(src, nil), packerBuildRaw())
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	c := b.config
	if c.BaseImage != DefaultBaseImage || DefaultBaseImage != "nikolaik/python-nodejs:python3.12-nodejs22" {
		t.Errorf("base_image = %q, want %q", c.BaseImage, "nikolaik/python-nodejs:python3.12-nodejs22")
	}
	if c.ImageRepository != "openhands-runtime" {
		t.Errorf("image_repository = %q, want openhands-runtime", c.ImageRepository)
	}
	if c.Pull == nil || !*c.Pull {
		t.Errorf("pull = %v, want true", c.Pull)
	}
	if c.ForceRebuild || c.BuildKit || c.DockerPlatform != "" || c.DockerfilePath != "" || len(c.Tags) != 0 || len(c.BuildArgs) != 0 {
		t.Errorf("unexpected non-default values: %+v", c)
	}
	// The plan options get their defaults as in the provisioner.
	o := c.Options
	if o.SourceDir != src || o.Prefix != plan.DefaultPrefix || o.User != plan.DefaultUser || o.EnvName != plan.DefaultEnvName ||
		o.PythonVersion != plan.DefaultPythonVersion || o.Platform != plan.PlatformAuto {
		t.Errorf("plan options = %+v, want the defaults with source_dir %s", o, src)
	}
	if o.InstallBrowser == nil || !*o.InstallBrowser || o.NetworkRetries == nil || *o.NetworkRetries != plan.DefaultNetworkRetries {
		t.Errorf("plan option defaults not filled in: %+v", o)
	}
	if !slices.Equal(o.ExtraPipPackages, plan.DefaultExtraPipPackages) {
		t.Errorf("extra_pip_packages = %q, want the default", o.ExtraPipPackages)
	}
	if c.PackerBuildName != "image" {
		t.Errorf("packer_build_name = %q, want image", c.PackerBuildName)
	}
}

func TestPrepareExplicitValues(t *testing.T) {
	src := fixture.SourceDir(t)
	dockerfile := filepath.Join(t.TempDir(), "Dockerfile")
	b, err := prepareBuilder(t, builderRaw(src, map[string]interface{}{
		"base_image":       "registry.example.com:5000/team/base:1.2",
		"image_repository": "registry.example.com/team/runtime",
		"tags":             []interface{}{"latest", "0.59.0", "v1_rc.2"},
		"pull":             false,
		"force_rebuild":    true,
		"buildkit":         true,
		"docker_platform":  "linux/arm64/v8",
		"build_args":       map[string]interface{}{"HTTP_PROXY": "http://proxy:3128"},
		"dockerfile_path":  dockerfile,
		"prefix":           "/opt/oh",
		"user":             "runtime",
		"install_browser":  false,
		"skip_verify":      true,
		"uid":              float64(2001),
	}), packerBuildRaw())
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	c := b.config
	for _, cmp := range []struct{ name, got, want string }{
		{"base_image", c.BaseImage, "registry.example.com:5000/team/base:1.2"},
		{"image_repository", c.ImageRepository, "registry.example.com/team/runtime"},
		{"docker_platform", c.DockerPlatform, "linux/arm64/v8"},
		{"dockerfile_path", c.DockerfilePath, dockerfile},
		{"prefix", c.Prefix, "/opt/oh"},
		{"user", c.User, "runtime"},
	} {
		if cmp.got != cmp.want {
			t.Errorf("%s = %q, want %q", cmp.name, cmp.got, cmp.want)
		}
	}
	if !slices.Equal(c.Tags, []string{"latest", "0.59.0", "v1_rc.2"}) {
		t.Errorf("tags = %q", c.Tags)
	}
	if c.Pull == nil || *c.Pull || !c.ForceRebuild || !c.BuildKit {
		t.Errorf("pull, force_rebuild, buildkit = %v, %v, %v; want false, true, true", c.Pull, c.ForceRebuild, c.BuildKit)
	}
	if !reflect.DeepEqual(c.BuildArgs, map[string]string{"HTTP_PROXY": "http://proxy:3128"}) {
		t.Errorf("build_args = %v", c.BuildArgs)
	}
	if *c.InstallBrowser || !c.SkipVerify || c.UID == nil || *c.UID != 2001 {
		t.Errorf("install_browser, skip_verify, uid = %v, %v, %v", *c.InstallBrowser, c.SkipVerify, c.UID)
	}
}

func TestPrepareAcceptsImageReferences(t *testing.T) {
	src := fixture.SourceDir(t)
	for _, ref := range []string{
		"debian",
		"debian:bookworm",
		"ubuntu:24.04",
		"nikolaik/python-nodejs:python3.12-nodejs22",
		"localhost:5000/team/base:1.2",
		"ghcr.io/all-hands-ai/runtime:0.59-nikolaik_python3.12",
		"public.ecr.aws/docker/library/debian:bookworm-slim",
		"debian@sha256:" + strings.Repeat("0a", 32),
		"debian:12@sha256:" + strings.Repeat("f", 64),
	} {
		t.Run(ref, func(t *testing.T) {
			if _, err := prepareBuilder(t, builderRaw(src, map[string]interface{}{"base_image": ref})); err != nil {
				t.Errorf("base_image %q rejected: %v", ref, err)
			}
		})
	}
	for _, repo := range []string{"runtime", "openhands/runtime", "registry.example.com:5000/team/open_hands-runtime.x"} {
		t.Run("image_repository "+repo, func(t *testing.T) {
			if _, err := prepareBuilder(t, builderRaw(src, map[string]interface{}{"image_repository": repo})); err != nil {
				t.Errorf("image_repository %q rejected: %v", repo, err)
			}
		})
	}
	for _, platform := range []string{"linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm64/v8"} {
		t.Run("docker_platform "+platform, func(t *testing.T) {
			if _, err := prepareBuilder(t, builderRaw(src, map[string]interface{}{"docker_platform": platform})); err != nil {
				t.Errorf("docker_platform %q rejected: %v", platform, err)
			}
		})
	}
}

// builderInvalidCases each hold one invalid value and the text its error must start with.
func builderInvalidCases() []struct {
	name string
	set  map[string]interface{}
	want string
} {
	return []struct {
		name string
		set  map[string]interface{}
		want string
	}{
		{"base_image with spaces", map[string]interface{}{"base_image": "Not A Ref"}, `base_image: "Not A Ref"`},
		{"base_image upper case", map[string]interface{}{"base_image": "Debian:bookworm"}, "base_image: "},
		{"base_image bad tag", map[string]interface{}{"base_image": "debian:-bad"}, "base_image: "},
		{"base_image bad digest", map[string]interface{}{"base_image": "debian@sha256:abc"}, "base_image: "},
		{"image_repository upper case", map[string]interface{}{"image_repository": "OpenHands-Runtime"}, `image_repository: "OpenHands-Runtime"`},
		{"image_repository with a tag", map[string]interface{}{"image_repository": "openhands-runtime:latest"}, "image_repository: "},
		{"image_repository trailing slash", map[string]interface{}{"image_repository": "team/"}, "image_repository: "},
		{"tag with a space", map[string]interface{}{"tags": []interface{}{"ok", "bad tag"}}, `tags[1]: "bad tag"`},
		{"tag starting with a dash", map[string]interface{}{"tags": []interface{}{"-latest"}}, "tags[0]: "},
		{"tag too long", map[string]interface{}{"tags": []interface{}{strings.Repeat("a", 129)}}, "tags[0]: "},
		{"tag with a colon", map[string]interface{}{"tags": []interface{}{"repo:tag"}}, "tags[0]: "},
		{"docker_platform without arch", map[string]interface{}{"docker_platform": "amd64"}, `docker_platform: "amd64"`},
		{"docker_platform upper case", map[string]interface{}{"docker_platform": "Linux/AMD64"}, "docker_platform: "},
		{"source_dir missing", map[string]interface{}{"source_dir": nil}, "source_dir: required"},
		{"source_dir absent on disk", map[string]interface{}{"source_dir": "/nonexistent/openhands"}, `source_dir: "/nonexistent/openhands" does not exist`},
		{"prefix relative (a plan option)", map[string]interface{}{"prefix": "openhands"}, "prefix: "},
		{"python_version (a plan option)", map[string]interface{}{"python_version": "3"}, "python_version: "},
	}
}

func TestPrepareInvalidValue(t *testing.T) {
	src := fixture.SourceDir(t)
	for _, tc := range builderInvalidCases() {
		t.Run(tc.name, func(t *testing.T) {
			_, err := prepareBuilder(t, builderRaw(src, tc.set), packerBuildRaw())
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
			if !strings.HasPrefix(me.Errors[0].Error(), tc.want) {
				t.Errorf("error does not start with %q:\n%v", tc.want, err)
			}
		})
	}
}

// TestPrepareReportsEveryInvalidValue: several invalid values, builder and plan options
// alike, are reported together.
func TestPrepareReportsEveryInvalidValue(t *testing.T) {
	src := fixture.SourceDir(t)
	_, err := prepareBuilder(t, builderRaw(src, map[string]interface{}{
		"source_dir":       nil,
		"base_image":       "Not A Ref",
		"image_repository": "Upper/Case",
		"tags":             []interface{}{"fine", "not fine", "also:bad"},
		"docker_platform":  "linux",
		"user":             "Open Hands",
	}), packerBuildRaw())
	var me *packersdk.MultiError
	if !errors.As(err, &me) {
		t.Fatalf("error is %T, want *packersdk.MultiError: %v", err, err)
	}
	wants := []string{"source_dir: required", "user: ", "base_image: ", "image_repository: ", "tags[1]: ", "tags[2]: ", "docker_platform: "}
	if len(me.Errors) != len(wants) {
		t.Errorf("got %d errors, want %d:\n%v", len(me.Errors), len(wants), err)
	}
	for _, want := range wants {
		if !slices.ContainsFunc(me.Errors, func(e error) bool { return strings.HasPrefix(e.Error(), want) }) {
			t.Errorf("no error starts with %q:\n%v", want, err)
		}
	}
}

func TestPrepareRejectsUnknownKey(t *testing.T) {
	src := fixture.SourceDir(t)
	for _, key := range []string{"image", "base-image", "repository", "platform_docker"} {
		t.Run(key, func(t *testing.T) {
			_, err := prepareBuilder(t, builderRaw(src, map[string]interface{}{key: "x"}))
			if err == nil || !strings.Contains(err.Error(), "unknown configuration key") || !strings.Contains(err.Error(), `"`+key+`"`) {
				t.Errorf("unknown key %q: want an error naming it, got %v", key, err)
			}
		})
	}
}

func TestPrepareRejectsWrongType(t *testing.T) {
	src := fixture.SourceDir(t)
	for key, v := range map[string]interface{}{
		"pull":          "maybe",
		"force_rebuild": []interface{}{true},
		"build_args":    []interface{}{"A=1"},
	} {
		t.Run(key, func(t *testing.T) {
			_, err := prepareBuilder(t, builderRaw(src, map[string]interface{}{key: v}))
			if err == nil || !strings.Contains(err.Error(), key) {
				t.Errorf("%s = %#v: want an error naming %s, got %v", key, v, key, err)
			}
		})
	}
}

// TestPrepareHCL2 decodes HCL through ConfigSpec, as Packer does for .pkr.hcl templates.
func TestPrepareHCL2(t *testing.T) {
	src := fixture.SourceDir(t)
	var b Builder
	body := fmt.Sprintf(`
vscode_server_sha256 = "`+strings.Repeat("ab", 32)+`"
source_dir       = %q
base_image       = "debian:bookworm"
image_repository = "team/runtime"
tags             = ["latest", "v1"]
pull             = false
docker_platform  = "linux/amd64"
build_args       = { PIP_INDEX_URL = "https://pypi.example/simple" }
verify {
  imports = ["json"]
}
`, src)
	f, diags := hclsyntax.ParseConfig([]byte(body), "test.pkr.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	val, diags := hcldec.Decode(f.Body, b.ConfigSpec(), nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if _, _, err := b.Prepare(val); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	c := b.config
	if c.BaseImage != "debian:bookworm" || c.ImageRepository != "team/runtime" || !slices.Equal(c.Tags, []string{"latest", "v1"}) ||
		*c.Pull || c.DockerPlatform != "linux/amd64" || c.BuildArgs["PIP_INDEX_URL"] != "https://pypi.example/simple" ||
		!slices.Equal(c.Verify.Imports, []string{"json"}) {
		t.Errorf("config = %+v", c)
	}
}

func TestConfigSpec(t *testing.T) {
	var b Builder
	spec := b.ConfigSpec()
	for _, name := range []string{"base_image", "image_repository", "tags", "pull", "force_rebuild", "buildkit",
		"docker_platform", "build_args", "dockerfile_path", "source_dir", "prefix", "index_url", "skip_verify"} {
		if _, ok := spec[name].(*hcldec.AttrSpec); !ok {
			t.Errorf("ConfigSpec()[%q] is %T, want an attribute", name, spec[name])
		}
	}
	if _, ok := spec["verify"].(*hcldec.BlockSpec); !ok {
		t.Errorf("ConfigSpec()[\"verify\"] is %T, want a block", spec["verify"])
	}
}

func TestFlatConfigMatchesConfig(t *testing.T) {
	spectest.CheckFlat(t, reflect.TypeOf(Config{}), reflect.TypeOf(FlatConfig{}), (*FlatConfig)(nil).HCL2Spec())
	flat := spectest.Fields(t, reflect.TypeOf(FlatConfig{}))
	// Every plan option is a builder option, as in the provisioner.
	for name := range spectest.Fields(t, reflect.TypeOf(plan.Options{})) {
		if _, ok := flat[name]; !ok {
			t.Errorf("plan.Options %q is missing from FlatConfig", name)
		}
	}
	// And the builder's own options.
	for _, name := range []string{"base_image", "image_repository", "tags", "pull", "force_rebuild", "buildkit",
		"docker_platform", "build_args", "dockerfile_path"} {
		if _, ok := flat[name]; !ok {
			t.Errorf("%q is missing from FlatConfig", name)
		}
	}
}

// TestPrepareRefusesCredentials: a URL option with credentials, an environment_vars value
// holding such a URL and secret_environment_vars would end up in the image (a layer or its
// history), so each one is refused at validate, named, with the ways out; conda_channel with
// credentials is refused as for the provisioner, pointing at channel_alias.
func TestPrepareRefusesCredentials(t *testing.T) {
	var c Config
	_, err := c.Prepare(builderRaw(fixture.SourceDir(t), map[string]interface{}{
		"index_url":               "https://ci:pw@pypi.internal/simple",
		"extra_index_urls":        []interface{}{"https://pypi.internal/public", "https://token@wheels.internal/simple"},
		"channel_alias":           "https://ci:pw@conda.internal/api",
		"conda_channel":           "https://ci:pw@conda.internal/api/conda-forge",
		"uv_url":                  "https://ci:pw@files.internal/uv.tar.gz",
		"uv_sha256":               strings.Repeat("cd", 32),
		"environment_vars":        []interface{}{"NO_PROXY=localhost", "HTTPS_PROXY=http://ci:pw@proxy.internal:3128"},
		"secret_environment_vars": []interface{}{"API_TOKEN=pw"},
	}))
	if err == nil {
		t.Fatal("Prepare accepted secrets")
	}
	for _, name := range []string{"index_url: holds a secret", "extra_index_urls[1]: holds a secret", "channel_alias: holds a secret",
		"uv_url: holds a secret", "environment_vars[1]: holds a secret", "secret_environment_vars: holds a secret",
		"conda_channel: \"https://ci:xxxxx@conda.internal/api/conda-forge\" carries credentials", "openhands-runtime provisioner", "network_mode"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("the error does not say %q:\n%v", name, err)
		}
	}
	if strings.Contains(err.Error(), "extra_index_urls[0]") || strings.Contains(err.Error(), "environment_vars[0]") || strings.Contains(err.Error(), "pw@") {
		t.Errorf("the error names a value without credentials or shows a password:\n%v", err)
	}
	// The same mirrors and proxy without credentials build.
	if _, err := new(Config).Prepare(builderRaw(fixture.SourceDir(t), map[string]interface{}{
		"index_url": "https://pypi.internal/simple", "channel_alias": "https://conda.internal/api",
		"environment_vars": []interface{}{"HTTPS_PROXY=http://proxy.internal:3128"},
	})); err != nil {
		t.Errorf("mirrors without credentials refused: %v", err)
	}
}

// sdkCheckout is plan's software-agent-sdk checkout in small, at version 1.58.2.
const sdkCheckout = "../../plan/testdata/sdk-checkout"

// TestPrepareAgentServer: the V1 runtime needs no checkout, takes its own defaults and refuses
// the checkout's options and anything but a release version, each error naming its option.
func TestPrepareAgentServer(t *testing.T) {
	src := fixture.SourceDir(t)
	v1 := func(set map[string]interface{}) map[string]interface{} {
		raw := builderRaw("", map[string]interface{}{"source_dir": nil, "runtime": "agent-server", "agent_server_version": "1.58.2"})
		for k, v := range set {
			raw[k] = v
		}
		return raw
	}
	// From a checkout, the version is the checkout's.
	b, err := prepareBuilder(t, v1(map[string]interface{}{"source_dir": sdkCheckout, "agent_server_version": nil}), packerBuildRaw())
	if err != nil || b.config.AgentServerVersion != "1.58.2" || !b.config.InstallsCheckout() {
		t.Fatalf("Prepare from the SDK checkout: %v, version %q", err, b.config.AgentServerVersion)
	}
	b, err = prepareBuilder(t, v1(nil), packerBuildRaw())
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	o := b.config.Options
	if o.PythonVersion != plan.DefaultAgentServerPythonVersion || *o.InstallBrowser || *o.UID != plan.DefaultAgentServerUID ||
		len(o.ExtraPipPackages) != 0 || !slices.Equal(o.Verify.Imports, plan.DefaultAgentServerImports) {
		t.Errorf("agent-server defaults not taken: %+v", o)
	}
	for _, tc := range []struct {
		name string
		set  map[string]interface{}
		want string
	}{
		{"unknown runtime", map[string]interface{}{"runtime": "sandbox"}, `runtime: "sandbox" is not a runtime`},
		{"no version", map[string]interface{}{"agent_server_version": ""}, "agent_server_version: required with runtime"},
		{"version with an option", map[string]interface{}{"agent_server_version": "1.58.2 --index-url=http://x"}, "agent_server_version: \"1.58.2 --index-url=http://x\" is not a release version"},
		{"an OpenHands checkout", map[string]interface{}{"source_dir": src}, "source_dir: \"" + src + "\" is not a software-agent-sdk checkout: its pyproject.toml declares no uv workspace"},
		{"another version than the SDK checkout's", map[string]interface{}{"source_dir": sdkCheckout, "agent_server_version": "1.43.1"}, `agent_server_version: "1.43.1", but the checkout in source_dir is version 1.58.2`},
		{"lock groups", map[string]interface{}{"lock_groups": []string{"main"}}, "lock_groups: runtime = \"agent-server\""},
		{"old python", map[string]interface{}{"python_version": "3.11"}, "python_version: \"3.11\" is too old for the agent-server"},
		{"browser", map[string]interface{}{"install_browser": true}, "install_browser: the action server's Playwright browser"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := prepareBuilder(t, v1(tc.set), packerBuildRaw())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Prepare: %v, want an error with %q", err, tc.want)
			}
		})
	}
	// The action server needs no tini.
	if _, err := prepareBuilder(t, builderRaw(src, map[string]interface{}{"tini_url": "https://mirror.internal/tini", "tini_sha256": strings.Repeat("ab", 32)}), packerBuildRaw()); err == nil ||
		!strings.Contains(err.Error(), `tini_url: set, but only runtime = "agent-server" installs tini; remove it`) {
		t.Errorf("Prepare: %v, want tini_url refused with the action server", err)
	}
	// The action server refuses the agent-server's version.
	if _, err := prepareBuilder(t, builderRaw(src, map[string]interface{}{"agent_server_version": "1.58.2"}), packerBuildRaw()); err == nil ||
		!strings.Contains(err.Error(), "agent_server_version: set, but runtime is \"action-server\"") {
		t.Errorf("Prepare: %v, want agent_server_version refused with the action server", err)
	}
}
