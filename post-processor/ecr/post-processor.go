// Package ecrpostprocessor is the openhands-ecr post-processor: it verifies a runtime image with
// the install plan's checks, then pushes it to Amazon ECR and returns its digest.
package ecrpostprocessor

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hcldec"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/artifact"
	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
	"github.com/openhands-runtime/packer-plugin-openhands/version"
)

// acceptedBuilders are the artifacts that are images in the local engine: the docker
// builder's committed image (and docker-import, and this plugin's builder, which share its
// id) and docker-tag's.
var acceptedBuilders = map[string]bool{
	artifact.DockerImportBuilderID: true,
	artifact.DockerTagBuilderID:    true,
}

type PostProcessor struct {
	config Config
	// driver and api are set by tests; otherwise made from the environment.
	driver engine.Driver
	api    ecrAPI
	// packerCommand is set by tests; otherwise parentPackerCommand.
	packerCommand func() string
	// credentialsChecked: the build's first Configure checked them; the second need not.
	credentialsChecked bool
	// cacheDir (the blob cache's) and progressEvery are set by tests; otherwise the user's
	// cache directory and imagepush.ProgressInterval.
	cacheDir      string
	progressEvery time.Duration
}

func (p *PostProcessor) ConfigSpec() hcldec.ObjectSpec { return p.config.FlatMapstructure().HCL2Spec() }

// Configure prepares the configuration and, when Packer runs a build, checks the AWS
// credentials. Packer configures every post-processor when it reads the template, before any
// source runs, for `packer build` and `packer validate` alike and with the same arguments;
// validate must stay offline, so the check runs only when the Packer command that started
// this plugin is build. The amazon plugin's builders check in Run, which a post-processor
// does not have.
func (p *PostProcessor) Configure(raws ...interface{}) error {
	if err := p.config.Prepare(raws...); err != nil {
		return err
	}
	command := p.packerCommand
	if command == nil {
		command = parentPackerCommand
	}
	if command() != "build" {
		return nil
	}
	return p.checkCredentialsOnce()
}

// checkCredentialsOnce checks the credentials unless that is skipped, not needed (skip_push)
// or done: Packer configures the post-processor again just before PostProcess.
func (p *PostProcessor) checkCredentialsOnce() error {
	c := &p.config
	if c.SkipCredentialValidation || c.SkipPush || p.credentialsChecked {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), credentialCheckTimeout)
	defer cancel()
	started := time.Now()
	arn, err := c.checkCredentials(ctx)
	if err != nil {
		return err
	}
	p.credentialsChecked = true
	log.Printf("[INFO] openhands-ecr: AWS credentials are %s (checked in %s)", arn, time.Since(started).Round(time.Millisecond))
	return nil
}

// credentialCheckTimeout bounds the credential check, retries included, so that an
// unreachable STS fails the build early rather than late.
const credentialCheckTimeout = 30 * time.Second

func (p *PostProcessor) PostProcess(ctx context.Context, ui packersdk.Ui, source packersdk.Artifact) (packersdk.Artifact, bool, bool, error) {
	if !acceptedBuilders[source.BuilderId()] {
		return nil, false, false, fmt.Errorf("openhands-ecr takes an image in the local Docker engine (docker builder with commit = true, docker-import, docker-tag or openhands-runtime), not an artifact of %q", source.BuilderId())
	}
	driver := p.driver
	if driver == nil {
		d, err := engine.NewClient()
		if err != nil {
			return nil, false, false, err
		}
		driver = d
	}
	images, err := p.sourceImages(ctx, driver, source)
	if err != nil {
		return nil, false, false, err
	}
	// Every image's options before anything runs: an option contradicting an image's record
	// is refused at once.
	var verifications []verification
	if !p.config.SkipVerify {
		for _, img := range images {
			v, err := p.verification(ctx, driver, source, img)
			if err != nil {
				return nil, false, false, err
			}
			verifications = append(verifications, v)
		}
	}
	// Where Configure could not tell a build (see parentPackerCommand), before the verification.
	if err := p.checkCredentialsOnce(); err != nil {
		return nil, false, false, err
	}
	for i, v := range verifications {
		if err := p.verify(ctx, ui, driver, images[i], v); err != nil {
			return nil, false, false, err
		}
	}
	if p.config.SkipPush {
		ui.Say("skip_push is set: nothing pushed")
		return source, true, true, nil
	}
	pushed, err := p.push(ctx, ui, driver, images)
	if err != nil {
		return nil, false, false, err
	}
	return pushed, true, false, nil
}

// verification is how an image is verified: with the options, read from where.
type verification struct {
	options plan.Options
	from    string
}

// verification reads the options img was built with and sets the post-processor's own
// against them: an image with no record is verified with the post-processor's options; a
// layout option set on the post-processor that differs from the record is refused, naming
// both values.
func (p *PostProcessor) verification(ctx context.Context, driver engine.Driver, source packersdk.Artifact, img platformImage) (verification, error) {
	record, from, err := buildRecord(ctx, driver, source, img)
	if err != nil {
		return verification{}, fmt.Errorf("image %s: %s: %w: nothing was pushed", img, from, err)
	}
	o, conflicts := plan.VerifyOptions(p.config.Layout, record)
	var errs []error
	for _, c := range conflicts {
		errs = append(errs, fmt.Errorf("%s: the post-processor sets %s, and the image %s was built with %s (%s): remove %s from the post-processor, which verifies an image with the options it was built with",
			c.Option, c.Set, img, c.Recorded, from, c.Option))
	}
	if len(errs) > 0 {
		return verification{}, errors.Join(errs...)
	}
	if record == nil {
		from = "it has no record of its build options (" + plan.RecordPath + "): the post-processor's options"
	} else {
		from = "the options it was built with, from " + from
	}
	return verification{options: o, from: from}, nil
}

// recordLimit bounds the record read from an image: a few hundred bytes, more with
// verify commands.
const recordLimit = 1 << 20

// buildRecord is the record of the options img was built with: the one the builder hands over
// in the artifact's state, else the one in the image; nil when there is none. from says
// where it comes from.
func buildRecord(ctx context.Context, driver engine.Driver, source packersdk.Artifact, img platformImage) (record *plan.Record, from string, err error) {
	data := []byte(artifact.String(source, plan.StateRecord))
	from = "the openhands-runtime builder's record"
	if len(data) == 0 {
		from = plan.RecordPath + " in the image"
		var found bool
		if data, found, err = driver.ReadFile(ctx, img.id, plan.RecordPath, recordLimit); err != nil || !found {
			return nil, from, err
		}
	}
	r, err := plan.ReadRecord(data)
	if err != nil {
		return nil, from, err
	}
	return &r, from, nil
}

// verify runs the plan's checks in a container of the image, with no network; an image of
// another architecture than the host's runs emulated (binfmt_misc), as it would be pulled.
func (p *PostProcessor) verify(ctx context.Context, ui packersdk.Ui, driver engine.Driver, img platformImage, v verification) error {
	pl := plan.New(v.options, plan.Inputs{})
	ui.Sayf("Verifying %s with %s: %d checks in a container without network", img, v.from, len(pl.Checks))
	// As root, as OpenHands starts the runtime; the script drops to the runtime user itself.
	code, err := driver.RunScript(ctx, img.id, plan.RootUser, pl.VerifyScript(version.PluginVersion.FormattedVersion()), ui.Say)
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("the image %s failed verification (exit code %d): nothing was pushed; the failed checks are listed above", img, code)
	}
	return nil
}

// contentRefs are the builder's content-tagged references (repository:oh_v...) the artifact
// carries, and their tags.
func contentRefs(source packersdk.Artifact) (refs, tags []string) {
	for _, ref := range artifact.Strings(source, artifact.StateDockerTags) {
		if i := strings.LastIndex(ref, ":"); i >= 0 && !strings.Contains(ref[i:], "/") && artifact.IsContentTag(ref[i+1:]) {
			refs, tags = append(refs, ref), append(tags, ref[i+1:])
		}
	}
	return refs, tags
}

// push logs in, makes the repository when asked to, and pushes the image, or every platform's
// image and then their index.
func (p *PostProcessor) push(ctx context.Context, ui packersdk.Ui, driver engine.Driver, images []platformImage) (*Artifact, error) {
	c := &p.config
	cfg, err := c.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	api := p.api
	if api == nil {
		api = c.ecrClient(cfg)
	}
	reg, err := login(ctx, api, c.RegistryID)
	if err != nil {
		return nil, err
	}
	packersdk.LogSecretFilter.Set(reg.auth.Password)
	created, err := ensureRepository(ctx, api, c)
	if err != nil {
		return nil, err
	}
	if created {
		ui.Sayf("Created repository %s (%s, scan on push %t, %s)", c.Repository, c.ImageTagMutability, c.ScanOnPush, c.EncryptionType)
	}

	name := reg.host + "/" + c.Repository
	target := pushTarget{driver: driver, reg: reg, api: api, name: name}
	if len(images) > 1 {
		return p.pushIndex(ctx, ui, target, images, cfg.Region)
	}
	img := images[0]
	tags := pushTags(c.Tags, img.contentTags)
	digest, err := p.pushImage(ctx, ui, target, img.id, tags)
	if err != nil {
		return nil, err
	}
	ui.Sayf("Pushed %s@%s with tags %s", name, digest, strings.Join(tags, " "))
	pushed := &Artifact{name: name, digest: digest, region: cfg.Region, tags: tags, sourceImageID: img.id}
	if pushed.referrers, err = attachDocuments(ctx, ui, name, digest, img.sbomPath, img.provenancePath, reg.auth); err != nil {
		return nil, err
	}
	return pushed, nil
}
