package ecrtest

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// ECROptions configure the ECR double.
type ECROptions struct {
	// AccessKeyID is the only access key accepted (from the SigV4 Authorization header).
	AccessKeyID string
	// SecretAccessKey is AccessKeyID's secret: every request's SigV4 signature is recomputed
	// with it and a mismatch is refused with InvalidSignatureException (HTTP 403). When it
	// is empty and AccessKeyID is not temporary credentials an STS or SSO double issued,
	// the signature is not checked (for callers that register the key id only).
	SecretAccessKey string
	// SessionToken makes AccessKeyID temporary credentials: requests must carry it in
	// X-Amz-Security-Token. Without it, a request carrying a token is refused, as AWS
	// refuses a session token sent with long-term keys. Either way a missing or wrong token
	// is UnrecognizedClientException (HTTP 403).
	SessionToken string
	// RegistryID is the account id. Defaults to 123456789012.
	RegistryID string
	// Region defaults to us-east-1.
	Region string
	// Repositories exist from the start.
	Repositories []string
}

// CreatedRepository is what a CreateRepository call asked for.
type CreatedRepository struct {
	Name               string
	ImageTagMutability string
	ScanOnPush         bool
	EncryptionType     string
	KMSKey             string
	Tags               map[string]string
}

// ECR is a double of the ECR API (AWS JSON 1.1) on 127.0.0.1, for aws-sdk-go-v2's ecr client
// with BaseEndpoint = URL(): authorization tokens for the attached Registry, repositories,
// and image lookups answered from the registry's content.
type ECR struct {
	t    testing.TB
	srv  *httptest.Server
	reg  *Registry
	opts ECROptions

	mu      sync.Mutex
	repos   map[string]CreatedRepository
	calls   []string
	created []CreatedRepository
	faults  []*faultRule
}

// Fault is a scripted failure of an ECR API call: an HTTP status with an AWS error type, or a
// delay before the real answer.
type Fault struct {
	Status        int
	Type, Message string
	Delay         time.Duration
}

// The faults AWS APIs answer with, which the SDK's standard retryer retries.
var (
	FaultInternal    = Fault{Status: http.StatusInternalServerError, Type: "ServerException"}
	FaultUnavailable = Fault{Status: http.StatusServiceUnavailable, Type: "ServiceUnavailableException"}
	FaultThrottling  = Fault{Status: http.StatusBadRequest, Type: "ThrottlingException", Message: "Rate exceeded"}
)

// FaultSlow answers after d.
func FaultSlow(d time.Duration) Fault { return Fault{Delay: d} }

// faultRule applies a fault to an operation's calls: the next n, or each with probability p
// drawn from a seeded source (the same calls fail on every run).
type faultRule struct {
	op    string
	fault Fault
	n     int
	p     float64
	rand  *rand.Rand
}

// FailNext answers the next n calls of op ("" for every operation) with f.
func (e *ECR) FailNext(op string, f Fault, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &faultRule{op: op, fault: f, n: n})
}

// FailRate answers each call of op ("" for every operation) with f with probability p, drawn
// from a source seeded with seed.
func (e *ECR) FailRate(op string, f Fault, p float64, seed int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &faultRule{op: op, fault: f, p: p, rand: rand.New(rand.NewSource(seed))})
}

// fault picks the fault of a call to op, if any; the caller holds e.mu.
func (e *ECR) fault(op string) (Fault, bool) {
	for _, r := range e.faults {
		if r.op != "" && r.op != op {
			continue
		}
		if r.n > 0 {
			r.n--
			return r.fault, true
		}
		if r.rand != nil && r.rand.Float64() < r.p {
			return r.fault, true
		}
	}
	return Fault{}, false
}

const targetPrefix = "AmazonEC2ContainerRegistry_V20150921."

// NewECR starts the double and attaches it to reg, whose repositories it then governs.
func NewECR(t testing.TB, reg *Registry, opts ECROptions) *ECR {
	t.Helper()
	if opts.RegistryID == "" {
		opts.RegistryID = "123456789012"
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	e := &ECR{t: t, reg: reg, opts: opts, repos: map[string]CreatedRepository{}}
	for _, name := range opts.Repositories {
		e.repos[name] = CreatedRepository{Name: name, ImageTagMutability: "MUTABLE", EncryptionType: "AES256"}
	}
	// httptest listens on 127.0.0.1 only.
	e.srv = httptest.NewServer(http.HandlerFunc(e.serveHTTP))
	t.Cleanup(e.srv.Close)
	reg.attach(e)
	return e
}

// URL is the API endpoint.
func (e *ECR) URL() string { return e.srv.URL }

// Calls lists the operations called, in order.
func (e *ECR) Calls() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.calls...)
}

// Created lists the CreateRepository calls that made a repository.
func (e *ECR) Created() []CreatedRepository {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]CreatedRepository(nil), e.created...)
}

// ThrottleNext answers the next n requests with ThrottlingException.
func (e *ECR) ThrottleNext(n int) {
	e.FailNext("", FaultThrottling, n)
}

func (e *ECR) repositoryExists(name string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.repos[name]
	return ok
}

func (e *ECR) repositoryImmutable(name string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.repos[name].ImageTagMutability == "IMMUTABLE"
}

func (e *ECR) registryID() string { return e.opts.RegistryID }

func apiError(w http.ResponseWriter, kind, message string) {
	apiErrorStatus(w, http.StatusBadRequest, kind, message)
}

func apiErrorStatus(w http.ResponseWriter, status int, kind, message string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", kind)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": kind, "message": message})
}

// accepted are the credentials the double takes: the registered key and any temporary
// credentials an STS or SSO double issued with that key id.
func (e *ECR) accepted() []Credentials {
	if e.opts.AccessKeyID == "" {
		return nil
	}
	issued := issuedFor(e.opts.AccessKeyID)
	registered := Credentials{e.opts.AccessKeyID, e.opts.SecretAccessKey, e.opts.SessionToken}
	if registered.SecretAccessKey == "" && len(issued) > 0 {
		// Issued temporary credentials are checked in full even when only their id is registered.
		return issued
	}
	return append(issued, registered)
}

func (e *ECR) serveHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	e.mu.Lock()
	e.calls = append(e.calls, op)
	fault, faulty := e.fault(op)
	e.mu.Unlock()
	if faulty && fault.Delay > 0 {
		select {
		case <-time.After(fault.Delay):
		case <-r.Context().Done(): // the client gave up
			return
		}
	} else if faulty {
		apiErrorStatus(w, fault.Status, fault.Type, cmp.Or(fault.Message, "injected by the test double"))
		return
	}
	switch failure, why := verifySigV4(r, "ecr", e.opts.Region, e.accepted()); failure {
	case authOK:
	case authMissing:
		apiErrorStatus(w, http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token"+doubleSays(why))
		return
	case authUnknownKey, authBadToken:
		apiErrorStatus(w, http.StatusForbidden, "UnrecognizedClientException", invalidToken+doubleSays(why))
		return
	default:
		apiErrorStatus(w, http.StatusForbidden, "InvalidSignatureException", invalidSignature+doubleSays(why))
		return
	}
	var in struct {
		RegistryID      string   `json:"registryId"`
		RepositoryName  string   `json:"repositoryName"`
		RepositoryNames []string `json:"repositoryNames"`
		ImageIDs        []struct {
			ImageTag    string `json:"imageTag"`
			ImageDigest string `json:"imageDigest"`
		} `json:"imageIds"`
		ImageTagMutability         string `json:"imageTagMutability"`
		ImageScanningConfiguration struct {
			ScanOnPush bool `json:"scanOnPush"`
		} `json:"imageScanningConfiguration"`
		EncryptionConfiguration struct {
			EncryptionType string `json:"encryptionType"`
			KMSKey         string `json:"kmsKey"`
		} `json:"encryptionConfiguration"`
		Tags []struct{ Key, Value string } `json:"tags"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		apiError(w, "InvalidParameterException", "malformed request: "+err.Error())
		return
	}
	respond := func(v any) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		json.NewEncoder(w).Encode(v)
	}
	repository := func(name string) map[string]any {
		return map[string]any{
			"repositoryName": name,
			"registryId":     e.opts.RegistryID,
			"repositoryUri":  e.reg.Host() + "/" + name,
			"repositoryArn":  fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", e.opts.Region, e.opts.RegistryID, name),
		}
	}
	notFound := func(name string) {
		apiError(w, "RepositoryNotFoundException", fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", name, e.opts.RegistryID))
	}
	switch op {
	case "GetAuthorizationToken":
		token := base64.StdEncoding.EncodeToString([]byte(e.reg.User() + ":" + e.reg.Password()))
		respond(map[string]any{"authorizationData": []map[string]any{{
			"authorizationToken": token,
			"expiresAt":          float64(time.Now().Add(12 * time.Hour).Unix()),
			"proxyEndpoint":      e.reg.URL(),
		}}})
	case "DescribeRepositories":
		var out []map[string]any
		for _, name := range in.RepositoryNames {
			if !e.repositoryExists(name) {
				notFound(name)
				return
			}
			out = append(out, repository(name))
		}
		respond(map[string]any{"repositories": out})
	case "CreateRepository":
		if e.repositoryExists(in.RepositoryName) {
			apiError(w, "RepositoryAlreadyExistsException", fmt.Sprintf("The repository with name '%s' already exists in the registry with id '%s'", in.RepositoryName, e.opts.RegistryID))
			return
		}
		c := CreatedRepository{
			Name:               in.RepositoryName,
			ImageTagMutability: in.ImageTagMutability,
			ScanOnPush:         in.ImageScanningConfiguration.ScanOnPush,
			EncryptionType:     in.EncryptionConfiguration.EncryptionType,
			KMSKey:             in.EncryptionConfiguration.KMSKey,
			Tags:               map[string]string{},
		}
		for _, tag := range in.Tags {
			c.Tags[tag.Key] = tag.Value
		}
		e.mu.Lock()
		e.repos[c.Name] = c
		e.created = append(e.created, c)
		e.mu.Unlock()
		respond(map[string]any{"repository": repository(c.Name)})
	case "DescribeImages":
		if !e.repositoryExists(in.RepositoryName) {
			notFound(in.RepositoryName)
			return
		}
		var details []map[string]any
		for _, id := range in.ImageIDs {
			digest, err := e.reg.Digest(in.RepositoryName, id.ImageTag)
			if err != nil {
				apiError(w, "ImageNotFoundException", fmt.Sprintf("The image with imageId {imageTag:'%s'} does not exist within the repository with name '%s'", id.ImageTag, in.RepositoryName))
				return
			}
			details = append(details, map[string]any{
				"registryId": e.opts.RegistryID, "repositoryName": in.RepositoryName,
				"imageDigest": digest, "imageTags": []string{id.ImageTag},
			})
		}
		respond(map[string]any{"imageDetails": details})
	default:
		apiError(w, "InvalidAction", "the ECR double does not implement "+op)
	}
}
