//go:generate go tool packer-sdc struct-markdown
//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Config

package runtimebuilder

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/packer-plugin-sdk/common"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
	"github.com/openhands-runtime/packer-plugin-openhands/sbom"
)

// DefaultBaseImage is the base OpenHands' runtime builder used by default.
const DefaultBaseImage = "nikolaik/python-nodejs:python3.12-nodejs22"

// Config is the openhands-runtime builder's configuration: where the image comes from and
// goes, and the plan's install options, the same as the provisioner's.
type Config struct {
	common.PackerConfig `mapstructure:",squash"`
	plan.Options        `mapstructure:",squash"`
	sbom.Settings       `mapstructure:",squash"`

	// Image the runtime is built on. Defaults to `nikolaik/python-nodejs:python3.12-nodejs22`.
	BaseImage string `mapstructure:"base_image"`
	// Repository of the image's tags (content tags and `tags`). Defaults to `openhands-runtime`.
	ImageRepository string `mapstructure:"image_repository"`
	// More tags for the image, besides its content tags.
	Tags []string `mapstructure:"tags"`
	// Pull the base image before building. Defaults to true; set false for an image that
	// only exists in the local engine.
	Pull *bool `mapstructure:"pull"`
	// Build even when an image with the same source tag exists.
	ForceRebuild bool `mapstructure:"force_rebuild"`
	// Build with BuildKit instead of the legacy builder. Defaults to false, as OpenHands built
	// its runtime with `DOCKER_BUILDKIT=0`.
	BuildKit bool `mapstructure:"buildkit"`
	// Platform of the image for the engine, such as `linux/amd64` or `linux/arm64`. Defaults to
	// the engine's. (The `platform` option is the operating system release of the plan.)
	DockerPlatform string `mapstructure:"docker_platform"`
	// Platforms to build, one image each, such as `["linux/amd64", "linux/arm64"]` (a host of
	// another architecture builds under emulation: qemu-user-static and its binfmt entry).
	// Each image gets its own content tags (the platform is part of their digest); your `tags`
	// are given per platform with the architecture appended (`latest-arm64`), since one local
	// tag names one image. Not with `docker_platform`.
	Platforms []string `mapstructure:"platforms"`
	// Base image per platform, for platforms whose base is another image than `base_image`
	// (such as a local arm64 image with `pull = false`), by platform.
	BaseImages map[string]string `mapstructure:"base_images"`
	// Build arguments passed to the build. The rendered Dockerfile declares no `ARG`, so only
	// Docker's predefined proxy arguments (`HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`, `FTP_PROXY`,
	// `ALL_PROXY`, and their lower-case forms) reach the plan: every step's environment, so the
	// downloads, the package managers and Playwright use the proxy. They are not part of the
	// content tags. A value holding credentials (a URL with a user or password) is refused.
	BuildArgs map[string]string `mapstructure:"build_args"`
	// Network of the build's `RUN` steps, as `docker build --network`: `none` for a build that
	// must not reach any network, `host`, or a network's name. Defaults to the engine's default.
	// With `none`, every step that downloads needs its replacement: see the air-gapped guide
	// (the tools' `*_path`, system packages in the base image, `index_url` and `channel_alias`
	// only through a network that reaches them, `install_browser = false` or a browser in the
	// base image).
	NetworkMode string `mapstructure:"network_mode"`
	// Write the rendered Dockerfile to this local path, for review.
	DockerfilePath string `mapstructure:"dockerfile_path"`

	ctx interpolate.Context
}

var (
	// imageReference is docker's reference grammar, loosely: [host[:port]/]path[:tag][@digest].
	imageReference = regexp.MustCompile(`^([a-z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-]+[a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$`)
	repository     = regexp.MustCompile(`^([a-z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-]+[a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*$`)
	platformSyntax = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$`)
)

func (c *Config) Prepare(raws ...interface{}) ([]string, error) {
	err := config.Decode(c, &config.DecodeOpts{
		PluginType:         "packer.builder.openhands-runtime",
		Interpolate:        true,
		InterpolateContext: &c.ctx,
	}, raws...)
	if err != nil {
		return nil, err
	}
	if c.BaseImage == "" {
		c.BaseImage = DefaultBaseImage
	}
	if c.ImageRepository == "" {
		c.ImageRepository = "openhands-runtime"
	}
	if c.Pull == nil {
		t := true
		c.Pull = &t
	}

	var errs *packersdk.MultiError
	// The plan checks each tool's files and sums for the platforms built (its *_by_platform
	// options); forPlatform gives each image its own.
	c.Options.SetTargets(c.buildPlatforms())
	for _, e := range append(c.Options.Prepare(), c.Settings.Prepare(c.PackerBuildName)...) {
		var missing *plan.MissingSumError
		if errors.As(e, &missing) && missing.Tool == vscodeServer && len(c.architectures()) > 1 {
			continue // platformErrors says how to give each architecture its sum
		}
		errs = packersdk.MultiErrorAppend(errs, e)
	}
	if !imageReference.MatchString(c.BaseImage) {
		errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("base_image: %q is not an image reference such as \"debian:bookworm\" or \"registry.example.com/team/base:1.2\"", c.BaseImage))
	}
	if !repository.MatchString(c.ImageRepository) {
		errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("image_repository: %q is not a repository name (lower case, such as \"openhands-runtime\" or \"registry.example.com/team/runtime\")", c.ImageRepository))
	}
	for i, t := range c.Tags {
		if !engine.TagPattern.MatchString(t) {
			errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("tags[%d]: %q is not a tag (letters, digits, '_', '.', '-', at most 128)", i, t))
		}
	}
	// Whatever a Dockerfile step reads is in a layer or the image's history for good: a build
	// argument shows in docker history, a copied file stays in its COPY layer. No design
	// holds for the legacy builder without running steps outside the Dockerfile, so
	// credentials are refused rather than baked into an image.
	refused := c.Options.CredentialOptions()
	if len(c.SecretEnvironmentVars) > 0 {
		refused = append(refused, "secret_environment_vars")
	}
	for _, name := range refused {
		errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("%s: holds a secret, which the builder would write into the image "+
			"(its layers and history are readable by anyone who can pull it): use a mirror or proxy the build's network reaches "+
			"without credentials (network_mode), or build with the docker builder and the openhands-runtime provisioner, which "+
			"passes secrets to the plan only while it runs", name))
	}
	errs = c.buildArgErrors(errs)
	errs = c.platformErrors(errs)
	if c.DockerPlatform != "" && !platformSyntax.MatchString(c.DockerPlatform) {
		errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("docker_platform: %q is not os/arch[/variant], such as \"linux/amd64\"", c.DockerPlatform))
	}
	if errs != nil && len(errs.Errors) > 0 {
		return nil, errs
	}
	packersdk.LogSecretFilter.Set(c.Options.Secrets()...)
	return nil, nil
}

// platformErrors checks platforms and base_images.
func (c *Config) platformErrors(errs *packersdk.MultiError) *packersdk.MultiError {
	add := func(format string, args ...any) { errs = packersdk.MultiErrorAppend(errs, fmt.Errorf(format, args...)) }
	if c.DockerPlatform != "" && len(c.Platforms) > 0 {
		add("platforms: set with docker_platform; use platforms alone (a list of one for one platform)")
	}
	seen := map[string]bool{}
	for i, p := range c.Platforms {
		switch {
		case !platformSyntax.MatchString(p):
			add("platforms[%d]: %q is not os/arch[/variant], such as \"linux/arm64\"", i, p)
		case seen[p]:
			add("platforms[%d]: %q is listed twice", i, p)
		}
		seen[p] = true
		if len(c.Platforms) > 1 {
			for _, t := range c.Tags {
				if tag := platformTag(t, p); !engine.TagPattern.MatchString(tag) {
					add("tags: %q for %s would be %q, which is not a tag", t, p, tag)
				}
			}
		}
	}
	built := func(p string) bool { return seen[p] || p == c.DockerPlatform }
	for _, p := range slices.Sorted(maps.Keys(c.BaseImages)) {
		if !built(p) {
			add("base_images: %q is not one of the platforms built (%s)", p, strings.Join(c.buildPlatforms(), ", "))
		} else if !imageReference.MatchString(c.BaseImages[p]) {
			add("base_images: %q for %s is not an image reference", c.BaseImages[p], p)
		}
	}
	return c.vscodeServerSumErrors(errs)
}

// ProxyBuildArgs are Docker's predefined build arguments: the engine gives them to every RUN
// step's environment without an ARG instruction, so they reach the plan's downloads (curl,
// wget, micromamba, uv, apt, Playwright), and leaves them out of `docker history`.
var ProxyBuildArgs = []string{"HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY",
	"http_proxy", "https_proxy", "ftp_proxy", "no_proxy", "all_proxy"}

// buildArgErrors refuses build arguments holding credentials, as the builder refuses them
// everywhere else: a proxy argument reaches every step, and the plan cannot promise that no
// tool writes its environment into a layer; any other argument reaches no instruction.
func (c *Config) buildArgErrors(errs *packersdk.MultiError) *packersdk.MultiError {
	for _, name := range slices.Sorted(maps.Keys(c.BuildArgs)) {
		if !plan.HoldsCredentials(c.BuildArgs[name]) {
			continue
		}
		if slices.Contains(ProxyBuildArgs, name) {
			errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("build_args[%s]: holds credentials (a URL with a user or password), which every step of "+
				"the build reads and the image may keep: use a proxy the build's network reaches without credentials (network_mode), or the docker "+
				"builder with the openhands-runtime provisioner and the proxy in environment_vars, whose password the plan keeps secret", name))
		} else {
			errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("build_args[%s]: holds credentials (a URL with a user or password), and reaches no "+
				"step of the plan (its Dockerfile declares no ARG; only the proxy arguments %s reach the steps): remove it; for a mirror with "+
				"credentials, build with the docker builder and the openhands-runtime provisioner", name, strings.Join(ProxyBuildArgs[:5], ", ")))
		}
	}
	return errs
}

// vscodeServer is the plan's name of the openvscode-server tool.
const vscodeServer = "vscode_server"

// vscodeServerSumErrors checks that every platform built has the sum of its own
// architecture's openvscode-server tarball, the default download having no published sum: one
// vscode_server_sha256 for two architectures would fail the second at its checksum, after the
// first image was built.
func (c *Config) vscodeServerSumErrors(errs *packersdk.MultiError) *packersdk.MultiError {
	if c.InstallVSCodeServer != nil && !*c.InstallVSCodeServer {
		return errs
	}
	var missing, general []string // platforms without a sum, and those taking vscode_server_sha256
	for _, p := range c.buildPlatforms() {
		one := c.Options.ForPlatform(p)
		switch {
		case one.VSCodeServerPath != "" || one.VSCodeServerURL != "": // not the default release
		case c.VSCodeServerSHA256ByPlatform[p] != "":
		case one.VSCodeServerSHA256 != "":
			general = append(general, p)
		default:
			missing = append(missing, p)
		}
	}
	// Without several architectures, the plan's own check asks for a missing sum.
	archs := c.architectures()
	if len(archs) == 0 && len(c.VSCodeServerSHA256ByPlatform) == 0 {
		return errs
	}
	generalArchs := map[string]bool{}
	for _, p := range general {
		generalArchs[archs[p]] = true
	}
	switch {
	case len(generalArchs) > 1:
		errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("vscode_server_sha256: one sum for %s, whose openvscode-server tarballs differ: "+
			"remove it; %s", strings.Join(general, " and "), byPlatformHint(append(general, missing...))))
	case len(missing) > 0 && len(c.VSCodeServerSHA256ByPlatform) > 0:
		errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("vscode_server_sha256_by_platform: no sum for %s; %s", strings.Join(missing, ", "), byPlatformHint(missing)))
	case len(missing) > 0:
		errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("vscode_server_sha256_by_platform: required for %s, a build of several architectures, "+
			"since openvscode-server publishes no checksums; %s", strings.Join(missing, " and "), byPlatformHint(missing)))
	}
	return errs
}

// byPlatformHint says what to set for the platforms' openvscode-server sums and where each
// tarball is.
func byPlatformHint(platforms []string) string {
	var entries, sources []string
	for _, p := range platforms {
		d, ok := plan.DefaultDownload(vscodeServer, machine(p))
		if !ok {
			entries = append(entries, fmt.Sprintf("%q = \"<SHA-256 of its tarball>\"", p))
			continue
		}
		file := d.URL[strings.LastIndex(d.URL, "/")+1:]
		entries = append(entries, fmt.Sprintf("%q = \"<SHA-256 of %s>\"", p, file))
		sources = append(sources, d.URL)
	}
	return fmt.Sprintf("vscode_server_sha256_by_platform needs { %s }, each the sha256sum of a copy you trust of %s "+
		"(the project publishes no checksums); or set install_vscode_server = false",
		strings.Join(entries, ", "), strings.Join(sources, " and "))
}

// machine is the `uname -m` of a platform such as linux/arm64 or linux/arm64/v8, or "".
func machine(platform string) string {
	a, _ := plan.ArchOf(platform)
	return a.Machine
}

// architectures are the architectures (`uname -m`) of the platforms built, by platform, when
// they are more than one; nil otherwise.
func (c *Config) architectures() map[string]string {
	if len(c.Platforms) < 2 {
		return nil
	}
	out := map[string]string{}
	seen := map[string]bool{}
	for _, p := range c.Platforms {
		arch := machine(p)
		if arch == "" { // one the plan refuses when it runs: each variant its own
			_, arch, _ = strings.Cut(p, "/")
		}
		out[p] = arch
		seen[arch] = true
	}
	if len(seen) < 2 {
		return nil
	}
	return out
}

// buildPlatforms are the platforms to build, one image each; "" is the engine's own.
func (c *Config) buildPlatforms() []string {
	if len(c.Platforms) > 0 {
		return c.Platforms
	}
	return []string{c.DockerPlatform}
}

// forPlatform is the configuration of one platform's image: its engine platform, base image,
// tools and, when several platforms are built, its own form of the user's tags.
func (c *Config) forPlatform(platform string) *Config {
	one := *c
	one.DockerPlatform, one.Platforms = platform, nil
	if base, ok := c.BaseImages[platform]; ok {
		one.BaseImage = base
	}
	// Each tool's files, URLs and sums as the platform takes them (the *_by_platform options).
	one.Options = c.Options.ForPlatform(platform)
	if len(c.Platforms) > 1 {
		one.Tags = make([]string, len(c.Tags))
		for i, t := range c.Tags {
			one.Tags[i] = platformTag(t, platform)
		}
		// One SBOM per image: the platform's in the file name, as in its tags.
		if one.Settings.Path != "" {
			name, ext := c.Settings.Path, ""
			for _, e := range []string{".sbom.cdx.json", ".sbom.spdx.json"} {
				if trimmed, ok := strings.CutSuffix(name, e); ok {
					name, ext = trimmed, e
					break
				}
			}
			one.Settings.Path = platformTag(name, platform) + ext
		}
	}
	return &one
}

// platformTag is a user's tag for one of several platforms: the architecture (and variant)
// appended, as in latest-arm64 or latest-arm-v7.
func platformTag(tag, platform string) string {
	_, arch, _ := strings.Cut(platform, "/")
	return tag + "-" + strings.ReplaceAll(arch, "/", "-")
}
