package ecrtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// ECROptions configure the ECR double.
type ECROptions struct {
	// AccessKeyID is the only access key accepted (from the SigV4 Authorization header).
	AccessKeyID string
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

	mu        sync.Mutex
	repos     map[string]CreatedRepository
	calls     []string
	created   []CreatedRepository
	throttleN int
}

const targetPrefix = "AmazonEC2ContainerRegistry_V20150921."

var credentialKey = regexp.MustCompile(`Credential=([^/]+)/`)

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
	e.mu.Lock()
	defer e.mu.Unlock()
	e.throttleN = n
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
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", kind)
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"__type": kind, "message": message})
}

func (e *ECR) serveHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	e.mu.Lock()
	e.calls = append(e.calls, op)
	throttle := e.throttleN > 0
	if throttle {
		e.throttleN--
	}
	e.mu.Unlock()
	if throttle {
		apiError(w, "ThrottlingException", "Rate exceeded")
		return
	}
	m := credentialKey.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil || m[1] != e.opts.AccessKeyID {
		apiError(w, "UnrecognizedClientException", "The security token included in the request is invalid.")
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
