// Package ecrtest holds test doubles for pushing images to Amazon ECR: Registry, a real
// OCI distribution registry (go-containerregistry's pkg/registry) behind HTTP basic auth,
// and ECR, a fake of the ECR control-plane API (AWS JSON 1.1) that hands out credentials
// for that registry. Both listen on 127.0.0.1 only and are closed by t.Cleanup.
//
// A typical test:
//
//	reg := ecrtest.NewRegistry(t, "AWS", "s3cret")
//	api := ecrtest.NewECR(t, reg, ecrtest.ECROptions{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"})
//	// point the code under test at api.URL() (ecr.Options.BaseEndpoint) with static
//	// credentials AKIDTEST/secret; its docker push goes to reg.Host().
//
// The ECR and STS doubles check requests as AWS does: the SigV4 signature against the
// access key's secret, and the session token of temporary credentials (those registered
// with a SessionToken and those an STS or SSO double issued).
package ecrtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Realm is the realm of the registry's basic-auth challenge.
const Realm = "ecrtest"

// Registry is an in-memory OCI registry served over plain HTTP on 127.0.0.1, with basic
// auth and fault injection. Docker treats 127.0.0.0/8 as an insecure registry, so
// `docker push <Host()>/repo:tag` works against it without daemon configuration.
type Registry struct {
	t        testing.TB
	srv      *httptest.Server
	inner    http.Handler
	user     string
	password string

	mu            sync.Mutex
	failN         int
	failStatus    int
	midBlobN      int
	midBlobStatus int
	uploadDelay   time.Duration
	onUpload      func(method string)
	injected      int
	blobUploads   int
	uploadedBytes int64
	manifestPuts  int
	requests      []RegistryRequest
	pushed        map[string][]pushedImage // repo -> manifests in push order
	policy        repoPolicy
	// blobs are the blobs each repository holds: as in ECR, a repository sees only its own.
	blobs    map[string]map[string]bool
	mounting bool
	mounts   int
	// denied are repositories whose reads are refused, with the status.
	denied map[string]int
}

// RegistryRequest is one HTTP request the registry answered.
type RegistryRequest struct {
	Method string
	Path   string // URL path, without the query
	Status int
	// Authorized is whether the request carried the right basic-auth credentials.
	Authorized bool
	// Injected is whether the answer came from FailNext rather than the registry.
	Injected bool
}

type pushedImage struct {
	digest string
	at     time.Time
}

// repoPolicy is what an attached ECR imposes on the registry: pushes and pulls only to
// repositories that exist there, and no overwriting tags of immutable repositories.
type repoPolicy interface {
	repositoryExists(name string) bool
	repositoryImmutable(name string) bool
	registryID() string
}

// NewRegistry starts a registry on 127.0.0.1 that answers every request lacking the
// basic-auth credentials user/password with 401 and `WWW-Authenticate: Basic
// realm="ecrtest"`. It is closed when the test ends.
func NewRegistry(t testing.TB, user, password string) *Registry {
	t.Helper()
	r := &Registry{
		t:        t,
		user:     user,
		password: password,
		// The referrers API (OCI 1.1), which ECR serves: SBOMs attach to images through it.
		inner:  registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(true)),
		pushed: map[string][]pushedImage{},
		blobs:  map[string]map[string]bool{},
	}
	// httptest listens on 127.0.0.1 only.
	r.srv = httptest.NewServer(http.HandlerFunc(r.serveHTTP))
	t.Cleanup(r.srv.Close)
	return r
}

// Host is the registry's host:port ("127.0.0.1:PORT"), the registry part of image names.
func (r *Registry) Host() string { return strings.TrimPrefix(r.srv.URL, "http://") }

// URL is "http://" + Host().
func (r *Registry) URL() string { return r.srv.URL }

// User is the basic-auth user name the registry accepts.
func (r *Registry) User() string { return r.user }

// Password is the basic-auth password the registry accepts.
func (r *Registry) Password() string { return r.password }

// Authenticator gives go-containerregistry the registry's credentials.
func (r *Registry) Authenticator() authn.Authenticator {
	return authn.FromConfig(authn.AuthConfig{Username: r.user, Password: r.password})
}

// FailNext makes the next n authorized blob-upload requests (POST, PATCH or PUT under
// /v2/<name>/blobs/uploads/) answer status with a plain-text body, without reaching the
// registry. A later call replaces the earlier one; n <= 0 turns injection off.
func (r *Registry) FailNext(n int, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failN, r.failStatus = n, status
}

// FailMidBlob makes the next n authorized PATCH requests under /v2/<name>/blobs/uploads/
// (a blob's data) read half their body, then answer status, as a registry failing in the
// middle of a layer. They count as injected failures. n <= 0 turns it off.
func (r *Registry) FailMidBlob(n int, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.midBlobN, r.midBlobStatus = n, status
}

// SlowUploads makes every authorized blob-upload request (POST, PATCH or PUT under
// /v2/<name>/blobs/uploads/) wait d before the registry handles it, as a congested link
// does; a client that gives up meanwhile gets no answer. d <= 0 turns it off.
func (r *Registry) SlowUploads(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.uploadDelay = d
}

// OnUpload calls f with the method of each authorized blob-upload request before the
// registry handles it (nil: none); a test kills a push from it, in the middle of its uploads.
func (r *Registry) OnUpload(f func(method string)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onUpload = f
}

// EnableBlobMounting makes the registry mount a blob another of its repositories holds into
// the repository an upload is started for (POST .../blobs/uploads/?mount=<digest>&from=<repo>
// answered 201), as ECR does once the registry's BLOB_MOUNTING setting is enabled; without it
// the mount parameters are ignored and the upload starts (202).
func (r *Registry) EnableBlobMounting() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mounting = true
}

// DenyReads answers every read (GET, HEAD) of repo's blobs and manifests with status (401 or
// 403, DENIED), and mounts nothing from it, as ECR does for credentials whose IAM policy does
// not cover that repository.
func (r *Registry) DenyReads(repo string, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.denied == nil {
		r.denied = map[string]int{}
	}
	r.denied[repo] = status
}

// deniedStatus is the status DenyReads set for repo, 0 for none.
func (r *Registry) deniedStatus(repo string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.denied[repo]
}

// Mounts is how many blobs the registry mounted from another repository.
func (r *Registry) Mounts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mounts
}

// holds reports whether repo holds the blob digest, recording it first when add is set.
func (r *Registry) holds(repo, digest string, add bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if add {
		if r.blobs[repo] == nil {
			r.blobs[repo] = map[string]bool{}
		}
		r.blobs[repo][digest] = true
	}
	return r.blobs[repo][digest]
}

// InjectedFailures is how many requests FailNext and FailMidBlob have failed so far.
func (r *Registry) InjectedFailures() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.injected
}

// BlobUploads is the number of completed blob uploads: PUTs under /blobs/uploads/ (and
// single-request POSTs with ?digest=) that the registry answered 201.
func (r *Registry) BlobUploads() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.blobUploads
}

// UploadedBytes is the number of body bytes of blob-upload requests (POST, PATCH, PUT
// under /blobs/uploads/) passed to the registry; bodies of injected failures and of
// unauthorized or rejected requests are not counted.
func (r *Registry) UploadedBytes() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.uploadedBytes
}

// ManifestPuts is the number of manifest PUTs the registry accepted (answered 201).
func (r *Registry) ManifestPuts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.manifestPuts
}

// Requests lists every request the registry answered, in order.
func (r *Registry) Requests() []RegistryRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.requests)
}

// Digest is the digest ("sha256:...") of the manifest that repo:tag names, read over
// HTTP with go-containerregistry's remote.Head and the registry's credentials.
func (r *Registry) Digest(repo, tag string) (string, error) {
	ref, err := name.NewTag(r.Host()+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		return "", err
	}
	desc, err := remote.Head(ref, remote.WithAuth(r.Authenticator()))
	if err != nil {
		return "", err
	}
	return desc.Digest.String(), nil
}

// Manifest is the raw manifest that repo:ref (a tag or a digest) names and its media
// type, read over HTTP with go-containerregistry's remote.Get.
func (r *Registry) Manifest(repo, ref string) ([]byte, string, error) {
	sep := ":"
	if strings.Contains(ref, ":") {
		sep = "@"
	}
	nref, err := name.ParseReference(r.Host()+"/"+repo+sep+ref, name.Insecure)
	if err != nil {
		return nil, "", err
	}
	desc, err := remote.Get(nref, remote.WithAuth(r.Authenticator()))
	if err != nil {
		return nil, "", err
	}
	return desc.Manifest, string(desc.MediaType), nil
}

// Tags lists repo's tags (sorted), read over HTTP with remote.List.
func (r *Registry) Tags(repo string) ([]string, error) {
	nrepo, err := name.NewRepository(r.Host()+"/"+repo, name.Insecure)
	if err != nil {
		return nil, err
	}
	tags, err := remote.List(nrepo, remote.WithAuth(r.Authenticator()))
	if err != nil {
		return nil, err
	}
	slices.Sort(tags)
	return tags, nil
}

// attach makes p the registry's repository policy; one ECR per registry.
func (r *Registry) attach(p repoPolicy) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.policy != nil {
		r.t.Fatalf("ecrtest: the registry at %s already has an ECR", r.Host())
	}
	r.policy = p
}

// parseV2 splits /v2/<name>/<kind>/<rest> where kind is blobs, manifests, tags or
// referrers.
func parseV2(p string) (repo, kind, rest string, ok bool) {
	s, found := strings.CutPrefix(p, "/v2/")
	if !found {
		return "", "", "", false
	}
	best := -1
	for _, k := range []string{"blobs", "manifests", "tags", "referrers"} {
		if i := strings.LastIndex(s, "/"+k+"/"); i > best {
			best, kind = i, k
		}
	}
	if best <= 0 {
		return "", "", "", false
	}
	return s[:best], kind, s[best+len(kind)+2:], true
}

// regError writes an OCI distribution error.
func regError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"code": code, "message": msg}},
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

type countingReader struct {
	r io.ReadCloser
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

func (r *Registry) serveHTTP(w http.ResponseWriter, req *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	rec := RegistryRequest{Method: req.Method, Path: req.URL.Path}
	defer func() {
		rec.Status = sw.status
		if rec.Status == 0 {
			rec.Status = http.StatusOK
		}
		r.mu.Lock()
		r.requests = append(r.requests, rec)
		r.mu.Unlock()
	}()
	sw.Header().Set("Docker-Distribution-API-Version", "registry/2.0")

	u, p, ok := req.BasicAuth()
	if !ok || u != r.user || p != r.password {
		_, _ = io.Copy(io.Discard, req.Body)
		sw.Header().Set("WWW-Authenticate", `Basic realm="`+Realm+`"`)
		msg := "authentication required"
		if ok {
			msg = "invalid username or password"
		}
		regError(sw, http.StatusUnauthorized, "UNAUTHORIZED", msg)
		return
	}
	rec.Authorized = true

	repo, kind, rest, isRepo := parseV2(req.URL.Path)
	upload := isRepo && kind == "blobs" && (rest == "uploads" || strings.HasPrefix(rest, "uploads/")) &&
		(req.Method == http.MethodPost || req.Method == http.MethodPatch || req.Method == http.MethodPut)

	r.mu.Lock()
	policy := r.policy
	r.mu.Unlock()
	if isRepo && policy != nil && !policy.repositoryExists(repo) {
		_, _ = io.Copy(io.Discard, req.Body)
		regError(sw, http.StatusNotFound, "NAME_UNKNOWN", fmt.Sprintf(
			"The repository with name '%s' does not exist in the registry with id '%s'", repo, policy.registryID()))
		return
	}

	if upload {
		r.mu.Lock()
		inject := r.failN > 0
		status := r.failStatus
		if inject {
			r.failN--
			r.injected++
		}
		mid := !inject && r.midBlobN > 0 && req.Method == http.MethodPatch
		if mid {
			r.midBlobN--
			r.injected++
			status = r.midBlobStatus
		}
		onUpload, delay := r.onUpload, r.uploadDelay
		r.mu.Unlock()
		if onUpload != nil {
			onUpload(req.Method)
		}
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-req.Context().Done():
				// nginx's "client closed request": the log tells such a request from an answer.
				sw.status = 499
				return
			}
		}
		if mid {
			rec.Injected = true
			half := req.ContentLength / 2
			if half <= 0 {
				half = 1 << 10 // a chunked body: a little of it
			}
			_, _ = io.CopyN(io.Discard, req.Body, half)
			sw.Header().Set("Content-Type", "text/plain; charset=utf-8")
			sw.WriteHeader(status)
			fmt.Fprintf(sw, "ecrtest: injected failure in the middle of a blob (HTTP %d)\n", status)
			return
		}
		if inject {
			rec.Injected = true
			_, _ = io.Copy(io.Discard, req.Body)
			sw.Header().Set("Content-Type", "text/plain; charset=utf-8")
			sw.WriteHeader(status)
			fmt.Fprintf(sw, "ecrtest: injected failure (HTTP %d)\n", status)
			return
		}
	}

	manifestPut := isRepo && kind == "manifests" && req.Method == http.MethodPut
	if manifestPut && policy != nil && !strings.Contains(rest, ":") && policy.repositoryImmutable(repo) {
		if _, _, _, exists := r.resolve(repo, rest); exists {
			_, _ = io.Copy(io.Discard, req.Body)
			regError(sw, http.StatusBadRequest, "TAG_INVALID", fmt.Sprintf(
				"The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the repository is immutable.", rest, repo))
			return
		}
	}

	if isRepo && kind == "referrers" && req.Method == http.MethodGet {
		r.serveReferrers(sw, req, repo)
		return
	}

	read := isRepo && (kind == "blobs" || kind == "manifests") && (req.Method == http.MethodGet || req.Method == http.MethodHead)
	if status := r.deniedStatus(repo); read && status != 0 {
		regError(sw, status, "DENIED", fmt.Sprintf("ecrtest: not authorized to read repository %s", repo))
		return
	}
	// A repository sees only its own blobs; the inner registry keeps one store for all.
	blobRead := isRepo && kind == "blobs" && !upload && (req.Method == http.MethodGet || req.Method == http.MethodHead)
	if blobRead && !r.holds(repo, rest, false) {
		regError(sw, http.StatusNotFound, "BLOB_UNKNOWN", fmt.Sprintf("blob %s is not in repository %s", rest, repo))
		return
	}
	if upload && req.Method == http.MethodPost {
		q := req.URL.Query()
		r.mu.Lock()
		mounting := r.mounting
		r.mu.Unlock()
		if mount, from := q.Get("mount"), q.Get("from"); mounting && mount != "" && from != "" && r.deniedStatus(from) == 0 && r.holds(from, mount, false) {
			r.holds(repo, mount, true)
			r.mu.Lock()
			r.mounts++
			r.mu.Unlock()
			sw.Header().Set("Location", "/v2/"+repo+"/blobs/"+mount)
			sw.Header().Set("Docker-Content-Digest", mount)
			sw.WriteHeader(http.StatusCreated)
			return
		}
	}

	var counter *countingReader
	if upload {
		counter = &countingReader{r: req.Body}
		req.Body = counter
	}
	r.inner.ServeHTTP(sw, req)

	r.mu.Lock()
	defer r.mu.Unlock()
	if counter != nil {
		r.uploadedBytes += counter.n.Load()
		if sw.status == http.StatusCreated && (req.Method == http.MethodPut || req.Method == http.MethodPost) {
			r.blobUploads++
			if r.blobs[repo] == nil {
				r.blobs[repo] = map[string]bool{}
			}
			r.blobs[repo][req.URL.Query().Get("digest")] = true
		}
	}
	if manifestPut && sw.status == http.StatusCreated {
		r.manifestPuts++
		if d := sw.Header().Get("Docker-Content-Digest"); d != "" {
			imgs := r.pushed[repo]
			if !slices.ContainsFunc(imgs, func(p pushedImage) bool { return p.digest == d }) {
				r.pushed[repo] = append(imgs, pushedImage{digest: d, at: time.Now()})
			}
		}
	}
}

// serveReferrers answers the referrers API as a registry does: each descriptor's artifactType
// is its manifest's artifactType (else its config's media type, all the inner registry
// reports), and the artifactType query filters the list.
func (r *Registry) serveReferrers(w http.ResponseWriter, req *http.Request, repo string) {
	rec := httptest.NewRecorder()
	r.inner.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	var index v1.IndexManifest
	if err := json.Unmarshal(rec.Body.Bytes(), &index); err != nil {
		regError(w, http.StatusInternalServerError, "UNKNOWN", err.Error())
		return
	}
	want := req.URL.Query().Get("artifactType")
	var kept []v1.Descriptor
	for _, d := range index.Manifests {
		if raw, _, _, ok := r.resolve(repo, d.Digest.String()); ok {
			var m struct {
				ArtifactType string `json:"artifactType"`
			}
			if json.Unmarshal(raw, &m) == nil && m.ArtifactType != "" {
				d.ArtifactType = m.ArtifactType
			}
		}
		if want == "" || d.ArtifactType == want {
			kept = append(kept, d)
		}
	}
	index.Manifests = kept
	if want != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	w.Header().Set("Content-Type", string(types.OCIImageIndex))
	_ = json.NewEncoder(w).Encode(index)
}

// Referrers lists the manifests whose subject is repo@digest, read over HTTP with
// go-containerregistry's remote.Referrers and the registry's credentials.
func (r *Registry) Referrers(repo, digest string) ([]v1.Descriptor, error) {
	ref, err := name.NewDigest(r.Host() + "/" + repo + "@" + digest)
	if err != nil {
		return nil, err
	}
	idx, err := remote.Referrers(ref, remote.WithAuth(r.Authenticator()))
	if err != nil {
		return nil, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	return m.Manifests, nil
}

// resolve reads repo's manifest for ref (a tag or digest) straight from the registry
// handler, bypassing auth, injection and counters.
func (r *Registry) resolve(repo, ref string) (manifest []byte, mediaType, digest string, ok bool) {
	req := httptest.NewRequest(http.MethodGet, "/v2/"+repo+"/manifests/"+ref, nil)
	rec := httptest.NewRecorder()
	r.inner.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, "", "", false
	}
	body := rec.Body.Bytes()
	digest = rec.Header().Get("Docker-Content-Digest")
	if digest == "" {
		sum := sha256.Sum256(body)
		digest = "sha256:" + hex.EncodeToString(sum[:])
	}
	return bytes.Clone(body), rec.Header().Get("Content-Type"), digest, true
}

// tagList lists repo's tags straight from the registry handler (nil when it has none).
func (r *Registry) tagList(repo string) []string {
	req := httptest.NewRequest(http.MethodGet, "/v2/"+repo+"/tags/list", nil)
	rec := httptest.NewRecorder()
	r.inner.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil
	}
	var out struct {
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		return nil
	}
	return out.Tags
}

// images lists the manifests pushed to repo through the server, in push order.
func (r *Registry) images(repo string) []pushedImage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.pushed[repo])
}

// pushedAt is when digest was first pushed to repo (zero when unknown).
func (r *Registry) pushedAt(repo, digest string) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.pushed[repo] {
		if p.digest == digest {
			return p.at
		}
	}
	return time.Time{}
}
