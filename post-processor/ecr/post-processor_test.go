package ecrpostprocessor

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecr "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/ecrtest"
	"github.com/openhands-runtime/packer-plugin-openhands/acctest/enginefake"
	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
	"github.com/openhands-runtime/packer-plugin-openhands/acctest/spectest"
	"github.com/openhands-runtime/packer-plugin-openhands/internal/artifact"
	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
	"github.com/openhands-runtime/packer-plugin-openhands/sbom"
)

// fakeDriver is an engine with one image, which every local/ reference names too.
type fakeDriver struct {
	*enginefake.Engine
	id string
}

func newFakeDriver(id string) *fakeDriver {
	e := enginefake.New()
	e.Add(engine.Image{ID: id, Created: enginefake.Created, Platform: enginefake.Platform})
	return &fakeDriver{Engine: e, id: id}
}

func (d *fakeDriver) Image(ctx context.Context, ref string) (engine.Image, error) {
	if strings.HasPrefix(ref, "local/") {
		ref = d.id
	}
	return d.Engine.Image(ctx, ref)
}

// fakeECR is an ECR API with a set of repositories and tag digests.
type fakeECR struct {
	repos   map[string]bool
	digests map[string]string // tag -> digest
	created []*awsecr.CreateRepositoryInput
}

func (f *fakeECR) GetAuthorizationToken(context.Context, *awsecr.GetAuthorizationTokenInput, ...func(*awsecr.Options)) (*awsecr.GetAuthorizationTokenOutput, error) {
	token := base64.StdEncoding.EncodeToString([]byte("AWS:s3cr3t-token"))
	return &awsecr.GetAuthorizationTokenOutput{AuthorizationData: []types.AuthorizationData{{
		AuthorizationToken: aws.String(token),
		ProxyEndpoint:      aws.String("https://123456789012.dkr.ecr.us-east-1.amazonaws.com"),
	}}}, nil
}

func (f *fakeECR) DescribeRepositories(_ context.Context, in *awsecr.DescribeRepositoriesInput, _ ...func(*awsecr.Options)) (*awsecr.DescribeRepositoriesOutput, error) {
	if !f.repos[in.RepositoryNames[0]] {
		return nil, &types.RepositoryNotFoundException{Message: aws.String("not found")}
	}
	return &awsecr.DescribeRepositoriesOutput{}, nil
}

func (f *fakeECR) CreateRepository(_ context.Context, in *awsecr.CreateRepositoryInput, _ ...func(*awsecr.Options)) (*awsecr.CreateRepositoryOutput, error) {
	f.created = append(f.created, in)
	return &awsecr.CreateRepositoryOutput{}, nil
}

func (f *fakeECR) DescribeImages(_ context.Context, in *awsecr.DescribeImagesInput, _ ...func(*awsecr.Options)) (*awsecr.DescribeImagesOutput, error) {
	d, ok := f.digests[*in.ImageIds[0].ImageTag]
	if !ok {
		return nil, &types.ImageNotFoundException{Message: aws.String("no image")}
	}
	return &awsecr.DescribeImagesOutput{ImageDetails: []types.ImageDetail{{ImageDigest: aws.String(d)}}}, nil
}

// imageArtifact is an image artifact of the given builder id.
type imageArtifact struct {
	builderID, id string
	tags          []string
	platforms     []string // platform_images
	sboms         []string // the builder's per-platform SBOM files
	record        string   // the builder's record of its options
}

func (a *imageArtifact) BuilderId() string { return a.builderID }
func (a *imageArtifact) Files() []string   { return nil }
func (a *imageArtifact) Id() string        { return a.id }
func (a *imageArtifact) String() string    { return a.id }
func (a *imageArtifact) Destroy() error    { return nil }
func (a *imageArtifact) State(name string) interface{} {
	switch name {
	case artifact.StateDockerTags:
		return a.tags
	case artifact.StatePlatformImages:
		return a.platforms
	case sbom.StatePlatformPaths:
		return a.sboms
	case plan.StateRecord:
		return a.record
	}
	return nil
}

const imageID = "sha256:1111111111111111111111111111111111111111111111111111111111111111"

func newPostProcessor(t *testing.T, raw map[string]interface{}, driver engine.Driver, api *fakeECR) *PostProcessor {
	t.Helper()
	base := map[string]interface{}{
		"repository":                 "agents/openhands-runtime",
		"region":                     "us-east-1",
		"access_key":                 "AKIDEXAMPLE",
		"secret_key":                 "secret",
		"skip_metadata_api_check":    true,
		"skip_credential_validation": true,
		"push_method":                "engine",
	}
	for k, v := range raw {
		base[k] = v
	}
	p := &PostProcessor{driver: driver, api: api}
	if err := p.Configure(base); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return p
}

func TestPostProcessPushesEveryTagAndContentTags(t *testing.T) {
	driver := newFakeDriver(imageID)
	api := &fakeECR{repos: map[string]bool{}}
	p := newPostProcessor(t, map[string]interface{}{"tags": []string{"latest", "v1"}, "scan_on_push": true, "repository_tags": map[string]string{"team": "agents"}}, driver, api)
	ui := packersdk.TestUi(t)
	source := &imageArtifact{builderID: "packer.post-processor.docker-import", id: imageID, tags: []string{"openhands-runtime:oh_v0.1.0_abc", "openhands-runtime:oh_v0.1.0_abc_def", "openhands-runtime:latest"}}
	art, keep, _, err := p.PostProcess(context.Background(), ui, source)
	if err != nil {
		t.Fatal(err)
	}
	if !keep {
		t.Error("the input image should be kept")
	}
	host := "123456789012.dkr.ecr.us-east-1.amazonaws.com/agents/openhands-runtime"
	want := []string{host + ":latest", host + ":v1", host + ":oh_v0.1.0_abc", host + ":oh_v0.1.0_abc_def"}
	if !reflect.DeepEqual(driver.Pushed, want) {
		t.Errorf("pushed %q, want %q", driver.Pushed, want)
	}
	// As root, as OpenHands starts the runtime; the script drops to openhands for its checks.
	if len(driver.Scripts) != 1 || !strings.HasPrefix(driver.Scripts[0], imageID+" root: ") || !strings.Contains(driver.Scripts[0], `OH_USER='openhands'`) ||
		!strings.Contains(driver.Scripts[0], "oh_verify") {
		t.Errorf("verification should run once as root, checking for openhands, before the push")
	}
	if got := art.Id(); got != host+"@sha256:"+strings.Repeat("d", 64) {
		t.Errorf("artifact id %q", got)
	}
	if got := art.State("docker_tags").([]string); !reflect.DeepEqual(got, want) {
		t.Errorf("docker_tags %q, want %q", got, want)
	}
	if len(api.created) != 1 || !api.created[0].ImageScanningConfiguration.ScanOnPush || *api.created[0].Tags[0].Key != "team" {
		t.Errorf("the missing repository should be created with scan on push and its tags: %+v", api.created)
	}
	if driver.Auths[0].Username != "AWS" || driver.Auths[0].Password != "s3cr3t-token" {
		t.Errorf("push credentials %+v, want those of the authorization token", driver.Auths[0])
	}
}

func TestPostProcessRefusals(t *testing.T) {
	cases := []struct {
		name    string
		raw     map[string]interface{}
		driver  *fakeDriver
		api     *fakeECR
		source  packersdk.Artifact
		wantErr string
	}{
		{
			name:    "an AMI",
			source:  &imageArtifact{builderID: "mitchellh.amazonebs", id: "us-east-1:ami-123"},
			wantErr: `not an artifact of "mitchellh.amazonebs"`,
		},
		{
			name:    "an exported tarball",
			source:  &imageArtifact{builderID: "packer.docker", id: "image.tar"},
			wantErr: `not an artifact of "packer.docker"`,
		},
		{
			name:    "failed verification pushes nothing",
			driver:  func() *fakeDriver { d := newFakeDriver(imageID); d.Exit = 1; return d }(),
			wantErr: "failed verification",
		},
		{
			name:    "missing repository without create_repository",
			raw:     map[string]interface{}{"create_repository": false},
			wantErr: "repository agents/openhands-runtime does not exist in the registry and create_repository is false",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.driver == nil {
				c.driver = newFakeDriver(imageID)
			}
			if c.api == nil {
				c.api = &fakeECR{repos: map[string]bool{}}
			}
			if c.source == nil {
				c.source = &imageArtifact{builderID: "packer.post-processor.docker-import", id: imageID}
			}
			p := newPostProcessor(t, c.raw, c.driver, c.api)
			_, _, _, err := p.PostProcess(context.Background(), packersdk.TestUi(t), c.source)
			fixture.WantError(t, err, c.wantErr)
			if len(c.driver.Pushed) != 0 || len(c.api.created) != 0 {
				t.Errorf("something was pushed or created: %q %d", c.driver.Pushed, len(c.api.created))
			}
		})
	}
}

func TestPostProcessSkipsTagAlreadyAtDigest(t *testing.T) {
	host := "123456789012.dkr.ecr.us-east-1.amazonaws.com/agents/openhands-runtime"
	digest := "sha256:" + strings.Repeat("e", 64)
	driver := newFakeDriver(imageID)
	driver.Add(engine.Image{ID: imageID, RepoDigests: []string{host + "@" + digest}})
	api := &fakeECR{repos: map[string]bool{"agents/openhands-runtime": true}, digests: map[string]string{"latest": digest}}
	p := newPostProcessor(t, map[string]interface{}{"tags": []string{"latest", "new"}}, driver, api)
	art, _, _, err := p.PostProcess(context.Background(), packersdk.TestUi(t), &imageArtifact{builderID: "packer.post-processor.docker-tag", id: "local/runtime:latest"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(driver.Pushed, []string{host + ":new"}) {
		t.Errorf("pushed %q: the tag at the same digest should not be pushed again", driver.Pushed)
	}
	if art.State("docker_tags") == nil {
		t.Error("no docker_tags state")
	}
}

func TestPostProcessRetriesAFailedPush(t *testing.T) {
	driver := newFakeDriver(imageID)
	driver.PushErrs = []error{errors.New("received unexpected HTTP status: 500 Internal Server Error")}
	p := newPostProcessor(t, map[string]interface{}{"skip_verify": true}, driver, &fakeECR{repos: map[string]bool{"agents/openhands-runtime": true}})
	if _, _, _, err := p.PostProcess(context.Background(), packersdk.TestUi(t), &imageArtifact{builderID: "packer.post-processor.docker-import", id: imageID}); err != nil {
		t.Fatal(err)
	}
	if len(driver.Auths) != 2 || len(driver.Pushed) != 1 {
		t.Errorf("want one failed and one successful push, got %d attempts, %d pushes", len(driver.Auths), len(driver.Pushed))
	}
}

func TestConfigureReportsEveryBadValue(t *testing.T) {
	p := &PostProcessor{}
	err := p.Configure(map[string]interface{}{
		"repository":           "Agents/Runtime",
		"registry_id":          "12345",
		"tags":                 []string{"ok", "not ok"},
		"image_tag_mutability": "SOMETIMES",
		"encryption_type":      "ROT13",
		"access_key":           "AKID",
		"prefix":               "relative/path",
		"verify":               map[string]interface{}{"imports": []string{"not a module"}},
	})
	var multi *packersdk.MultiError
	if !errors.As(err, &multi) {
		t.Fatalf("want a MultiError, got %v", err)
	}
	all := err.Error()
	for _, want := range []string{"repository:", "registry_id:", "tags[1]:", "image_tag_mutability:", "encryption_type:", "access_key and secret_key", "prefix:", "verify.imports[0]:"} {
		if !strings.Contains(all, want) {
			t.Errorf("no error names %q in:\n%s", want, all)
		}
	}
	if err := (&PostProcessor{}).Configure(map[string]interface{}{}); err == nil || !strings.Contains(err.Error(), "repository: required") {
		t.Errorf("a missing repository: %v", err)
	}
}

func TestFlatConfigMatchesConfig(t *testing.T) {
	spectest.CheckFlat(t, reflect.TypeOf(Config{}), reflect.TypeOf(FlatConfig{}), (*FlatConfig)(nil).HCL2Spec())
}

// TestConfigureChecksCredentialsAtBuildStart: Configure under `packer build` asks STS who the
// credentials are and fails on bad ones; under `packer validate`, with
// skip_credential_validation or with skip_push it makes no call, and the build's second
// Configure (before PostProcess) does not ask again. Where the command is unknown, PostProcess
// checks before it verifies anything.
func TestConfigureChecksCredentialsAtBuildStart(t *testing.T) {
	const key, secret = "AKIACHECKED", "checked-secret"
	badKeys := []string{"AWS credentials from the static keys access_key and secret_key do not work (STS GetCallerIdentity)", "SignatureDoesNotMatch", "skip_credential_validation"}
	tests := []struct {
		name, command string
		raw           map[string]interface{}
		wantCalls     int
		wantErr       []string
		// wantPostProcessErr: Configure passes and PostProcess fails with this, verifying nothing.
		wantPostProcessErr []string
	}{
		{name: "packer build", command: "build", wantCalls: 1},
		{name: "packer build with bad keys", command: "build", raw: map[string]interface{}{"secret_key": "wrong"}, wantCalls: 1, wantErr: badKeys},
		{name: "packer validate with bad keys", command: "validate", raw: map[string]interface{}{"secret_key": "wrong"}},
		{name: "skip_credential_validation", command: "build", raw: map[string]interface{}{"secret_key": "wrong", "skip_credential_validation": true}},
		{name: "skip_push", command: "build", raw: map[string]interface{}{"secret_key": "wrong", "skip_push": true}},
		{name: "unknown command with bad keys", raw: map[string]interface{}{"secret_key": "wrong"}, wantCalls: 1, wantPostProcessErr: badKeys},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWSEnvironment(t)
			sts := ecrtest.NewSTS(t, key, "", ecrtest.Credentials{})
			sts.CallerSecretAccessKey = secret
			raw := map[string]interface{}{"repository": "agents/openhands-runtime", "region": "us-east-1",
				"access_key": key, "secret_key": secret, "sts_endpoint": sts.URL()}
			maps.Copy(raw, tt.raw)
			driver := newFakeDriver(imageID)
			p := &PostProcessor{driver: driver, api: &fakeECR{}, packerCommand: func() string { return tt.command }}
			err := p.Configure(raw)
			wantError(t, "Configure", err, tt.wantErr)
			if err == nil {
				if err := p.Configure(raw); err != nil {
					t.Fatalf("the second Configure: %v", err)
				}
			}
			if tt.wantPostProcessErr != nil {
				_, _, _, err := p.PostProcess(context.Background(), &packersdk.MockUi{}, &imageArtifact{builderID: "packer.post-processor.docker-tag", id: imageID})
				wantError(t, "PostProcess", err, tt.wantPostProcessErr)
				if len(driver.Scripts) != 0 || len(driver.Tagged) != 0 {
					t.Errorf("PostProcess verified or tagged before the credential check failed")
				}
			}
			if got := len(sts.IdentityCallers()); got != tt.wantCalls {
				t.Errorf("%d GetCallerIdentity calls, want %d", got, tt.wantCalls)
			}
		})
	}
}

// wantError checks that err holds every string of want, or is nil when want is empty.
func wantError(t *testing.T, what string, err error, want []string) {
	t.Helper()
	if len(want) == 0 && err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for _, w := range want {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("%s: %v, want an error with %q", what, err, w)
		}
	}
}

// TestPackerCommand reads the subcommand of the command lines Packer runs with.
func TestPackerCommand(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"packer", "build", "template.pkr.hcl"}, "build"},
		{[]string{"/usr/local/bin/packer", "build", "-on-error=abort", "-var", "region=us-east-1", "."}, "build"},
		{[]string{"packer", "-machine-readable", "validate", "."}, "validate"},
		{[]string{"packer", "validate", "-syntax-only", "."}, "validate"},
		{[]string{"packer"}, ""},
		{[]string{"packer", "-version"}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := packerCommand(tt.args); got != tt.want {
			t.Errorf("packerCommand(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

// builtRecord is the record of a runtime built with install_browser = false, prefix
// /srv/oh, user agent and verify.min_packages = 40.
func builtRecord(t *testing.T) string {
	t.Helper()
	r, err := plan.ReadRecord([]byte(`{"version":1,"prefix":"/srv/oh","user":"agent","install_browser":false,"verify":{"min_packages":40},"passwordless_sudo":true}`))
	if err != nil {
		t.Fatal(err)
	}
	return r.JSON()
}

// TestPostProcessVerifiesWithTheBuildOptions: an image is verified with the options it was
// built with, from the builder's artifact or from the record in the image, none of them
// repeated on the post-processor; an image without a record with the post-processor's
// options. A layout option set on the post-processor that contradicts the record is refused
// before anything runs, naming both values; its verify settings replace the record's.
func TestPostProcessVerifiesWithTheBuildOptions(t *testing.T) {
	record := builtRecord(t)
	fromBuilder := &imageArtifact{builderID: "packer.post-processor.docker-import", id: imageID, record: record}
	fromDockerTag := &imageArtifact{builderID: "packer.post-processor.docker-tag", id: imageID}
	inImage := map[string]string{plan.RecordPath: record}
	tests := []struct {
		name   string
		raw    map[string]interface{}
		files  map[string]string
		source *imageArtifact
		// want are in the verification script, absent are not; wantReads are the files read.
		want, absent []string
		wantReads    int
		wantSaid     string
		wantErr      []string
	}{
		{
			name: "the builder's record", source: fromBuilder,
			want:     []string{`OH_PREFIX='/srv/oh'`, `OH_USER='agent'`, "at least 40 wanted"},
			absent:   []string{"check chromium", "PLAYWRIGHT_BROWSERS_PATH="},
			wantSaid: "with the options it was built with, from the openhands-runtime builder's record",
		},
		{
			name: "the record in the image (docker builder and provisioner)", source: fromDockerTag, files: inImage,
			want:      []string{`OH_PREFIX='/srv/oh'`, `OH_USER='agent'`, "at least 40 wanted"},
			absent:    []string{"check chromium"},
			wantReads: 1,
			wantSaid:  "with the options it was built with, from " + plan.RecordPath + " in the image",
		},
		{
			name: "no record: the post-processor's options", source: fromDockerTag,
			raw:       map[string]interface{}{"prefix": "/opt/other", "install_browser": false},
			want:      []string{`OH_PREFIX='/opt/other'`, `OH_USER='openhands'`, "at least 300 wanted"},
			absent:    []string{"check chromium"},
			wantReads: 1,
			wantSaid:  "it has no record of its build options (" + plan.RecordPath + "): the post-processor's options",
		},
		{
			name: "no record and nothing set: the defaults", source: fromDockerTag,
			want:      []string{`OH_PREFIX='/openhands'`, "check chromium"},
			wantReads: 1,
		},
		{
			name: "the record's values repeated", source: fromBuilder,
			raw:  map[string]interface{}{"prefix": "/srv/oh", "user": "agent", "install_browser": false},
			want: []string{`OH_PREFIX='/srv/oh'`},
		},
		{
			name: "verify settings replace the record's", source: fromDockerTag, files: inImage,
			raw:       map[string]interface{}{"verify": map[string]interface{}{"min_packages": 5, "commands": []string{"echo pushed-check"}}},
			want:      []string{`OH_PREFIX='/srv/oh'`, "at least 5 wanted", "echo pushed-check"},
			wantReads: 1,
		},
		{
			name: "contradictions are refused, naming both values", source: fromDockerTag, files: inImage,
			raw:       map[string]interface{}{"prefix": "/openhands", "install_browser": true, "user": "agent"},
			wantReads: 1,
			wantErr: []string{
				`prefix: the post-processor sets "/openhands", and the image ` + imageID + ` was built with "/srv/oh" (` + plan.RecordPath + ` in the image): remove prefix from the post-processor`,
				`install_browser: the post-processor sets true, and the image ` + imageID + ` was built with false`,
			},
		},
		{
			name: "a record of a newer plugin", source: fromDockerTag, files: map[string]string{plan.RecordPath: `{"version":7}`},
			wantReads: 1,
			wantErr:   []string{"image " + imageID + ": " + plan.RecordPath + " in the image: version 7 of the record was written by a newer plugin"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			driver := newFakeDriver(imageID)
			maps.Copy(driver.Files, tt.files)
			api := &fakeECR{repos: map[string]bool{}}
			p := newPostProcessor(t, tt.raw, driver, api)
			var said bytes.Buffer
			_, _, _, err := p.PostProcess(context.Background(), &packersdk.BasicUi{Writer: &said, ErrorWriter: &said}, tt.source)
			if len(driver.Reads) != tt.wantReads {
				t.Errorf("%d files read from the image (%q), want %d", len(driver.Reads), driver.Reads, tt.wantReads)
			}
			if tt.wantErr != nil {
				for _, want := range tt.wantErr {
					fixture.WantError(t, err, want)
				}
				if len(driver.Scripts) != 0 || len(driver.Pushed) != 0 || len(api.created) != 0 {
					t.Errorf("refused, yet %d scripts ran, %d pushes, %d repositories created", len(driver.Scripts), len(driver.Pushed), len(api.created))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(driver.Scripts) != 1 {
				t.Fatalf("%d verification scripts ran, want 1", len(driver.Scripts))
			}
			for _, w := range tt.want {
				if !strings.Contains(driver.Scripts[0], w) {
					t.Errorf("the verification lacks %q", w)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(driver.Scripts[0], a) {
					t.Errorf("the verification holds %q", a)
				}
			}
			if !strings.Contains(said.String(), tt.wantSaid) {
				t.Errorf("the output lacks %q:\n%s", tt.wantSaid, said.String())
			}
		})
	}
}
