//go:generate go tool packer-sdc struct-markdown

package ecrpostprocessor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	awsecr "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// AccessConfig is how the post-processor finds AWS credentials, with the names
// packer-plugin-amazon uses. Unset, the SDK's default chain applies: environment, shared
// config and credentials files (profiles with sso-session included), then the instance's
// metadata service.
type AccessConfig struct {
	// AWS access key id. With `secret_key`, overrides the default chain.
	AccessKey string `mapstructure:"access_key"`
	// AWS secret access key.
	SecretKey string `mapstructure:"secret_key"`
	// Session token for temporary credentials.
	Token string `mapstructure:"token"`
	// Profile of the shared config files, including `sso-session` profiles.
	Profile string `mapstructure:"profile"`
	// Path of a shared credentials file instead of `~/.aws/credentials`.
	SharedCredentialsFile string `mapstructure:"shared_credentials_file"`
	// AWS region of the registry. Required for a push unless the SDK finds one: AWS_REGION,
	// AWS_DEFAULT_REGION or the profile's `region`; without any, the configuration is refused
	// (at `packer validate` too).
	Region string `mapstructure:"region"`
	// Role to assume for the push, as `docker-push`'s `ecr_login` cannot.
	AssumeRole AssumeRoleConfig `mapstructure:"assume_role"`
	// Skip the credential check. Unless this or `skip_push` is set, the post-processor
	// resolves its AWS credentials and calls STS `GetCallerIdentity` with them when `packer
	// build` starts, before any source runs, and fails the build naming the credential source
	// (where the plugin cannot see the Packer command, on systems without /proc, it checks
	// when it starts instead, before the verification). Skipped, bad credentials fail at the
	// push, after the build and the verification. `packer validate` never calls AWS.
	SkipCredentialValidation bool `mapstructure:"skip_credential_validation"`
	// Never ask the EC2 instance metadata service for credentials or region.
	SkipMetadataAPICheck bool `mapstructure:"skip_metadata_api_check"`
	// ECR API endpoint, for VPC endpoints (and tests). Defaults to the region's.
	ECREndpoint string `mapstructure:"ecr_endpoint"`
	// STS endpoint for the credential check and `assume_role`. Defaults to the region's.
	STSEndpoint string `mapstructure:"sts_endpoint"`
}

// AssumeRoleConfig names the role to assume.
type AssumeRoleConfig struct {
	// ARN of the role.
	RoleARN string `mapstructure:"role_arn"`
	// Session name recorded in CloudTrail. Defaults to `packer-openhands-ecr`.
	SessionName string `mapstructure:"session_name"`
	// External id the role's trust policy requires.
	ExternalID string `mapstructure:"external_id"`
}

func (c *AccessConfig) prepare(push bool) []error {
	// As packer-plugin-amazon does: the keys never appear in Packer's log or output.
	packersdk.LogSecretFilter.Set(c.SecretKey, c.Token)
	var errs []error
	if (c.AccessKey == "") != (c.SecretKey == "") {
		errs = append(errs, fmt.Errorf("access_key and secret_key: set both or neither"))
	}
	if c.Token != "" && c.AccessKey == "" {
		errs = append(errs, fmt.Errorf("token: only used with access_key and secret_key"))
	}
	if c.AssumeRole.RoleARN == "" && (c.AssumeRole.SessionName != "" || c.AssumeRole.ExternalID != "") {
		errs = append(errs, fmt.Errorf("assume_role.role_arn: required when the assume_role block is set"))
	}
	if push && c.Region == "" {
		// As the SDK resolves it, from files and variables only: `packer validate` stays offline.
		cfg, err := awsconfig.LoadDefaultConfig(context.Background(), c.loadOptions()...)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("region: not set, and loading the AWS configuration to find one failed: %w", err))
		case cfg.Region == "":
			errs = append(errs, errNoRegion)
		}
	}
	return errs
}

var errNoRegion = errors.New("region: required for a push, and none is set: set region, or AWS_REGION or AWS_DEFAULT_REGION, or region in the profile")

// loadOptions are the SDK's loading options for what is set.
func (c *AccessConfig) loadOptions() []func(*awsconfig.LoadOptions) error {
	var opts []func(*awsconfig.LoadOptions) error
	if c.Region != "" {
		opts = append(opts, awsconfig.WithRegion(c.Region))
	}
	if c.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(c.Profile))
	}
	if c.SharedCredentialsFile != "" {
		opts = append(opts, awsconfig.WithSharedCredentialsFiles([]string{c.SharedCredentialsFile}))
	}
	if c.AccessKey != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey, c.Token)))
	}
	if c.SkipMetadataAPICheck {
		opts = append(opts, awsconfig.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	return opts
}

// awsConfig resolves the SDK configuration and the credentials provider; credentials are
// fetched at their first use.
func (c *AccessConfig) awsConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, c.loadOptions()...)
	if err != nil {
		return cfg, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return cfg, errNoRegion
	}
	if c.AssumeRole.RoleARN != "" {
		session := c.AssumeRole.SessionName
		if session == "" {
			session = "packer-openhands-ecr"
		}
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(c.stsClient(cfg), c.AssumeRole.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = session
			if c.AssumeRole.ExternalID != "" {
				o.ExternalID = aws.String(c.AssumeRole.ExternalID)
			}
		}))
	}
	return cfg, nil
}

// stsClient is the STS client for the credential check and assume_role.
func (c *AccessConfig) stsClient(cfg aws.Config) *sts.Client {
	return sts.NewFromConfig(cfg, func(o *sts.Options) {
		if c.STSEndpoint != "" {
			o.BaseEndpoint = aws.String(c.STSEndpoint)
		}
	})
}

// apiAttemptTimeout bounds one attempt of an ECR API call: the SDK's HTTP client has no
// timeout, so a stalled answer would hang the build; past this the SDK's retryer tries
// again, and the call fails once its attempts are spent.
var apiAttemptTimeout = 30 * time.Second

// ecrClient is the ECR API client for the resolved configuration.
func (c *AccessConfig) ecrClient(cfg aws.Config) *awsecr.Client {
	return awsecr.NewFromConfig(cfg, func(o *awsecr.Options) {
		if c.ECREndpoint != "" {
			o.BaseEndpoint = aws.String(c.ECREndpoint)
		}
		// The SDK's own client, which holds any custom CA bundle, with a timeout.
		if hc, ok := o.HTTPClient.(*awshttp.BuildableClient); ok {
			o.HTTPClient = hc.WithTimeout(apiAttemptTimeout)
		}
	})
}
