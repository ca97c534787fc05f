package ecrtest

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Credentials are temporary credentials an identity double hands out.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

// AssumeRoleCall is what one AssumeRole request asked for, and with which access key.
type AssumeRoleCall struct {
	CallerAccessKeyID, RoleARN, SessionName, ExternalID string
}

// STS is a double of the STS query API's AssumeRole and GetCallerIdentity on 127.0.0.1, for
// aws-sdk-go-v2's sts client with BaseEndpoint = URL(). It grants Issued to a caller signing
// with CallerAccessKeyID for RoleARN, with ExternalID when one is set, and refuses anything
// else as STS does. GetCallerIdentity answers the same caller, and the temporary credentials
// an STS or SSO double issued (AWS knows those too), with Account; anyone else is refused.
//
// The caller's SigV4 signature is recomputed with CallerSecretAccessKey and a mismatch is
// refused with SignatureDoesNotMatch (HTTP 403); CallerSessionToken, or the session token of
// temporary credentials an STS or SSO double issued with CallerAccessKeyID, must be in
// X-Amz-Security-Token, else InvalidClientTokenId (HTTP 403). With no secret registered and
// no such issued credentials, only the access key id is checked. Issued credentials are
// temporary: the ECR and STS doubles require their secret and session token.
type STS struct {
	CallerAccessKeyID, RoleARN, ExternalID string
	// CallerSecretAccessKey and CallerSessionToken complete the caller's credentials.
	CallerSecretAccessKey, CallerSessionToken string
	Issued                                    Credentials
	// Account is the account id GetCallerIdentity answers. Defaults to 123456789012.
	Account string

	srv             *httptest.Server
	mu              sync.Mutex
	calls           []AssumeRoleCall
	identityCallers []string
}

// NewSTS starts the double; its fields may be set before the first request.
func NewSTS(t testing.TB, callerAccessKeyID, roleARN string, issued Credentials) *STS {
	t.Helper()
	s := &STS{CallerAccessKeyID: callerAccessKeyID, RoleARN: roleARN, Issued: issued, Account: "123456789012"}
	forgetIssuedAtEnd(t, s)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.srv.Close)
	return s
}

// accepted are the caller credentials the double takes.
func (s *STS) accepted() []Credentials {
	issued := issuedFor(s.CallerAccessKeyID)
	registered := Credentials{s.CallerAccessKeyID, s.CallerSecretAccessKey, s.CallerSessionToken}
	if registered.SecretAccessKey == "" && len(issued) > 0 {
		return issued
	}
	return append(issued, registered)
}

// URL is the API endpoint.
func (s *STS) URL() string { return s.srv.URL }

// Calls lists the AssumeRole requests in order.
func (s *STS) Calls() []AssumeRoleCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AssumeRoleCall(nil), s.calls...)
}

// IdentityCallers lists the access key ids of the GetCallerIdentity requests in order,
// refused ones included.
func (s *STS) IdentityCallers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.identityCallers...)
}

func (s *STS) serveHTTP(w http.ResponseWriter, r *http.Request) {
	auth, _ := parseSigV4(r.Header.Get("Authorization"))
	caller := auth.accessKeyID
	accepted := s.accepted()
	// Who may call depends on the action, which is in the form body that authentication reads.
	if peekAction(r) == "GetCallerIdentity" {
		accepted = append(accepted, issuedFor(caller)...)
	}
	// Authentication first: it reads the body and puts it back for ParseForm.
	failure, why := verifySigV4(r, "sts", "", accepted)
	if err := r.ParseForm(); err != nil {
		stsError(w, http.StatusBadRequest, "MalformedInput", err.Error())
		return
	}
	action := r.PostForm.Get("Action")
	call := AssumeRoleCall{
		CallerAccessKeyID: caller,
		RoleARN:           r.PostForm.Get("RoleArn"),
		SessionName:       r.PostForm.Get("RoleSessionName"),
		ExternalID:        r.PostForm.Get("ExternalId"),
	}
	s.mu.Lock()
	switch action {
	case "AssumeRole":
		s.calls = append(s.calls, call)
	case "GetCallerIdentity":
		s.identityCallers = append(s.identityCallers, caller)
	}
	s.mu.Unlock()
	switch {
	case failure == authMissing:
		stsError(w, http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token"+doubleSays(why))
	case failure == authUnknownKey || failure == authBadToken:
		stsError(w, http.StatusForbidden, "InvalidClientTokenId", invalidToken+doubleSays(why))
	case failure == authBadSignature:
		stsError(w, http.StatusForbidden, "SignatureDoesNotMatch", invalidSignature+doubleSays(why))
	case action == "GetCallerIdentity":
		s.callerIdentity(w, caller)
	case action != "AssumeRole":
		stsError(w, http.StatusBadRequest, "InvalidAction", "the double answers AssumeRole and GetCallerIdentity only, not "+action)
	case call.RoleARN != s.RoleARN || call.ExternalID != s.ExternalID:
		stsError(w, http.StatusForbidden, "AccessDenied", fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller, call.RoleARN))
	case call.SessionName == "":
		stsError(w, http.StatusBadRequest, "ValidationError", "RoleSessionName is required")
	default:
		type credentials struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string
			SessionToken    string
			Expiration      string
		}
		var out struct {
			XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleResponse"`
			Result  struct {
				Credentials     credentials
				AssumedRoleUser struct{ Arn, AssumedRoleId string }
			} `xml:"AssumeRoleResult"`
			RequestID string `xml:"ResponseMetadata>RequestId"`
		}
		recordIssued(s, s.Issued)
		out.Result.Credentials = credentials{s.Issued.AccessKeyID, s.Issued.SecretAccessKey, s.Issued.SessionToken,
			time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}
		out.Result.AssumedRoleUser.Arn = call.RoleARN + "/" + call.SessionName
		out.Result.AssumedRoleUser.AssumedRoleId = "AROADOUBLE:" + call.SessionName
		out.RequestID = "sts-double"
		w.Header().Set("Content-Type", "text/xml")
		xml.NewEncoder(w).Encode(out)
	}
}

// callerIdentity answers GetCallerIdentity for an authenticated caller.
func (s *STS) callerIdentity(w http.ResponseWriter, caller string) {
	var out struct {
		XMLName   xml.Name                              `xml:"https://sts.amazonaws.com/doc/2011-06-15/ GetCallerIdentityResponse"`
		Result    struct{ Arn, UserId, Account string } `xml:"GetCallerIdentityResult"`
		RequestID string                                `xml:"ResponseMetadata>RequestId"`
	}
	out.Result.Arn = "arn:aws:iam::" + s.Account + ":user/" + caller
	out.Result.UserId, out.Result.Account, out.RequestID = caller, s.Account, "sts-double"
	w.Header().Set("Content-Type", "text/xml")
	xml.NewEncoder(w).Encode(out)
}

// peekAction is the Action of a form-encoded body, leaving the body for the next reader.
func peekAction(r *http.Request) string {
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return form.Get("Action")
}

func stsError(w http.ResponseWriter, status int, code, message string) {
	var out struct {
		XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
		Error   struct{ Type, Code, Message string }
	}
	out.Error.Type, out.Error.Code, out.Error.Message = "Sender", code, message
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	xml.NewEncoder(w).Encode(out)
}

// SSO is a double of the IAM Identity Center portal's GetRoleCredentials on 127.0.0.1 (the
// SDK reaches it through AWS_ENDPOINT_URL_SSO): it grants Issued for AccountID and RoleName
// to a request carrying AccessToken, the token a `aws sso login` leaves in the SSO cache.
// GetRoleCredentials is not SigV4-signed (the SDK calls it anonymously, with the bearer
// token); the credentials it issues are temporary, and the ECR and STS doubles require
// their secret and session token.
type SSO struct {
	AccountID, RoleName, AccessToken string
	Issued                           Credentials

	srv *httptest.Server
}

// NewSSO starts the double.
func NewSSO(t testing.TB, accountID, roleName, accessToken string, issued Credentials) *SSO {
	t.Helper()
	s := &SSO{AccountID: accountID, RoleName: roleName, AccessToken: accessToken, Issued: issued}
	forgetIssuedAtEnd(t, s)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the portal endpoint.
func (s *SSO) URL() string { return s.srv.URL }

func (s *SSO) serveHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, kind, message string) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", kind)
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"message": message})
	}
	switch {
	case r.URL.Path != "/federation/credentials":
		fail(http.StatusNotFound, "ResourceNotFoundException", "the double answers GetRoleCredentials only")
	case r.Header.Get("X-Amz-Sso_bearer_token") != s.AccessToken:
		fail(http.StatusUnauthorized, "UnauthorizedException", "Session token not found or invalid")
	case r.URL.Query().Get("account_id") != s.AccountID || r.URL.Query().Get("role_name") != s.RoleName:
		fail(http.StatusForbidden, "ForbiddenException", "No access")
	default:
		recordIssued(s, s.Issued)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"roleCredentials": map[string]any{
			"accessKeyId":     s.Issued.AccessKeyID,
			"secretAccessKey": s.Issued.SecretAccessKey,
			"sessionToken":    s.Issued.SessionToken,
			"expiration":      json.Number(strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)),
		}})
	}
}
