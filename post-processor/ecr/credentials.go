package ecrpostprocessor

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

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
