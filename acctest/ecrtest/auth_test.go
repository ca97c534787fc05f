package ecrtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// httpStatus is the HTTP status of an SDK operation's error (0 when it has none).
func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// ecrClientWith is an ECR client signing with creds (anonymous when creds is nil), in region.
func ecrClientWith(api *ECR, region string, creds aws.CredentialsProvider) *ecr.Client {
	return ecr.NewFromConfig(aws.Config{Region: region, Credentials: creds},
		func(o *ecr.Options) { o.BaseEndpoint = aws.String(api.URL()) }, fastRetry)
}

func static(c Credentials) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
}

// wantRefusal checks that err is the AWS error code with HTTP 403, or no error when code is "".
func wantRefusal(t *testing.T, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("accepted, want %s", code)
	}
	if got := apiCode(err); got != code {
		t.Errorf("error code %q, want %q (%v)", got, code, err)
	}
	if got := httpStatus(err); got != http.StatusForbidden {
		t.Errorf("HTTP status %d, want 403 (%v)", got, err)
	}
}

// TestECRChecksSignatureAndSessionToken calls the ECR double with the real ECR client and
// credentials right and wrong in each part: the double recomputes the SigV4 signature with
// the registered secret and holds temporary credentials to their session token.
func TestECRChecksSignatureAndSessionToken(t *testing.T) {
	longTerm := Credentials{AccessKeyID: "AKIALONGTERM", SecretAccessKey: "long-term-secret"}
	temporary := Credentials{AccessKeyID: "ASIATEMPORARY", SecretAccessKey: "temporary-secret", SessionToken: "session-token"}
	with := func(c Credentials, change func(*Credentials)) aws.CredentialsProvider {
		change(&c)
		return static(c)
	}
	tests := []struct {
		name       string
		registered Credentials
		region     string // the client's; the double's is us-east-1
		creds      aws.CredentialsProvider
		wantCode   string // "" when the call must succeed
	}{
		{"long-term key, right secret", longTerm, "us-east-1", static(longTerm), ""},
		{"long-term key, wrong secret", longTerm, "us-east-1", with(longTerm, func(c *Credentials) { c.SecretAccessKey = "guessed" }), "InvalidSignatureException"},
		{"another access key", longTerm, "us-east-1", with(longTerm, func(c *Credentials) { c.AccessKeyID = "AKIASOMEONEELSE" }), "UnrecognizedClientException"},
		{"long-term key with a session token", longTerm, "us-east-1", with(longTerm, func(c *Credentials) { c.SessionToken = "not-mine" }), "UnrecognizedClientException"},
		{"signed for another region", longTerm, "eu-west-1", static(longTerm), "InvalidSignatureException"},
		{"unsigned", longTerm, "us-east-1", aws.AnonymousCredentials{}, "MissingAuthenticationTokenException"},
		{"temporary, right secret and token", temporary, "us-east-1", static(temporary), ""},
		{"temporary, token missing", temporary, "us-east-1", with(temporary, func(c *Credentials) { c.SessionToken = "" }), "UnrecognizedClientException"},
		{"temporary, wrong token", temporary, "us-east-1", with(temporary, func(c *Credentials) { c.SessionToken = "session-token-2" }), "UnrecognizedClientException"},
		{"temporary, right token, wrong secret", temporary, "us-east-1", with(temporary, func(c *Credentials) { c.SecretAccessKey = "long-term-secret" }), "InvalidSignatureException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := NewRegistry(t, "AWS", "pw")
			api := NewECR(t, reg, ECROptions{AccessKeyID: tt.registered.AccessKeyID, SecretAccessKey: tt.registered.SecretAccessKey,
				SessionToken: tt.registered.SessionToken, Repositories: []string{"team/app"}})
			c := ecrClientWith(api, tt.region, tt.creds)
			ctx := context.Background()
			_, err := c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
			wantRefusal(t, err, tt.wantCode)
			// An operation with a body: the body is part of what is signed.
			_, err = c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"team/app"}})
			wantRefusal(t, err, tt.wantCode)
		})
	}
}

// TestECRRegisteredKeyIDOnly documents the double for callers that register no secret:
// the key id (and the absence of a session token) is checked, the signature is not.
func TestECRRegisteredKeyIDOnly(t *testing.T) {
	api := NewECR(t, NewRegistry(t, "AWS", "pw"), ECROptions{AccessKeyID: "AKIDKEYONLY"})
	ctx := context.Background()
	if _, err := ecrClientWith(api, "us-east-1", static(Credentials{AccessKeyID: "AKIDKEYONLY", SecretAccessKey: "any"})).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{}); err != nil {
		t.Errorf("the registered key id with any secret: %v", err)
	}
	_, err := ecrClientWith(api, "us-east-1", static(Credentials{AccessKeyID: "AKIDKEYONLY", SecretAccessKey: "any", SessionToken: "t"})).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	wantRefusal(t, err, "UnrecognizedClientException")
	_, err = ecrClientWith(api, "us-east-1", static(Credentials{AccessKeyID: "AKIDOTHER", SecretAccessKey: "any"})).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	wantRefusal(t, err, "UnrecognizedClientException")
}

// signedRequest is a GetAuthorizationToken request signed by the SDK's signer for creds.
func signedRequest(t *testing.T, url string, creds Credentials, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", targetPrefix+"GetAuthorizationToken")
	sum := sha256.Sum256(body)
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken},
		req, hex.EncodeToString(sum[:]), "ecr", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestECRSignatureCoversBodyAndHeaders sends requests signed with the right secret and
// then changed in transit: a changed body or signed header breaks the signature, as at AWS.
func TestECRSignatureCoversBodyAndHeaders(t *testing.T) {
	creds := Credentials{AccessKeyID: "AKIATAMPER", SecretAccessKey: "tamper-secret"}
	api := NewECR(t, NewRegistry(t, "AWS", "pw"), ECROptions{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey})
	tests := []struct {
		name     string
		change   func(*http.Request)
		wantCode string
	}{
		{"unchanged", func(*http.Request) {}, ""},
		{"an unsigned header added", func(r *http.Request) { r.Header.Set("User-Agent", "proxy") }, ""},
		{"body replaced", func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{"registryIds":["999999999999"]}`))
			r.ContentLength = int64(len(`{"registryIds":["999999999999"]}`))
		}, "InvalidSignatureException"},
		{"signed header changed", func(r *http.Request) { r.Header.Set("X-Amz-Target", targetPrefix+"DescribeRepositories") }, "InvalidSignatureException"},
		{"date changed", func(r *http.Request) {
			r.Header.Set("X-Amz-Date", time.Now().Add(-time.Minute).UTC().Format("20060102T150405Z"))
		}, "InvalidSignatureException"},
		{"signature of another secret", func(r *http.Request) {
			other := signedRequest(t, api.URL(), Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: "other"}, []byte(`{}`))
			r.Header.Set("Authorization", other.Header.Get("Authorization"))
			r.Header.Set("X-Amz-Date", other.Header.Get("X-Amz-Date"))
		}, "InvalidSignatureException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := signedRequest(t, api.URL(), creds, []byte(`{}`))
			tt.change(req)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out struct {
				Type string `json:"__type"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&out)
			switch {
			case tt.wantCode == "" && resp.StatusCode != http.StatusOK:
				t.Errorf("HTTP %d %s, want 200", resp.StatusCode, out.Type)
			case tt.wantCode != "" && (resp.StatusCode != http.StatusForbidden || out.Type != tt.wantCode):
				t.Errorf("HTTP %d %q, want 403 %q", resp.StatusCode, out.Type, tt.wantCode)
			}
		})
	}
}

// stsClientWith is an STS client signing with creds.
func stsClientWith(s *STS, creds aws.CredentialsProvider) *sts.Client {
	return sts.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: creds}, func(o *sts.Options) {
		o.BaseEndpoint = aws.String(s.URL())
		o.Retryer = aws.NopRetryer{}
	})
}

// TestSTSChecksSignatureAndSessionToken calls AssumeRole on the STS double with the real STS
// client, with the caller's credentials right and wrong in each part.
func TestSTSChecksSignatureAndSessionToken(t *testing.T) {
	const roleARN = "arn:aws:iam::123456789012:role/push"
	issued := Credentials{AccessKeyID: "ASIAISSUEDBYSTS", SecretAccessKey: "issued-secret", SessionToken: "issued-token"}
	longTerm := Credentials{AccessKeyID: "AKIASTSCALLER", SecretAccessKey: "caller-secret"}
	temporary := Credentials{AccessKeyID: "ASIASTSCALLER", SecretAccessKey: "caller-secret", SessionToken: "caller-token"}
	tests := []struct {
		name     string
		caller   Credentials // registered with the double
		sent     Credentials // what the client signs with
		wantCode string
	}{
		{"right secret", longTerm, longTerm, ""},
		{"wrong secret", longTerm, Credentials{longTerm.AccessKeyID, "guessed", ""}, "SignatureDoesNotMatch"},
		{"another access key", longTerm, Credentials{"AKIASOMEONEELSE", longTerm.SecretAccessKey, ""}, "InvalidClientTokenId"},
		{"long-term key with a session token", longTerm, Credentials{longTerm.AccessKeyID, longTerm.SecretAccessKey, "stray"}, "InvalidClientTokenId"},
		{"temporary, right token", temporary, temporary, ""},
		{"temporary, token missing", temporary, Credentials{temporary.AccessKeyID, temporary.SecretAccessKey, ""}, "InvalidClientTokenId"},
		{"temporary, wrong token", temporary, Credentials{temporary.AccessKeyID, temporary.SecretAccessKey, "caller-token-2"}, "InvalidClientTokenId"},
		{"temporary, wrong secret", temporary, Credentials{temporary.AccessKeyID, "guessed", temporary.SessionToken}, "SignatureDoesNotMatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSTS(t, tt.caller.AccessKeyID, roleARN, issued)
			s.CallerSecretAccessKey, s.CallerSessionToken = tt.caller.SecretAccessKey, tt.caller.SessionToken
			out, err := stsClientWith(s, static(tt.sent)).AssumeRole(context.Background(), &sts.AssumeRoleInput{
				RoleArn: aws.String(roleARN), RoleSessionName: aws.String("test"),
			})
			wantRefusal(t, err, tt.wantCode)
			if tt.wantCode == "" && aws.ToString(out.Credentials.AccessKeyId) != issued.AccessKeyID {
				t.Errorf("issued %+v", out.Credentials)
			}
			if calls := s.Calls(); len(calls) != 1 || calls[0].CallerAccessKeyID != tt.sent.AccessKeyID {
				t.Errorf("calls %+v, want one by %s", calls, tt.sent.AccessKeyID)
			}
		})
	}
}

// TestIssuedCredentialsAreTemporary takes credentials from the STS and SSO doubles and uses
// them at an ECR double that registers only their access key id: it still requires their
// secret and session token, since the doubles issued them as temporary credentials.
func TestIssuedCredentialsAreTemporary(t *testing.T) {
	ctx := context.Background()
	caller := Credentials{AccessKeyID: "AKIACALLER", SecretAccessKey: "caller-secret"}
	fromSTS := Credentials{AccessKeyID: "ASIAFROMSTS", SecretAccessKey: "sts-secret", SessionToken: "sts-token"}
	fromSSO := Credentials{AccessKeyID: "ASIAFROMSSO", SecretAccessKey: "sso-secret", SessionToken: "sso-token"}

	s := NewSTS(t, caller.AccessKeyID, "arn:aws:iam::123456789012:role/push", fromSTS)
	s.CallerSecretAccessKey = caller.SecretAccessKey
	if _, err := stsClientWith(s, static(caller)).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::123456789012:role/push"), RoleSessionName: aws.String("test"),
	}); err != nil {
		t.Fatal(err)
	}

	// GetRoleCredentials is anonymous (no SigV4): the portal takes the bearer token.
	sso := NewSSO(t, "123456789012", "Push", "bearer", fromSSO)
	req, _ := http.NewRequest(http.MethodGet, sso.URL()+"/federation/credentials?account_id=123456789012&role_name=Push", nil)
	req.Header.Set("X-Amz-Sso_bearer_token", "bearer")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		RoleCredentials struct{ AccessKeyID, SecretAccessKey, SessionToken string }
	}
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || got.RoleCredentials.SessionToken != fromSSO.SessionToken {
		t.Fatalf("GetRoleCredentials: HTTP %d %+v %v", resp.StatusCode, got, err)
	}

	for _, issued := range []Credentials{fromSTS, fromSSO} {
		t.Run(issued.AccessKeyID, func(t *testing.T) {
			api := NewECR(t, NewRegistry(t, "AWS", "pw"), ECROptions{AccessKeyID: issued.AccessKeyID})
			call := func(c Credentials) error {
				_, err := ecrClientWith(api, "us-east-1", static(c)).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
				return err
			}
			wantRefusal(t, call(issued), "")
			wantRefusal(t, call(Credentials{issued.AccessKeyID, issued.SecretAccessKey, ""}), "UnrecognizedClientException")
			wantRefusal(t, call(Credentials{issued.AccessKeyID, issued.SecretAccessKey, "forged"}), "UnrecognizedClientException")
			wantRefusal(t, call(Credentials{issued.AccessKeyID, "guessed", issued.SessionToken}), "InvalidSignatureException")
		})
	}

	// Role chaining: the STS double holds a caller that is issued credentials to the same.
	chained := NewSTS(t, fromSSO.AccessKeyID, "arn:aws:iam::123456789012:role/next", Credentials{"ASIACHAINED", "x", "y"})
	for _, tt := range []struct {
		sent     Credentials
		wantCode string
	}{
		{fromSSO, ""},
		{Credentials{fromSSO.AccessKeyID, fromSSO.SecretAccessKey, ""}, "InvalidClientTokenId"},
		{Credentials{fromSSO.AccessKeyID, "guessed", fromSSO.SessionToken}, "SignatureDoesNotMatch"},
	} {
		_, err := stsClientWith(chained, static(tt.sent)).AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::123456789012:role/next"), RoleSessionName: aws.String("chain"),
		})
		wantRefusal(t, err, tt.wantCode)
	}
}

// TestSTSGetCallerIdentity calls GetCallerIdentity on the STS double with the real STS
// client: the registered caller and credentials a double issued are answered with the
// account, anyone else is refused as STS refuses them, and the calls are told apart from
// AssumeRole's.
func TestSTSGetCallerIdentity(t *testing.T) {
	ctx := context.Background()
	const roleARN = "arn:aws:iam::123456789012:role/push"
	caller := Credentials{AccessKeyID: "AKIACALLER", SecretAccessKey: "caller-secret"}
	assumed := Credentials{AccessKeyID: "ASIAASSUMED", SecretAccessKey: "assumed-secret", SessionToken: "assumed-token"}
	s := NewSTS(t, caller.AccessKeyID, roleARN, assumed)
	s.CallerSecretAccessKey = caller.SecretAccessKey
	s.Account = "210987654321"
	if _, err := stsClientWith(s, static(caller)).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("test"),
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		sent     Credentials
		wantCode string
	}{
		{"registered caller", caller, ""},
		{"credentials the double issued", assumed, ""},
		{"wrong secret", Credentials{caller.AccessKeyID, "guessed", ""}, "SignatureDoesNotMatch"},
		{"unknown access key", Credentials{"AKIASOMEONEELSE", caller.SecretAccessKey, ""}, "InvalidClientTokenId"},
		{"issued credentials without their token", Credentials{assumed.AccessKeyID, assumed.SecretAccessKey, ""}, "InvalidClientTokenId"},
		{"issued credentials with a wrong secret", Credentials{assumed.AccessKeyID, "guessed", assumed.SessionToken}, "SignatureDoesNotMatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.IdentityCallers())
			out, err := stsClientWith(s, static(tt.sent)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			wantRefusal(t, err, tt.wantCode)
			if tt.wantCode == "" && (aws.ToString(out.Account) != "210987654321" || !strings.HasSuffix(aws.ToString(out.Arn), tt.sent.AccessKeyID)) {
				t.Errorf("answered account %q arn %q", aws.ToString(out.Account), aws.ToString(out.Arn))
			}
			if got := s.IdentityCallers(); len(got) != before+1 || got[before] != tt.sent.AccessKeyID {
				t.Errorf("GetCallerIdentity callers %q, want %s last", got, tt.sent.AccessKeyID)
			}
		})
	}
	if calls := s.Calls(); len(calls) != 1 {
		t.Errorf("AssumeRole calls %+v, want the one AssumeRole only", calls)
	}
	// Issued credentials identify themselves but are not the caller AssumeRole takes.
	_, err := stsClientWith(s, static(assumed)).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("again"),
	})
	wantRefusal(t, err, "InvalidClientTokenId")
}
