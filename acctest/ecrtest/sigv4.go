package ecrtest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// authFailure is why a double refused a request's SigV4 authentication. Each double maps it
// to the error code its real service answers with.
type authFailure int

const (
	authOK authFailure = iota
	// authMissing: no (well-formed) AWS4-HMAC-SHA256 Authorization header.
	authMissing
	// authUnknownKey: the access key id is not one the double accepts.
	authUnknownKey
	// authBadToken: X-Amz-Security-Token is missing, wrong, or sent with long-term credentials.
	authBadToken
	// authBadSignature: the signature is not the one the access key's secret gives, or its
	// credential scope names another service or region.
	authBadSignature
)

// sigV4Auth is a parsed `Authorization: AWS4-HMAC-SHA256 ...` header.
type sigV4Auth struct {
	accessKeyID, date, region, service string
	signedHeaders                      []string
	signature                          string
}

func parseSigV4(header string) (sigV4Auth, bool) {
	rest, ok := strings.CutPrefix(header, "AWS4-HMAC-SHA256 ")
	if !ok {
		return sigV4Auth{}, false
	}
	var a sigV4Auth
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return sigV4Auth{}, false
		}
		switch k {
		case "Credential":
			scope := strings.Split(v, "/")
			if len(scope) != 5 || scope[4] != "aws4_request" {
				return sigV4Auth{}, false
			}
			a.accessKeyID, a.date, a.region, a.service = scope[0], scope[1], scope[2], scope[3]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	if a.accessKeyID == "" || len(a.signedHeaders) == 0 || a.signature == "" {
		return sigV4Auth{}, false
	}
	return a, true
}

// verifySigV4 authenticates r as AWS does: the access key id must be one of accepted, the
// request's X-Amz-Security-Token must be that credential's SessionToken (none for long-term
// keys), and the signature must be the one its SecretAccessKey gives for service (and for
// region, when region is set), recomputed with aws-sdk-go-v2's signer over the headers the
// request says it signed and the SHA-256 of its body. A credential with an empty
// SecretAccessKey has its key id and token checked, not its signature.
//
// r's body is read and put back, so handlers can read it afterwards. The second result says
// what was wrong, for the error message.
func verifySigV4(r *http.Request, service, region string, accepted []Credentials) (authFailure, string) {
	auth, ok := parseSigV4(r.Header.Get("Authorization"))
	if !ok {
		return authMissing, "no AWS4-HMAC-SHA256 Authorization header"
	}
	var candidates []Credentials
	for _, c := range accepted {
		if c.AccessKeyID != "" && c.AccessKeyID == auth.accessKeyID {
			candidates = append(candidates, c)
		}
	}
	if len(candidates) == 0 {
		return authUnknownKey, "unknown access key " + auth.accessKeyID
	}
	token := r.Header.Get("X-Amz-Security-Token")
	candidates = slices.DeleteFunc(candidates, func(c Credentials) bool { return c.SessionToken != token })
	if len(candidates) == 0 {
		if token == "" {
			return authBadToken, "temporary credentials " + auth.accessKeyID + " without X-Amz-Security-Token"
		}
		return authBadToken, "X-Amz-Security-Token is not the session token of " + auth.accessKeyID
	}
	if auth.service != service {
		return authBadSignature, fmt.Sprintf("credential scope names service %q, not %q", auth.service, service)
	}
	if region != "" && auth.region != region {
		return authBadSignature, fmt.Sprintf("credential scope names region %q, not %q", auth.region, region)
	}
	if slices.ContainsFunc(candidates, func(c Credentials) bool { return c.SecretAccessKey == "" }) {
		return authOK, ""
	}

	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return authBadSignature, "reading the body: " + err.Error()
	}
	signingTime, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || signingTime.Format("20060102") != auth.date {
		return authBadSignature, "X-Amz-Date is missing or outside the credential scope's date"
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	for _, c := range candidates {
		want, err := expectedSignature(r, auth, c, payloadHash, signingTime)
		if err == nil && hmac.Equal([]byte(want.signature), []byte(auth.signature)) &&
			slices.Equal(want.signedHeaders, auth.signedHeaders) {
			return authOK, ""
		}
	}
	return authBadSignature, "the signature is not the one the secret of " + auth.accessKeyID + " gives"
}

// expectedSignature signs a copy of r holding only the headers r's Authorization lists, as
// the client did, with c.
func expectedSignature(r *http.Request, auth sigV4Auth, c Credentials, payloadHash string, signingTime time.Time) (sigV4Auth, error) {
	req := &http.Request{
		Method: r.Method,
		URL:    &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery},
		Host:   r.Host,
		Header: http.Header{},
	}
	for _, h := range auth.signedHeaders {
		switch h {
		case "host":
		case "content-length":
			req.ContentLength = r.ContentLength
		default:
			if values := r.Header.Values(h); len(values) > 0 {
				req.Header[http.CanonicalHeaderKey(h)] = slices.Clone(values)
			}
		}
	}
	creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, auth.service, auth.region, signingTime); err != nil {
		return sigV4Auth{}, err
	}
	got, ok := parseSigV4(req.Header.Get("Authorization"))
	if !ok {
		return sigV4Auth{}, fmt.Errorf("the signer wrote %q", req.Header.Get("Authorization"))
	}
	return got, nil
}

// issued holds the temporary credentials the STS and SSO doubles have handed out, so that
// every double requires their session token and secret, as AWS does, even when a test
// registers only their access key id.
var issued struct {
	sync.Mutex
	creds []issuedCredentials
}

type issuedCredentials struct {
	by any // the double that issued them
	Credentials
}

// recordIssued notes that the double by handed out c.
func recordIssued(by any, c Credentials) {
	issued.Lock()
	defer issued.Unlock()
	if !slices.Contains(issued.creds, issuedCredentials{by: by, Credentials: c}) {
		issued.creds = append(issued.creds, issuedCredentials{by: by, Credentials: c})
	}
}

// forgetIssuedAtEnd drops what the double by issued when t ends.
func forgetIssuedAtEnd(t testing.TB, by any) {
	t.Cleanup(func() {
		issued.Lock()
		defer issued.Unlock()
		issued.creds = slices.DeleteFunc(issued.creds, func(i issuedCredentials) bool { return i.by == by })
	})
}

// issuedFor lists the credentials issued with access key id key.
func issuedFor(key string) []Credentials {
	issued.Lock()
	defer issued.Unlock()
	var out []Credentials
	for _, i := range issued.creds {
		if i.AccessKeyID == key {
			out = append(out, i.Credentials)
		}
	}
	return out
}

// invalidSignature is the message AWS answers a signature mismatch with.
const invalidSignature = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

// invalidToken is the message AWS answers an unknown key or a bad session token with.
const invalidToken = "The security token included in the request is invalid."

// doubleSays appends what exactly the double found wrong to AWS's message.
func doubleSays(why string) string { return " (ecrtest: " + why + ")" }
