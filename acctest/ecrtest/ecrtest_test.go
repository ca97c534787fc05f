package ecrtest

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	dockerimage "github.com/docker/docker/api/types/image"
	dockerregistry "github.com/docker/docker/api/types/registry"
	dockerclient "github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// fastRetry keeps the SDK's standard retryer (3 attempts, throttling retried) but caps
// its backoff, so throttling tests take milliseconds.
func fastRetry(o *ecr.Options) {
	o.Retryer = retry.AddWithMaxBackoffDelay(retry.NewStandard(), 5*time.Millisecond)
}

var fastBackoff = remote.Backoff{Duration: time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 3}

func push(t *testing.T, reg *Registry, repoTag string, img v1.Image, auth authn.Authenticator) error {
	t.Helper()
	ref, err := name.ParseReference(reg.Host()+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return remote.Write(ref, img, remote.WithAuth(auth), remote.WithRetryBackoff(fastBackoff))
}

func apiCode(err error) string {
	// smithy.APIError, without importing smithy-go directly.
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestECROperationsCommitted(t *testing.T) {
	ctx := context.Background()
	reg := NewRegistry(t, "AWS", "registry-pw")
	api := NewECR(t, reg, ECROptions{AccessKeyID: "AKIDGOOD", SecretAccessKey: "s3cret", Repositories: []string{"pre/existing"}})
	c := ecrClientWith(api, "us-east-1", static(Credentials{AccessKeyID: "AKIDGOOD", SecretAccessKey: "s3cret"}))

	tok, err := c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	data := tok.AuthorizationData[0]
	decoded, _ := base64.StdEncoding.DecodeString(aws.ToString(data.AuthorizationToken))
	if string(decoded) != "AWS:registry-pw" {
		t.Errorf("token decodes to %q", decoded)
	}
	if got := aws.ToString(data.ProxyEndpoint); got != "http://"+reg.Host() {
		t.Errorf("proxy endpoint %q", got)
	}
	if data.ExpiresAt == nil || time.Until(*data.ExpiresAt) < time.Hour {
		t.Errorf("expiresAt %v", data.ExpiresAt)
	}

	repos, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"pre/existing"}})
	if err != nil {
		t.Fatal(err)
	}
	r := repos.Repositories[0]
	if aws.ToString(r.RepositoryUri) != reg.Host()+"/pre/existing" || aws.ToString(r.RegistryId) != "123456789012" ||
		aws.ToString(r.RepositoryArn) != "arn:aws:ecr:us-east-1:123456789012:repository/pre/existing" {
		t.Errorf("pre-existing repository %+v", r)
	}
	_, err = c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"team/app"}})
	var notFound *types.RepositoryNotFoundException
	if !errors.As(err, &notFound) || !strings.Contains(notFound.ErrorMessage(), "'team/app'") || !strings.Contains(notFound.ErrorMessage(), "123456789012") {
		t.Fatalf("missing repository: %v", err)
	}

	out, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{
		RepositoryName:             aws.String("team/app"),
		ImageTagMutability:         types.ImageTagMutabilityImmutable,
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true},
		EncryptionConfiguration:    &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeKms, KmsKey: aws.String("alias/k")},
		Tags:                       []types.Tag{{Key: aws.String("team"), Value: aws.String("agents")}, {Key: aws.String("env"), Value: aws.String("ci")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Repository.RepositoryUri) != reg.Host()+"/team/app" || aws.ToString(out.Repository.RegistryId) != "123456789012" {
		t.Errorf("created repository %+v", out.Repository)
	}
	want := CreatedRepository{Name: "team/app", ImageTagMutability: "IMMUTABLE", ScanOnPush: true,
		EncryptionType: "KMS", KMSKey: "alias/k", Tags: map[string]string{"team": "agents", "env": "ci"}}
	if created := api.Created(); len(created) != 1 || fmt.Sprint(created[0]) != fmt.Sprint(want) {
		t.Errorf("created %+v, want %+v", created, want)
	}
	_, err = c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("team/app")})
	var exists *types.RepositoryAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Errorf("existing repository: %v", err)
	}

	_, err = c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("team/app"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	var noImage *types.ImageNotFoundException
	if !errors.As(err, &noImage) {
		t.Errorf("image not pushed yet: %v", err)
	}
	img, err := random.Image(2048, 2)
	if err != nil {
		t.Fatal(err)
	}
	auth := authn.FromConfig(authn.AuthConfig{Username: "AWS", Password: "registry-pw"})
	if err := push(t, reg, "team/app:v1", img, auth); err != nil {
		t.Fatal(err)
	}
	digest, _ := img.Digest()
	imgs, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("team/app"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	if err != nil {
		t.Fatal(err)
	}
	if d := imgs.ImageDetails[0]; aws.ToString(d.ImageDigest) != digest.String() || !slices.Equal(d.ImageTags, []string{"v1"}) {
		t.Errorf("DescribeImages = %+v", d)
	}
	_, err = c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("nope"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	if !errors.As(err, &notFound) {
		t.Errorf("images of a missing repository: %v", err)
	}

	// The registry follows the ECR: no pushes to unknown repositories, no overwriting
	// tags of IMMUTABLE ones (even with the same image, as ECR), mutable ones are fine.
	err = push(t, reg, "unknown/repo:v1", img, auth)
	var terr *transport.Error
	if !errors.As(err, &terr) || terr.StatusCode != http.StatusNotFound || !strings.Contains(err.Error(), "NAME_UNKNOWN") {
		t.Errorf("push to an unknown repository: %v", err)
	}
	other, _ := random.Image(256, 1)
	if err := push(t, reg, "team/app:v1", other, auth); err == nil || !strings.Contains(err.Error(), "TAG_INVALID") {
		t.Errorf("overwriting an immutable tag: %v", err)
	}
	if err := push(t, reg, "team/app:v2", other, auth); err != nil {
		t.Errorf("a new tag in an immutable repository: %v", err)
	}
	if err := push(t, reg, "pre/existing:v1", img, auth); err != nil {
		t.Fatal(err)
	}
	if err := push(t, reg, "pre/existing:v1", other, auth); err != nil {
		t.Errorf("overwriting a mutable tag: %v", err)
	}

	wantCalls := []string{"GetAuthorizationToken", "DescribeRepositories", "DescribeRepositories", "CreateRepository", "CreateRepository",
		"DescribeImages", "DescribeImages", "DescribeImages"}
	if calls := api.Calls(); !slices.Equal(calls, wantCalls) {
		t.Errorf("calls %q\nwant  %q", calls, wantCalls)
	}

	// A wrong access key is refused; throttling is retried by the SDK, and every
	// attempt is a call.
	if _, err := ecrClientWith(api, "us-east-1", static(Credentials{AccessKeyID: "AKIDBAD", SecretAccessKey: "x"})).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{}); apiCode(err) != "UnrecognizedClientException" ||
		!strings.Contains(err.Error(), "The security token included in the request is invalid.") {
		t.Errorf("wrong access key: %v", err)
	}
	n := len(api.Calls())
	api.ThrottleNext(2)
	if _, err := c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{}); err != nil {
		t.Fatalf("throttled twice then answered: %v", err)
	}
	if calls := api.Calls()[n:]; len(calls) != 3 {
		t.Errorf("calls after throttling %q", calls)
	}
	api.ThrottleNext(3) // the standard retryer makes 3 attempts
	if _, err := c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{}); apiCode(err) != "ThrottlingException" {
		t.Errorf("throttled past the retries: %v", err)
	}
}

func TestRegistryPushRetriesAndAuth(t *testing.T) {
	reg := NewRegistry(t, "AWS", "pw")
	auth := authn.FromConfig(authn.AuthConfig{Username: "AWS", Password: "pw"})

	// Anonymous requests get the basic challenge.
	resp, err := http.Get(reg.URL() + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Basic realm="ecrtest"` {
		t.Errorf("anonymous: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	img, err := random.Image(4096, 3)
	if err != nil {
		t.Fatal(err)
	}
	// A wrong password is refused with 401.
	err = push(t, reg, "team/app:v1", img, authn.FromConfig(authn.AuthConfig{Username: "AWS", Password: "wrong"}))
	var terr *transport.Error
	if !errors.As(err, &terr) || terr.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %v", err)
	}
	if reg.ManifestPuts() != 0 || reg.UploadedBytes() != 0 {
		t.Errorf("something was stored with a wrong password")
	}

	// Two injected 500s on blob uploads are retried by the client.
	reg.FailNext(2, http.StatusInternalServerError)
	if err := push(t, reg, "team/app:v1", img, auth); err != nil {
		t.Fatalf("push through two 500s: %v", err)
	}
	if n := reg.InjectedFailures(); n != 2 {
		t.Errorf("injected %d failures", n)
	}
	injected := 0
	for _, r := range reg.Requests() {
		if r.Injected {
			injected++
			if r.Status != 500 || !strings.Contains(r.Path, "/blobs/uploads/") {
				t.Errorf("injected request %+v", r)
			}
		}
	}
	if injected != 2 {
		t.Errorf("%d injected requests in the log", injected)
	}
	layers, _ := img.Layers()
	var blobBytes int64
	for _, l := range layers {
		s, _ := l.Size()
		blobBytes += s
	}
	cfg, _ := img.RawConfigFile()
	blobBytes += int64(len(cfg))
	if reg.BlobUploads() != len(layers)+1 || reg.UploadedBytes() < blobBytes || reg.ManifestPuts() != 1 {
		t.Errorf("blobs %d (want %d), bytes %d (want >= %d), manifests %d", reg.BlobUploads(), len(layers)+1, reg.UploadedBytes(), blobBytes, reg.ManifestPuts())
	}
	digest, _ := img.Digest()
	if got, err := reg.Digest("team/app", "v1"); err != nil || got != digest.String() {
		t.Errorf("Digest = %s, %v; want %s", got, err, digest)
	}
	m, mt, err := reg.Manifest("team/app", digest.String())
	raw, _ := img.RawManifest()
	if err != nil || !bytes.Equal(m, raw) || mt == "" {
		t.Errorf("Manifest: %v %q", err, mt)
	}
	if err := push(t, reg, "team/app:latest", img, auth); err != nil {
		t.Fatal(err)
	}
	if tags, err := reg.Tags("team/app"); err != nil || !slices.Equal(tags, []string{"latest", "v1"}) {
		t.Errorf("tags %q, %v", tags, err)
	}
	if _, err := reg.Digest("team/app", "missing"); err == nil {
		t.Error("a missing tag has a digest")
	}

	// More failures than the client's attempts: the push fails, and the failures show.
	img2, _ := random.Image(1024, 1)
	reg.FailNext(10, http.StatusServiceUnavailable)
	if err := push(t, reg, "team/app:v2", img2, auth); err == nil {
		t.Error("a push through 10 failures succeeded")
	}
	if n := reg.InjectedFailures(); n <= 2 {
		t.Errorf("injected %d failures in all", n)
	}
	reg.FailNext(0, 0)
	if err := push(t, reg, "team/app:v2", img2, auth); err != nil {
		t.Errorf("push after FailNext(0, 0): %v", err)
	}

	// A 502 in the middle of a blob's data is retried by the client; OnUpload sees every
	// upload request, the failed one included.
	img3, _ := random.Image(64<<10, 1)
	var mu sync.Mutex
	var methods []string
	reg.OnUpload(func(m string) { mu.Lock(); methods = append(methods, m); mu.Unlock() })
	before := reg.InjectedFailures()
	reg.FailMidBlob(1, http.StatusBadGateway)
	if err := push(t, reg, "team/app:v3", img3, auth); err != nil {
		t.Fatalf("push through a failure mid-blob: %v", err)
	}
	reg.OnUpload(nil)
	mu.Lock()
	defer mu.Unlock()
	if n := reg.InjectedFailures() - before; n != 1 {
		t.Errorf("FailMidBlob injected %d failures, want 1", n)
	}
	var midBlob []RegistryRequest
	for _, r := range reg.Requests() {
		if r.Injected && r.Method == http.MethodPatch {
			midBlob = append(midBlob, r)
		}
	}
	if len(midBlob) != 1 || midBlob[0].Status != http.StatusBadGateway {
		t.Errorf("injected PATCH requests %+v, want one 502", midBlob)
	}
	if n := slices.Index(methods, http.MethodPatch); n < 1 || methods[n-1] != http.MethodPost || slices.Index(methods, http.MethodPut) < n {
		t.Errorf("OnUpload saw %q, want POST, PATCH, ... PUT", methods)
	}
}

// TestRegistrySlowUploads: with SlowUploads, a client that gives up waiting leaves no blob
// and no tag; without, the same push completes.
func TestRegistrySlowUploads(t *testing.T) {
	reg := NewRegistry(t, "AWS", "pw")
	auth := reg.Authenticator()
	img, _ := random.Image(1024, 1)
	reg.SlowUploads(time.Minute)
	ref, err := name.ParseReference(reg.Host()+"/team/app:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := remote.Write(ref, img, remote.WithAuth(auth), remote.WithContext(ctx)); err == nil {
		t.Fatal("a push that gave up after 300 ms succeeded")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the push gave up after %s: the registry held it", took)
	}
	// The handler notices the closed request a moment after the client has gone.
	deadline := time.Now().Add(5 * time.Second)
	for !slices.ContainsFunc(reg.Requests(), func(r RegistryRequest) bool { return r.Status == 499 }) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !slices.ContainsFunc(reg.Requests(), func(r RegistryRequest) bool { return r.Status == 499 }) {
		t.Errorf("no upload request logged as given up (499): %+v", reg.Requests())
	}
	if reg.BlobUploads() != 0 || reg.ManifestPuts() != 0 {
		t.Errorf("the abandoned push left %d blobs and %d manifests", reg.BlobUploads(), reg.ManifestPuts())
	}
	reg.SlowUploads(0)
	if err := push(t, reg, "team/app:v1", img, auth); err != nil {
		t.Fatalf("push after SlowUploads(0): %v", err)
	}
}

// TestDockerPush pushes with the Docker engine (when there is one) the way the
// post-processor does: ECR token, then ImagePush with RegistryAuth.
func TestDockerPush(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	docker, err := dockerclient.NewClientWithOpts(dockerclient.FromEnv, dockerclient.WithAPIVersionNegotiation())
	if err != nil {
		t.Skipf("no Docker client: %v", err)
	}
	defer docker.Close()
	if _, err := docker.Ping(ctx); err != nil {
		t.Skipf("no Docker engine: %v", err)
	}

	reg := NewRegistry(t, "AWS", "docker-pw")
	api := NewECR(t, reg, ECROptions{AccessKeyID: "AKIDGOOD", SecretAccessKey: "s3cret", Repositories: []string{"team/app"}})
	tok, err := ecrClientWith(api, "us-east-1", static(Credentials{AccessKeyID: "AKIDGOOD", SecretAccessKey: "s3cret"})).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	decoded, _ := base64.StdEncoding.DecodeString(*tok.AuthorizationData[0].AuthorizationToken)
	user, pw, _ := strings.Cut(string(decoded), ":")
	host := strings.TrimPrefix(*tok.AuthorizationData[0].ProxyEndpoint, "http://")

	// A one-file image, imported (no network needed).
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	content := fmt.Sprintf("ecrtest %d %d\n", os.Getpid(), time.Now().UnixNano())
	_ = tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: int64(len(content))})
	_, _ = tw.Write([]byte(content))
	_ = tw.Close()
	ref := host + "/team/app:v1"
	rc, err := docker.ImageImport(ctx, dockerimage.ImportSource{Source: &layer, SourceName: "-"}, ref, dockerimage.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, rc)
	rc.Close()
	t.Cleanup(func() {
		for _, r := range []string{ref, host + "/unknown:v1"} {
			_, _ = docker.ImageRemove(context.Background(), r, dockerimage.RemoveOptions{Force: true})
		}
	})

	dockerPush := func(ref, password string) error {
		auth, err := dockerregistry.EncodeAuthConfig(dockerregistry.AuthConfig{Username: user, Password: password, ServerAddress: host})
		if err != nil {
			return err
		}
		rc, err := docker.ImagePush(ctx, ref, dockerimage.PushOptions{RegistryAuth: auth})
		if err != nil {
			return err
		}
		defer rc.Close()
		return jsonmessage.DisplayJSONMessagesStream(rc, io.Discard, 0, false, nil)
	}

	if err := dockerPush(ref, "wrong"); err == nil || reg.ManifestPuts() != 0 {
		t.Errorf("docker push with a wrong password: %v", err)
	}
	if err := dockerPush(ref, pw); err != nil {
		t.Fatalf("docker push: %v", err)
	}
	if reg.ManifestPuts() != 1 || reg.BlobUploads() < 2 {
		t.Errorf("manifests %d, blobs %d", reg.ManifestPuts(), reg.BlobUploads())
	}
	digest, err := reg.Digest("team/app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	inspect, err := docker.ImageInspect(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(inspect.RepoDigests, host+"/team/app@"+digest) {
		t.Errorf("repo digests %q lack %s", inspect.RepoDigests, digest)
	}

	// A repository the ECR does not have.
	if err := docker.ImageTag(ctx, ref, host+"/unknown:v1"); err != nil {
		t.Fatal(err)
	}
	if err := dockerPush(host+"/unknown:v1", pw); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("docker push to an unknown repository: %v", err)
	}
}
