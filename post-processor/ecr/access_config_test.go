package ecrpostprocessor

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/ecrtest"
)

// TestAccessConfigCredentialSources resolves credentials from each source the post-processor
// documents, against STS, SSO and ECR doubles on 127.0.0.1: the credential check
// (GetCallerIdentity) must pass with the credentials of that source, all of them, and the
// ECR API must then be called with them; the doubles check the access key, the SigV4
// signature against its secret and the session token of temporary credentials. Bad
// credentials of each source must fail the check with an error naming the source and what
// to fix.
func TestAccessConfigCredentialSources(t *testing.T) {
	const (
		staticKey  = "AKIASTATICDOUBLE"
		fileKey    = "AKIAFROMFILEDOUBLE"
		roleARN    = "arn:aws:iam::123456789012:role/packer-push"
		ssoToken   = "sso-access-token"
		ssoAccount = "123456789012"
		ssoRole    = "PushImages"
	)
	static := ecrtest.Credentials{AccessKeyID: staticKey, SecretAccessKey: "static-secret"}
	// Temporary credentials given as access_key, secret_key and token (or the environment).
	session := ecrtest.Credentials{AccessKeyID: "ASIASESSIONDOUBLE", SecretAccessKey: "session-secret", SessionToken: "session-token"}
	fromFile := ecrtest.Credentials{AccessKeyID: fileKey, SecretAccessKey: "file-secret"}
	assumed := ecrtest.Credentials{AccessKeyID: "ASIAASSUMEDDOUBLE", SecretAccessKey: "assumed-secret", SessionToken: "assumed-token"}
	fromSSO := ecrtest.Credentials{AccessKeyID: "ASIAFROMSSODOUBLE", SecretAccessKey: "sso-secret", SessionToken: "sso-token"}

	tests := []struct {
		name string
		// setup prepares the environment and the doubles and returns the configuration to
		// resolve. STS knows static as its caller unless setup says otherwise; it also knows
		// the credentials the doubles issue.
		setup func(t *testing.T, home string, sts *ecrtest.STS, sso *ecrtest.SSO) AccessConfig
		// ecr are the only credentials the ECR double accepts: key id, secret (the signature
		// is checked) and session token; the check's GetCallerIdentity must come from them.
		// Empty when the check must fail with wantErr.
		ecr ecrtest.Credentials
		// wantErr is what the credential check must fail with: the source, AWS's answer and
		// the fix.
		wantErr []string
		// wantAssume is the AssumeRole request STS must have seen.
		wantAssume *ecrtest.AssumeRoleCall
	}{
		{
			name: "static keys",
			setup: func(t *testing.T, _ string, _ *ecrtest.STS, _ *ecrtest.SSO) AccessConfig {
				return AccessConfig{AccessKey: staticKey, SecretKey: "static-secret"}
			},
			ecr: static,
		},
		{
			// The session token must reach ECR: it refuses temporary keys without it.
			name: "static keys with a session token",
			setup: func(t *testing.T, _ string, sts *ecrtest.STS, _ *ecrtest.SSO) AccessConfig {
				knows(sts, session)
				return AccessConfig{AccessKey: session.AccessKeyID, SecretKey: session.SecretAccessKey, Token: session.SessionToken}
			},
			ecr: session,
		},
		{
			name: "static keys with a wrong secret_key",
			setup: func(t *testing.T, _ string, _ *ecrtest.STS, _ *ecrtest.SSO) AccessConfig {
				return AccessConfig{AccessKey: staticKey, SecretKey: "not-the-secret"}
			},
			wantErr: []string{"AWS credentials from the static keys access_key and secret_key do not work (STS GetCallerIdentity)", "SignatureDoesNotMatch", "To fix: check both", "skip_credential_validation = true"},
		},
		{
			name: "static keys with a wrong token",
			setup: func(t *testing.T, _ string, sts *ecrtest.STS, _ *ecrtest.SSO) AccessConfig {
				knows(sts, session)
				return AccessConfig{AccessKey: session.AccessKeyID, SecretKey: session.SecretAccessKey, Token: "expired-token"}
			},
			wantErr: []string{"AWS credentials from the static keys access_key, secret_key and token do not work", "InvalidClientTokenId", "temporary keys expire"},
		},
		{
			name: "temporary static keys without their token",
			setup: func(t *testing.T, _ string, sts *ecrtest.STS, _ *ecrtest.SSO) AccessConfig {
				knows(sts, session)
				return AccessConfig{AccessKey: session.AccessKeyID, SecretKey: session.SecretAccessKey}
			},
			wantErr: []string{"AWS credentials from the static keys access_key and secret_key do not work", "InvalidClientTokenId", "also need token"},
		},
		{
			name: "environment",
			setup: func(t *testing.T, _ string, _ *ecrtest.STS, _ *ecrtest.SSO) AccessConfig {
				t.Setenv("AWS_ACCESS_KEY_ID", staticKey)
				t.Setenv("AWS_SECRET_ACCESS_KEY", "static-secret")
				return AccessConfig{}
			},
			ecr: static,
		},
		{
			name: "environment with a session token",
			setup: func(t *testing.T, _ string, sts *ecrtest.STS, _ *ecrtest.SSO) AccessConfig {
				knows(sts, session)
				t.Setenv("AWS_ACCESS_KEY_ID", session.AccessKeyID)
				t.Setenv("AWS_SECRET_ACCESS_KEY", session.SecretAccessKey)
				t.Setenv("AWS_SESSION_TOKEN", session.SessionToken)
				return AccessConfig{}
			},
			ecr: session,
		},
		{
			name: "shared credentials file and profile",
			setup: func(t *testing.T, home string, sts *ecrtest.STS, _ *ecrtest.SSO) AccessConfig {
				knows(sts, fromFile)
				path := writeFile(t, filepath.Join(home, "ci-credentials"),
					"[default]\naws_access_key_id = AKIAWRONGPROFILE\naws_secret_access_key = x\n\n[ci]\naws_access_key_id = "+fileKey+"\naws_secret_access_key = file-secret\n")
				return AccessConfig{SharedCredentialsFile: path, Profile: "ci"}
			},
			ecr: fromFile,
		},
		{
			name: "assume_role with static keys",
			setup: func(t *testing.T, _ string, sts *ecrtest.STS, _ *ecrtest.SSO) AccessConfig {
				sts.ExternalID = "build-42"
				return AccessConfig{
					AccessKey: staticKey, SecretKey: "static-secret", STSEndpoint: sts.URL(),
					AssumeRole: AssumeRoleConfig{RoleARN: roleARN, ExternalID: "build-42"},
				}
			},
			ecr:        assumed,
			wantAssume: &ecrtest.AssumeRoleCall{CallerAccessKeyID: staticKey, RoleARN: roleARN, SessionName: "packer-openhands-ecr", ExternalID: "build-42"},
		},
		{
			// STS too must get the session token of temporary static keys.
			name: "assume_role with static keys and a session token",
			setup: func(t *testing.T, _ string, sts *ecrtest.STS, _ *ecrtest.SSO) AccessConfig {
				knows(sts, session)
				return AccessConfig{
					AccessKey: session.AccessKeyID, SecretKey: session.SecretAccessKey, Token: session.SessionToken, STSEndpoint: sts.URL(),
					AssumeRole: AssumeRoleConfig{RoleARN: roleARN},
				}
			},
			ecr:        assumed,
			wantAssume: &ecrtest.AssumeRoleCall{CallerAccessKeyID: session.AccessKeyID, RoleARN: roleARN, SessionName: "packer-openhands-ecr"},
		},
		{
			name: "assume_role with a wrong secret_key",
			setup: func(t *testing.T, _ string, sts *ecrtest.STS, _ *ecrtest.SSO) AccessConfig {
				return AccessConfig{
					AccessKey: staticKey, SecretKey: "not-the-secret", STSEndpoint: sts.URL(),
					AssumeRole: AssumeRoleConfig{RoleARN: roleARN},
				}
			},
			wantErr:    []string{"AWS credentials: none could be resolved from assume_role " + roleARN + " with the static keys access_key and secret_key", "SignatureDoesNotMatch", "trust policy"},
			wantAssume: &ecrtest.AssumeRoleCall{CallerAccessKeyID: staticKey, RoleARN: roleARN, SessionName: "packer-openhands-ecr"},
		},
		{
			name: "assume_role refused",
			setup: func(t *testing.T, _ string, sts *ecrtest.STS, _ *ecrtest.SSO) AccessConfig {
				sts.ExternalID = "build-42"
				return AccessConfig{
					AccessKey: staticKey, SecretKey: "static-secret", STSEndpoint: sts.URL(),
					AssumeRole: AssumeRoleConfig{RoleARN: roleARN, SessionName: "nightly", ExternalID: "wrong"},
				}
			},
			wantErr:    []string{"none could be resolved from assume_role " + roleARN, "AccessDenied", "with external_id"},
			wantAssume: &ecrtest.AssumeRoleCall{CallerAccessKeyID: staticKey, RoleARN: roleARN, SessionName: "nightly", ExternalID: "wrong"},
		},
		{
			name: "profile with an sso-session",
			setup: func(t *testing.T, home string, _ *ecrtest.STS, sso *ecrtest.SSO) AccessConfig {
				return ssoProfile(t, home, sso, ssoToken)
			},
			ecr: fromSSO,
		},
		{
			name: "profile with an sso-session whose token the portal refuses",
			setup: func(t *testing.T, home string, _ *ecrtest.STS, sso *ecrtest.SSO) AccessConfig {
				return ssoProfile(t, home, sso, "stale-token")
			},
			wantErr: []string{`AWS credentials: none could be resolved from the SSO profile "platform"`, "UnauthorizedException", "run `aws sso login --profile platform`"},
		},
		{
			name: "environment with an unknown key",
			setup: func(t *testing.T, _ string, _ *ecrtest.STS, _ *ecrtest.SSO) AccessConfig {
				t.Setenv("AWS_ACCESS_KEY_ID", "AKIASOMEONEELSE")
				t.Setenv("AWS_SECRET_ACCESS_KEY", "static-secret")
				return AccessConfig{}
			},
			wantErr: []string{"AWS credentials from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) do not work", "InvalidClientTokenId", "check those variables"},
		},
		{
			name: "profile with a wrong secret",
			setup: func(t *testing.T, home string, sts *ecrtest.STS, _ *ecrtest.SSO) AccessConfig {
				knows(sts, fromFile)
				path := writeFile(t, filepath.Join(home, "ci-credentials"), "[ci]\naws_access_key_id = "+fileKey+"\naws_secret_access_key = not-the-secret\n")
				return AccessConfig{SharedCredentialsFile: path, Profile: "ci"}
			},
			wantErr: []string{`AWS credentials from the profile "ci" of the shared credentials files do not work`, "SignatureDoesNotMatch", "aws_secret_access_key"},
		},
		{
			name: "no credentials anywhere",
			setup: func(t *testing.T, _ string, _ *ecrtest.STS, _ *ecrtest.SSO) AccessConfig {
				return AccessConfig{SkipMetadataAPICheck: true}
			},
			wantErr: []string{`AWS credentials: none could be resolved from the SDK's default chain (no keys in the template, the environment or profile "default"; then the container role; skip_metadata_api_check keeps the EC2 instance role out)`, "To fix: set access_key and secret_key, or profile"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := isolateAWSEnvironment(t)
			sts := ecrtest.NewSTS(t, staticKey, roleARN, assumed)
			sts.CallerSecretAccessKey = static.SecretAccessKey
			sso := ecrtest.NewSSO(t, ssoAccount, ssoRole, ssoToken, fromSSO)
			c := tt.setup(t, home, sts, sso)
			c.Region = "us-east-1"
			c.STSEndpoint = sts.URL()
			reg := ecrtest.NewRegistry(t, "AWS", "registry-password")
			api := ecrtest.NewECR(t, reg, ecrtest.ECROptions{AccessKeyID: tt.ecr.AccessKeyID, SecretAccessKey: tt.ecr.SecretAccessKey, SessionToken: tt.ecr.SessionToken})
			c.ECREndpoint = api.URL()

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			arn, err := c.checkCredentials(ctx)
			if tt.wantAssume != nil {
				if calls := sts.Calls(); len(calls) == 0 || calls[0] != *tt.wantAssume {
					t.Errorf("AssumeRole calls %+v, want first %+v", calls, *tt.wantAssume)
				}
			} else if calls := sts.Calls(); len(calls) != 0 {
				t.Errorf("STS was called without assume_role: %+v", calls)
			}
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatal("credentials resolved, want an error")
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q lacks %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if callers := sts.IdentityCallers(); len(callers) != 1 || callers[0] != tt.ecr.AccessKeyID || !strings.HasSuffix(arn, tt.ecr.AccessKeyID) {
				t.Errorf("GetCallerIdentity callers %q (ARN %q), want one by %s", callers, arn, tt.ecr.AccessKeyID)
			}
			cfg, err := c.awsConfig(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, err := login(ctx, c.ecrClient(cfg), "")
			if err != nil {
				t.Fatalf("registry login with the resolved credentials: %v", err)
			}
			if got.host != reg.Host() || got.auth.Password != "registry-password" {
				t.Errorf("login gave host %q password %q, want the double's", got.host, got.auth.Password)
			}
			if calls := api.Calls(); !slices.Equal(calls, []string{"GetAuthorizationToken"}) {
				t.Errorf("ECR calls %v", calls)
			}
		})
	}
}

// ssoProfile writes the profile "platform" with an sso-session, and the SSO token cache
// `aws sso login --sso-session corp` would leave with token, and points the SDK at the
// portal double.
func ssoProfile(t *testing.T, home string, sso *ecrtest.SSO, token string) AccessConfig {
	writeFile(t, filepath.Join(home, ".aws", "config"), strings.Join([]string{
		"[profile platform]",
		"sso_session = corp",
		"sso_account_id = " + sso.AccountID,
		"sso_role_name = " + sso.RoleName,
		"",
		"[sso-session corp]",
		"sso_start_url = https://corp.awsapps.example/start",
		"sso_region = us-east-1",
		"",
	}, "\n"))
	// What `aws sso login --sso-session corp` leaves behind: the cache file is named
	// by the SHA-1 of the session's name.
	sum := sha1.Sum([]byte("corp"))
	writeFile(t, filepath.Join(home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json"),
		`{"accessToken": "`+token+`", "expiresAt": "`+time.Now().Add(time.Hour).UTC().Format(time.RFC3339)+`", "region": "us-east-1", "startUrl": "https://corp.awsapps.example/start"}`)
	t.Setenv("AWS_ENDPOINT_URL_SSO", sso.URL())
	return AccessConfig{Profile: "platform"}
}

// knows makes c the caller the STS double knows.
func knows(sts *ecrtest.STS, c ecrtest.Credentials) {
	sts.CallerAccessKeyID, sts.CallerSecretAccessKey, sts.CallerSessionToken = c.AccessKeyID, c.SecretAccessKey, c.SessionToken
}

// isolateAWSEnvironment points every AWS file and variable of the SDK's default chain at an
// empty home, with the metadata service off, and returns that home.
func isolateAWSEnvironment(t *testing.T) string {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, name := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_SSO", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	} {
		t.Setenv(name, "")
		os.Unsetenv(name)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, ".aws", "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, ".aws", "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return home
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCredentialSourceNames names the sources the check's errors name that need no double
// to resolve, in the SDK's order: a profile named by AWS_PROFILE wins over keys in the
// environment, as the SDK decides.
func TestCredentialSourceNames(t *testing.T) {
	const config = "[profile chain]\nrole_arn = arn:aws:iam::123456789012:role/ci\nsource_profile = keys\n\n" +
		"[profile keys]\naws_access_key_id = AKIAKEYS\naws_secret_access_key = x\n\n" +
		"[profile proc]\ncredential_process = /usr/local/bin/creds\n"
	tests := []struct {
		name      string
		env       map[string]string
		c         AccessConfig
		wantName  string
		wantInFix string
	}{
		{name: "a profile that assumes a role", c: AccessConfig{Profile: "chain"},
			wantName: `the profile "chain", which assumes arn:aws:iam::123456789012:role/ci`, wantInFix: "source credentials"},
		{name: "credential_process", c: AccessConfig{Profile: "proc"},
			wantName: `the profile "proc"'s credential_process`, wantInFix: "run the credential_process command"},
		{name: "web identity", env: map[string]string{"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/ci", "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token"},
			wantName: "web identity (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE)", wantInFix: "token file"},
		{name: "AWS_PROFILE over keys in the environment", env: map[string]string{"AWS_PROFILE": "keys", "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "x"},
			wantName: `the profile "keys" of the shared credentials files`, wantInFix: "aws_secret_access_key"},
		{name: "the default chain with the instance role", c: AccessConfig{},
			wantName: `the SDK's default chain (no keys in the template, the environment or profile "default"; then the container or EC2 instance role)`, wantInFix: "run on an instance with a role"},
		{name: "assume_role over the environment", env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "x"},
			c:        AccessConfig{AssumeRole: AssumeRoleConfig{RoleARN: "arn:aws:iam::123456789012:role/push"}},
			wantName: "assume_role arn:aws:iam::123456789012:role/push with the environment (AWS_ACCESS_KEY_ID", wantInFix: "trust policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := isolateAWSEnvironment(t)
			writeFile(t, filepath.Join(home, ".aws", "config"), config)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			tt.c.Region = "us-east-1"
			cfg, err := tt.c.awsConfig(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			src := tt.c.credentialSource(cfg)
			if !strings.HasPrefix(src.name, tt.wantName) || !strings.Contains(src.fix, tt.wantInFix) {
				t.Errorf("source %q, fix %q; want %q, a fix with %q", src.name, src.fix, tt.wantName, tt.wantInFix)
			}
		})
	}
}

// TestAccessConfigKeysFiltered: once the configuration is prepared, the secret key and the
// session token are masked in everything written through Packer's log filter, as
// packer-plugin-amazon does; the access key id, which is no secret, stays readable.
func TestAccessConfigKeysFiltered(t *testing.T) {
	c := AccessConfig{AccessKey: "AKIAFILTERDOUBLE", SecretKey: "filter-test-secret-key", Token: "filter-test-session-token"}
	c.prepare(false)
	var out strings.Builder
	packersdk.LogSecretFilter.SetOutput(&out)
	t.Cleanup(func() { packersdk.LogSecretFilter.SetOutput(os.Stderr) })
	fmt.Fprintf(&packersdk.LogSecretFilter, "key %s secret %s token %s\n", c.AccessKey, c.SecretKey, c.Token)
	if got := out.String(); strings.Contains(got, c.SecretKey) || strings.Contains(got, c.Token) || !strings.Contains(got, c.AccessKey) {
		t.Errorf("the log filter wrote %q: want the secret key and token masked, the key id kept", got)
	}
}
