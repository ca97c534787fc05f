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
	// Push without running the verification checks in a container of the image first.
	SkipVerify bool `mapstructure:"skip_verify"`
	// SBOM to attach to the pushed image as an OCI referrer (artifact type
	// `application/vnd.cyclonedx+json`). Defaults to the SBOM the `openhands-runtime` builder
	// wrote (its artifact names it); for an image of the docker builder, set the provisioner's
	// `sbom_path`. Without either, no SBOM is attached.
	SBOMPath string `mapstructure:"sbom_path"`
	// Where the runtime is in the image and how it is checked, as for the provisioner.
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
	layout := c.planOptions()
	for _, e := range layout.Layout.Errors() {
		errs = packersdk.MultiErrorAppend(errs, e)
	}
	if errs != nil && len(errs.Errors) > 0 {
		return errs
	}
	return nil
}

// planOptions are the plan options the checks need, for the image's runtime layout.
func (c *Config) planOptions() plan.Options {
	o := plan.Options{Layout: c.Layout}
	o.SetDefaults()
	return o
}
