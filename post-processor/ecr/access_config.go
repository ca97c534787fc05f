//go:generate go tool packer-sdc struct-markdown

package ecrpostprocessor

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	awsecr "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
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
	// Skip the credential check at the start of `packer build`: unless set (or `skip_push`
	// is), the post-processor resolves its credentials and calls STS `GetCallerIdentity`
	// with them before any source runs, and fails the build when that fails. Skipped, bad
	// credentials fail only at the push, after the build and the verification.
	// `packer validate` never makes the check.
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

// checkCredentials resolves the credentials and asks STS whose they are (GetCallerIdentity,
// which every principal may call, so it proves the credentials and nothing else). It returns
// the caller's ARN, or an error naming the credential source and what to fix.
func (c *AccessConfig) checkCredentials(ctx context.Context) (string, error) {
	cfg, err := c.awsConfig(ctx)
	if err != nil {
		return "", err
	}
	src := c.credentialSource(cfg)
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return "", fmt.Errorf("AWS credentials: none could be resolved from %s: %w\nTo fix: %s; %s", src.name, err, src.fix, skipHint)
	}
	out, err := c.stsClient(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("AWS credentials from %s do not work (STS GetCallerIdentity): %w\nTo fix: %s; %s", src.name, err, src.fix, skipHint)
	}
	return aws.ToString(out.Arn), nil
}

const skipHint = "or set skip_credential_validation = true to leave credentials to the push, after the build"

// credentialSource names where credentials come from, in the SDK's order, and what to fix there.
type credentialSource struct{ name, fix string }

func (c *AccessConfig) credentialSource(cfg aws.Config) credentialSource {
	var env awsconfig.EnvConfig
	var shared awsconfig.SharedConfig
	for _, s := range cfg.ConfigSources {
		switch v := s.(type) {
		case awsconfig.EnvConfig:
			env = v
		case awsconfig.SharedConfig:
			shared = v
		}
	}
	// A profile named in the template or AWS_PROFILE wins over keys in the environment.
	profileNamed := c.Profile != "" || env.SharedConfigProfile != ""
	var src credentialSource
	switch {
	case c.AccessKey != "" && c.Token != "":
		src = credentialSource{"the static keys access_key, secret_key and token", "check the three; temporary keys expire: get new ones"}
	case c.AccessKey != "":
		src = credentialSource{"the static keys access_key and secret_key", "check both; temporary keys (ASIA...) also need token"}
	case !profileNamed && env.Credentials.HasKeys():
		src = credentialSource{"the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)", "check those variables; temporary keys need AWS_SESSION_TOKEN and expire"}
	case !profileNamed && env.WebIdentityTokenFilePath != "":
		src = credentialSource{"web identity (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE)", "check that the token file is current and that the role trusts its issuer"}
	case shared.SSOSessionName != "" || shared.SSOStartURL != "":
		src = credentialSource{fmt.Sprintf("the SSO profile %q", shared.Profile), fmt.Sprintf("run `aws sso login --profile %s` (the SSO token is missing or expired) and check the profile's sso_account_id and sso_role_name", shared.Profile)}
	case shared.RoleARN != "":
		src = credentialSource{fmt.Sprintf("the profile %q, which assumes %s", shared.Profile, shared.RoleARN), "check the profile's source credentials and that the role's trust policy lets them assume it"}
	case shared.CredentialProcess != "":
		src = credentialSource{fmt.Sprintf("the profile %q's credential_process", shared.Profile), "run the credential_process command by hand to see why it fails"}
	case shared.Credentials.HasKeys():
		src = credentialSource{fmt.Sprintf("the profile %q of the shared credentials files", shared.Profile), "check its aws_access_key_id and aws_secret_access_key (and aws_session_token for temporary keys)"}
	default:
		imds := "then the container or EC2 instance role"
		if c.SkipMetadataAPICheck {
			imds = "then the container role; skip_metadata_api_check keeps the EC2 instance role out"
		}
		profile := shared.Profile
		if profile == "" { // no shared files at all
			profile = "default"
		}
		src = credentialSource{fmt.Sprintf("the SDK's default chain (no keys in the template, the environment or profile %q; %s)", profile, imds),
			"set access_key and secret_key, or profile, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run on an instance with a role"}
	}
	if c.AssumeRole.RoleARN != "" {
		src = credentialSource{fmt.Sprintf("assume_role %s with %s", c.AssumeRole.RoleARN, src.name),
			src.fix + "; and check that the role's trust policy lets those credentials assume it (with external_id, when it requires one)"}
	}
	return src
}

// stsClient is the STS client for the credential check and assume_role.
func (c *AccessConfig) stsClient(cfg aws.Config) *sts.Client {
	return sts.NewFromConfig(cfg, func(o *sts.Options) {
		if c.STSEndpoint != "" {
			o.BaseEndpoint = aws.String(c.STSEndpoint)
		}
	})
}

// ecrClient is the ECR API client for the resolved configuration.
func (c *AccessConfig) ecrClient(cfg aws.Config) *awsecr.Client {
	return awsecr.NewFromConfig(cfg, func(o *awsecr.Options) {
		if c.ECREndpoint != "" {
			o.BaseEndpoint = aws.String(c.ECREndpoint)
		}
	})
}
