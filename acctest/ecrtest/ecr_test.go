package ecrtest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestECRWithTheSDK drives the double with the real ECR client and the registry with a real
// push: the operations, their errors, and the registry's auth.
func TestECRWithTheSDK(t *testing.T) {
	ctx := context.Background()
	reg := NewRegistry(t, "AWS", "pw")
	api := NewECR(t, reg, ECROptions{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"})
	c := ecrClientWith(api, "us-east-1", static(Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"}))

	tok, err := c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := *tok.AuthorizationData[0].ProxyEndpoint; got != reg.URL() {
		t.Errorf("proxy endpoint %s, want %s", got, reg.URL())
	}

	_, err = c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"team/app"}})
	var missing *types.RepositoryNotFoundException
	if !errors.As(err, &missing) || !strings.Contains(err.Error(), "team/app") {
		t.Fatalf("a missing repository: %v", err)
	}

	// The registry refuses pushes to repositories the ECR does not have.
	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(reg.Host()+"/team/app:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithAuth(reg.Authenticator())); err == nil {
		t.Fatal("a push to a repository that does not exist was accepted")
	}

	if _, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{
		RepositoryName:             aws.String("team/app"),
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true},
		Tags:                       []types.Tag{{Key: aws.String("team"), Value: aws.String("agents")}},
	}); err != nil {
		t.Fatal(err)
	}
	if created := api.Created(); len(created) != 1 || !created[0].ScanOnPush || created[0].Tags["team"] != "agents" {
		t.Errorf("created %+v", created)
	}
	if err := remote.Write(ref, img, remote.WithAuth(reg.Authenticator())); err != nil {
		t.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("team/app"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := *out.ImageDetails[0].ImageDigest; got != digest.String() {
		t.Errorf("DescribeImages digest %s, want %s", got, digest)
	}
	_, err = c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("team/app"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("nope")}}})
	var noImage *types.ImageNotFoundException
	if !errors.As(err, &noImage) {
		t.Errorf("a missing tag: %v", err)
	}

	// Throttling is retried by the SDK; a wrong key is refused.
	api.ThrottleNext(2)
	if _, err := c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{}); err != nil {
		t.Errorf("throttled twice, then: %v", err)
	}
	if _, err := ecrClientWith(api, "us-east-1", static(Credentials{AccessKeyID: "AKIDWRONG", SecretAccessKey: "secret"})).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{}); err == nil || !strings.Contains(err.Error(), "UnrecognizedClientException") {
		t.Errorf("a wrong access key: %v", err)
	}
}

func TestRegistryAuthAndFaults(t *testing.T) {
	reg := NewRegistry(t, "AWS", "pw")
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(reg.Host()+"/app:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err == nil {
		t.Fatal("an anonymous push was accepted")
	}
	reg.FailNext(1, 500)
	if err := remote.Write(ref, img, remote.WithAuth(reg.Authenticator())); err != nil {
		t.Fatalf("a push through one injected 500: %v", err)
	}
	if reg.InjectedFailures() != 1 || reg.ManifestPuts() != 1 || reg.UploadedBytes() == 0 {
		t.Errorf("failures %d, manifests %d, bytes %d", reg.InjectedFailures(), reg.ManifestPuts(), reg.UploadedBytes())
	}
	tags, err := reg.Tags("app")
	if err != nil || len(tags) != 1 || tags[0] != "v1" {
		t.Errorf("tags %q, %v", tags, err)
	}
}
