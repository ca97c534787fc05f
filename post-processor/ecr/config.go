//go:generate go tool packer-sdc struct-markdown
//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Config,AssumeRoleConfig

package ecrpostprocessor

import (
	"fmt"
	"regexp"

	"github.com/hashicorp/packer-plugin-sdk/common"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
	"github.com/openhands-runtime/packer-plugin-openhands/internal/imagepush"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// Config is the openhands-ecr post-processor's configuration.
type Config struct {
	common.PackerConfig `mapstructure:",squash"`
	AccessConfig        `mapstructure:",squash"`

	// ECR repository to push to, such as `agents/openhands-runtime`. Required.
	Repository string `mapstructure:"repository" required:"true"`
	// Account id of the registry, for cross-account pushes. Defaults to the credentials'.
	RegistryID string `mapstructure:"registry_id"`
	// Tags to push. The builder's content tags (`oh_v...`) are added when the artifact has
	// them. Defaults to `["latest"]` when there are none.
	Tags []string `mapstructure:"tags"`
	// Create the repository when it does not exist. Defaults to true.
	CreateRepository *bool `mapstructure:"create_repository"`
	// For a created repository: scan images on push.
	ScanOnPush bool `mapstructure:"scan_on_push"`
	// For a created repository: `MUTABLE` (default) or `IMMUTABLE`.
	ImageTagMutability string `mapstructure:"image_tag_mutability"`
	// For a created repository: `AES256` (default) or `KMS`.
	EncryptionType string `mapstructure:"encryption_type"`
	// For a created repository with `KMS` encryption: the key's ARN or id.
	KMSKey string `mapstructure:"kms_key"`
	// For a created repository: its resource tags.
	RepositoryTags map[string]string `mapstructure:"repository_tags"`
	// Verify only, push nothing.
	SkipPush bool `mapstructure:"skip_push"`
	// How the image is pushed: `plugin` (default) reads it from the engine's export,
	// compresses its layers on every core and uploads them itself; `engine` has the Docker
	// engine push it, as `docker push` does (gzip on one core).
	PushMethod string `mapstructure:"push_method"`
	// Layer compression of the `plugin` push: `gzip` (default), which every client pulls, or
	// `zstd` (OCI `+zstd` layers: a little smaller and faster to compress, pulled by Docker
	// Engine 23 and later and containerd 1.5 and later, so current ECS and EKS AMIs).
	LayerCompression string `mapstructure:"layer_compression"`
	// Compression level: 1 to 9 for gzip (default 6), 1 to 22 for zstd (default 3).
	LayerCompressionLevel int `mapstructure:"layer_compression_level"`
	// Push without running the verification checks in a container of the image first.
	SkipVerify bool `mapstructure:"skip_verify"`
	// SBOM to attach to the pushed image as an OCI referrer (artifact type
	// `application/vnd.cyclonedx+json` or `application/spdx+json`, from its content), with the
	// provenance beside it (`<name>.provenance.intoto.json`, artifact type
	// `application/vnd.in-toto+json`, its subject set to the pushed digest). Defaults to the
	// documents the `openhands-runtime` builder wrote (its artifact names them); for an image
	// of the docker builder, set the provisioner's `sbom_path`. Without either, nothing is
	// attached.
	SBOMPath string `mapstructure:"sbom_path"`
	// Where the runtime is in the image and how it is checked, as for the provisioner: only for
	// an image without a record of the options it was built with (one of another tool). An
	// image of the openhands-runtime builder or provisioner is verified with the options it
	// was built with; a layout option set here that differs from them is refused, and the
	// `verify` block's settings replace the build's.
	plan.Layout `mapstructure:",squash"`

	ctx interpolate.Context
}

var (
	ecrRepository = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$`)
	accountID     = regexp.MustCompile(`^[0-9]{12}$`)
)

func (c *Config) Prepare(raws ...interface{}) error {
	if err := config.Decode(c, &config.DecodeOpts{
		PluginType:         "packer.post-processor.openhands-ecr",
		Interpolate:        true,
		InterpolateContext: &c.ctx,
	}, raws...); err != nil {
		return err
	}
	if c.CreateRepository == nil {
		t := true
		c.CreateRepository = &t
	}
	if c.ImageTagMutability == "" {
		c.ImageTagMutability = "MUTABLE"
	}
	if c.EncryptionType == "" {
		c.EncryptionType = "AES256"
	}
	if c.PushMethod == "" {
		c.PushMethod = pushPlugin
	}
	if c.LayerCompression == "" {
		c.LayerCompression = imagepush.Gzip
	}
	var errs *packersdk.MultiError
	add := func(format string, args ...any) { errs = packersdk.MultiErrorAppend(errs, fmt.Errorf(format, args...)) }
	for _, e := range c.AccessConfig.prepare(!c.SkipPush) {
		errs = packersdk.MultiErrorAppend(errs, e)
	}
	if c.Repository == "" {
		add("repository: required: the ECR repository to push to, such as \"agents/openhands-runtime\"")
	} else if !ecrRepository.MatchString(c.Repository) {
		add("repository: %q is not an ECR repository name (lower case letters, digits, '.', '_', '-', '/')", c.Repository)
	} else if len(c.Repository) < 2 || len(c.Repository) > 256 {
		// ECR's CreateRepository takes 2 to 256 characters.
		add("repository: %q: ECR repository names are 2 to 256 characters long, this one has %d", c.Repository, len(c.Repository))
	}
	if c.RegistryID != "" && !accountID.MatchString(c.RegistryID) {
		add("registry_id: %q is not a 12-digit AWS account id", c.RegistryID)
	}
	for i, t := range c.Tags {
		if !engine.TagPattern.MatchString(t) {
			add("tags[%d]: %q is not an image tag", i, t)
		}
	}
	if c.ImageTagMutability != "MUTABLE" && c.ImageTagMutability != "IMMUTABLE" {
		add("image_tag_mutability: %q must be MUTABLE or IMMUTABLE", c.ImageTagMutability)
	}
	switch c.EncryptionType {
	case "AES256":
		if c.KMSKey != "" {
			add("kms_key: only used with encryption_type = \"KMS\"")
		}
	case "KMS":
	default:
		add("encryption_type: %q must be AES256 or KMS", c.EncryptionType)
	}
	switch c.PushMethod {
	case pushPlugin:
		if c.LayerCompression != imagepush.Gzip && c.LayerCompression != imagepush.Zstd {
			add("layer_compression: %q must be gzip or zstd", c.LayerCompression)
		} else if c.LayerCompressionLevel != 0 && !imagepush.ValidLevel(c.LayerCompression, c.LayerCompressionLevel) {
			add("layer_compression_level: %d is not a %s level: use 1 to %d, or leave it out for the default", c.LayerCompressionLevel, c.LayerCompression, map[string]int{imagepush.Gzip: 9, imagepush.Zstd: 22}[c.LayerCompression])
		}
	case pushEngine:
		if c.LayerCompression != imagepush.Gzip || c.LayerCompressionLevel != 0 {
			add("layer_compression, layer_compression_level: the engine push compresses with gzip at its own level: remove them, or set push_method = \"plugin\"")
		}
	default:
		add("push_method: %q must be plugin or engine", c.PushMethod)
	}
	// The layout keeps only what was set: the rest comes from the image's record of its build
	// (or the defaults, for an image without one), and what was set must agree with it.
	layout := c.Layout
	layout.SetDefaults()
	for _, e := range layout.Errors() {
		errs = packersdk.MultiErrorAppend(errs, e)
	}
	if errs != nil && len(errs.Errors) > 0 {
		return errs
	}
	return nil
}

// Push methods.
const (
	pushPlugin = "plugin"
	pushEngine = "engine"
)

// compression is the layer compression of the plugin's push, with its level.
func (c *Config) compression() imagepush.Compression {
	level := c.LayerCompressionLevel
	if level == 0 {
		level = imagepush.DefaultGzipLevel
		if c.LayerCompression == imagepush.Zstd {
			level = imagepush.DefaultZstdLevel
		}
	}
	return imagepush.Compression{Algorithm: c.LayerCompression, Level: level}
}
