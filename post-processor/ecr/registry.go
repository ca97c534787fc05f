package ecrpostprocessor

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecr "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/docker/docker/api/types/registry"
)

// ecrAPI is the part of the ECR API the post-processor uses.
type ecrAPI interface {
	GetAuthorizationToken(context.Context, *awsecr.GetAuthorizationTokenInput, ...func(*awsecr.Options)) (*awsecr.GetAuthorizationTokenOutput, error)
	DescribeRepositories(context.Context, *awsecr.DescribeRepositoriesInput, ...func(*awsecr.Options)) (*awsecr.DescribeRepositoriesOutput, error)
	CreateRepository(context.Context, *awsecr.CreateRepositoryInput, ...func(*awsecr.Options)) (*awsecr.CreateRepositoryOutput, error)
	DescribeImages(context.Context, *awsecr.DescribeImagesInput, ...func(*awsecr.Options)) (*awsecr.DescribeImagesOutput, error)
}

// registryLogin is what GetAuthorizationToken gives: the registry host and credentials.
type registryLogin struct {
	host string
	auth registry.AuthConfig
}

func login(ctx context.Context, api ecrAPI, registryID string) (registryLogin, error) {
	in := &awsecr.GetAuthorizationTokenInput{}
	if registryID != "" {
		in.RegistryIds = []string{registryID} //nolint:staticcheck // still the way to name another account's registry
	}
	out, err := api.GetAuthorizationToken(ctx, in)
	if err != nil {
		return registryLogin{}, fmt.Errorf("getting an ECR authorization token: %w", err)
	}
	if len(out.AuthorizationData) == 0 || out.AuthorizationData[0].AuthorizationToken == nil || out.AuthorizationData[0].ProxyEndpoint == nil {
		return registryLogin{}, errors.New("getting an ECR authorization token: the answer holds no token")
	}
	data := out.AuthorizationData[0]
	decoded, err := base64.StdEncoding.DecodeString(*data.AuthorizationToken)
	if err != nil {
		return registryLogin{}, errors.New("getting an ECR authorization token: the token is not base64")
	}
	user, password, ok := strings.Cut(string(decoded), ":")
	if !ok {
		return registryLogin{}, errors.New("getting an ECR authorization token: the token is not user:password")
	}
	endpoint, err := url.Parse(*data.ProxyEndpoint)
	if err != nil || endpoint.Host == "" {
		return registryLogin{}, fmt.Errorf("getting an ECR authorization token: proxy endpoint %q is not a URL", *data.ProxyEndpoint)
	}
	return registryLogin{
		host: endpoint.Host,
		auth: registry.AuthConfig{Username: user, Password: password, ServerAddress: endpoint.Host},
	}, nil
}

// ensureRepository finds the repository, creating it when allowed.
func ensureRepository(ctx context.Context, api ecrAPI, c *Config) (created bool, err error) {
	_, err = api.DescribeRepositories(ctx, &awsecr.DescribeRepositoriesInput{
		RegistryId:      optional(c.RegistryID),
		RepositoryNames: []string{c.Repository},
	})
	var missing *types.RepositoryNotFoundException
	switch {
	case err == nil:
		return false, nil
	case !errors.As(err, &missing):
		return false, fmt.Errorf("looking up repository %s: %w", c.Repository, err)
	case !*c.CreateRepository:
		return false, fmt.Errorf("repository %s does not exist in the registry and create_repository is false: create it, or set create_repository = true", c.Repository)
	}
	in := &awsecr.CreateRepositoryInput{
		RepositoryName:             aws.String(c.Repository),
		RegistryId:                 optional(c.RegistryID),
		ImageTagMutability:         types.ImageTagMutability(c.ImageTagMutability),
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: c.ScanOnPush},
		EncryptionConfiguration:    &types.EncryptionConfiguration{EncryptionType: types.EncryptionType(c.EncryptionType), KmsKey: optional(c.KMSKey)},
	}
	for _, k := range slices.Sorted(maps.Keys(c.RepositoryTags)) {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(c.RepositoryTags[k])})
	}
	if _, err := api.CreateRepository(ctx, in); err != nil {
		return false, fmt.Errorf("creating repository %s: %w", c.Repository, err)
	}
	return true, nil
}

// remoteDigest is the digest a tag points at in the repository, or "" when it has none.
func remoteDigest(ctx context.Context, api ecrAPI, c *Config, tag string) (string, error) {
	out, err := api.DescribeImages(ctx, &awsecr.DescribeImagesInput{
		RepositoryName: aws.String(c.Repository),
		RegistryId:     optional(c.RegistryID),
		ImageIds:       []types.ImageIdentifier{{ImageTag: aws.String(tag)}},
	})
	var missing *types.ImageNotFoundException
	if errors.As(err, &missing) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("looking up %s:%s: %w", c.Repository, tag, err)
	}
	if len(out.ImageDetails) == 0 || out.ImageDetails[0].ImageDigest == nil {
		return "", nil
	}
	return *out.ImageDetails[0].ImageDigest, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
