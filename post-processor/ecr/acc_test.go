package ecrpostprocessor

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/hashicorp/packer-plugin-sdk/acctest"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/ecrtest"
	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
	"github.com/openhands-runtime/packer-plugin-openhands/internal/imagepush"
	"github.com/openhands-runtime/packer-plugin-openhands/sbom"
)

var rigEnv *rig.Env

func TestMain(m *testing.M) { os.Exit(rig.Main(m, &rigEnv)) }

const (
	accessKey   = "AKIDOPENHANDSTEST"
	secretKey   = "secret-key-never-printed"
	registryPwd = "registry-password-never-printed"
	repo        = "agents/openhands-runtime"
)

// pushTemplate builds the runtime image with the builder (named by content, so a second
// build is the same image) and pushes it through the ECR double; the credential check at the
// build's start goes to an STS double that knows accessKey and secretKey.
func pushTemplate(t *testing.T, ecr *ecrtest.ECR, src, postProcessor string) string {
	t.Helper()
	return buildAndPushTemplate(t, ecr, fmt.Sprintf("openhands-acc-ecr-%d", os.Getpid()), src, secretKey, postProcessor)
}

// buildAndPushTemplate is pushTemplate with the builder's image repository and the
// secret_key given.
func buildAndPushTemplate(t *testing.T, ecr *ecrtest.ECR, repository, src, secret, postProcessor string) string {
	t.Helper()
	return buildAndPushTemplateWith(t, ecr, repository, src, secret, "", postProcessor)
}

// buildAndPushTemplateWith is buildAndPushTemplate with more attributes of the builder.
func buildAndPushTemplateWith(t *testing.T, ecr *ecrtest.ECR, repository, src, secret, attributes, postProcessor string) string {
	t.Helper()
	return rig.BuilderTemplate(rigEnv.BaseImage, src, repository, attributes, "\n  "+ecrPostProcessor(t, ecr, secret, postProcessor))
}

// ecrPostProcessor is the post-processor block that pushes through the ECR double with the
// secret_key given, with more attributes; the credential check at the build's start goes to
// an STS double that knows accessKey and secretKey.
func ecrPostProcessor(t *testing.T, ecr *ecrtest.ECR, secret, attributes string) string {
	t.Helper()
	sts := ecrtest.NewSTS(t, accessKey, "", ecrtest.Credentials{})
	sts.CallerSecretAccessKey = secretKey
	return fmt.Sprintf(`post-processor "openhands-ecr" {
    region                  = "us-east-1"
    access_key              = %q
    secret_key              = %q
    ecr_endpoint            = %q
    sts_endpoint            = %q
    skip_metadata_api_check = true
    repository              = %q
    tags                    = ["latest", "v1"]
%s
  }`, accessKey, secret, ecr.URL(), sts.URL(), repo, attributes)
}

func fixtureSource(t *testing.T) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "openhands-src")
	if out, err := exec.Command("cp", "-r", rig.FixtureSourceDir(), src).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return src
}

var pushedLine = regexp.MustCompile(`Pushed (\S+)@(sha256:[0-9a-f]{64}) with tags ([^\n\x1b]+)`)

func cleanupImages(t *testing.T) {
	t.Cleanup(func() {
		out, _ := exec.Command("docker", "images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", fmt.Sprintf("reference=openhands-acc-ecr-%d", os.Getpid())).Output()
		rig.RemoveImages(strings.Fields(string(out))...)
		out, _ = exec.Command("docker", "images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=127.0.0.1:*/"+repo).Output()
		rig.RemoveImages(strings.Fields(string(out))...)
	})
}

func TestAccECRPushTwice(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	cleanupImages(t)
	reg := ecrtest.NewRegistry(t, "AWS", registryPwd)
	reg.FailNext(2, 500) // the first uploads fail: the push must get through anyway
	ecr := ecrtest.NewECR(t, reg, ecrtest.ECROptions{AccessKeyID: accessKey, SecretAccessKey: secretKey})
	src := fixtureSource(t)

	var digest string
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "ecr_first_push",
		Template: pushTemplate(t, ecr, src, ""),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			log := rig.ReadLog(t, logfile)
			if found := credentialsIn(log); len(found) > 0 {
				return fmt.Errorf("the build output holds %v", found)
			}
			if !strings.Contains(log, "verification passed") {
				return fmt.Errorf("no verification report in the output")
			}
			m := pushedLine.FindStringSubmatch(log)
			if m == nil {
				return fmt.Errorf("no push summary in the output")
			}
			digest = m[2]
			for _, tag := range []string{"latest", "v1", "oh_v"} {
				if !strings.Contains(m[3], tag) {
					return fmt.Errorf("tag %s was not pushed: %s", tag, m[3])
				}
			}
			return nil
		},
	})
	// The registry token reaches the engine with each push only: no Docker config file holds it.
	if found := dockerConfigsHolding(t, registryPwd); len(found) > 0 {
		t.Errorf("Docker configuration files hold the registry password: %v", found)
	}
	for _, tag := range []string{"latest", "v1"} {
		got, err := reg.Digest(repo, tag)
		if err != nil {
			t.Fatal(err)
		}
		if got != digest {
			t.Errorf("%s:%s is %s in the registry, the artifact says %s", repo, tag, got, digest)
		}
	}
	checkReferrers(t, reg, digest)
	if n := reg.InjectedFailures(); n != 2 {
		t.Errorf("the registry failed %d uploads, want the 2 injected failures to have been retried", n)
	}
	created := ecr.Created()
	if len(created) != 1 || created[0].Name != repo {
		t.Errorf("the repository should have been created once: %+v", created)
	}

	uploaded, requests := reg.UploadedBytes(), len(reg.Requests())
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "ecr_second_push",
		Template: pushTemplate(t, ecr, src, ""),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			if found := credentialsIn(rig.ReadLog(t, logfile)); len(found) > 0 {
				return fmt.Errorf("the build output holds %v", found)
			}
			return nil
		},
	})
	// The plugin's push keeps its blob cache between builds: digests and repositories only.
	dir, err := imagepush.DefaultCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	cache, err := os.ReadFile(filepath.Join(dir, blobCacheFile))
	if err != nil {
		t.Fatalf("the push left no blob cache: %v", err)
	}
	if found := credentialsIn(string(cache)); len(found) > 0 {
		t.Errorf("the blob cache holds %v", found)
	}
	if got := reg.UploadedBytes(); got != uploaded {
		var writes []string
		for _, r := range reg.Requests()[requests:] {
			if r.Method != "GET" && r.Method != "HEAD" {
				writes = append(writes, fmt.Sprintf("%s %s %d", r.Method, r.Path, r.Status))
			}
		}
		t.Errorf("the unchanged image uploaded %d more bytes: %s", got-uploaded, strings.Join(writes, "; "))
	}
}

func TestAccECRFailures(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	cleanupImages(t)
	src := fixtureSource(t)
	cases := []struct {
		name, extra, want string
		options           ecrtest.ECROptions
	}{
		{"wrong_credentials", "", "UnrecognizedClientException", ecrtest.ECROptions{AccessKeyID: "AKIDSOMEONEELSE"}},
		{"missing_repository", "    create_repository = false", "create_repository is false", ecrtest.ECROptions{AccessKeyID: accessKey, SecretAccessKey: secretKey}},
		{"failed_verification", "    verify {\n      min_packages = 100000\n    }", "failed verification", ecrtest.ECROptions{AccessKeyID: accessKey, SecretAccessKey: secretKey}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg := ecrtest.NewRegistry(t, "AWS", registryPwd)
			ecr := ecrtest.NewECR(t, reg, c.options)
			acctest.TestPlugin(t, &acctest.PluginTestCase{
				Name:     "ecr_" + c.name,
				Template: pushTemplate(t, ecr, src, c.extra),
				Check: func(cmd *exec.Cmd, logfile string) error {
					if err := rig.BuildFailed(cmd, logfile); err != nil {
						return err
					}
					log := rig.ReadLog(t, logfile)
					if !strings.Contains(log, c.want) {
						return fmt.Errorf("the output lacks %q", c.want)
					}
					if found := credentialsIn(log); len(found) > 0 {
						return fmt.Errorf("the build output holds %v", found)
					}
					return nil
				},
			})
			if n := reg.ManifestPuts(); n != 0 {
				t.Errorf("%d manifests were pushed", n)
			}
		})
	}
}

// TestAccECRBadKeysFailBeforeTheSource: with a wrong secret_key, `packer build` fails within
// seconds, at the post-processor's credential check, before the builder does anything: no
// image of the build's repository exists afterwards and the builder printed nothing.
func TestAccECRBadKeysFailBeforeTheSource(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	repository := fmt.Sprintf("openhands-acc-ecr-badkeys-%d", os.Getpid())
	images := func() string {
		out, err := rig.Docker("images", "--quiet", "--filter", "reference="+repository)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out)
	}
	t.Cleanup(func() { rig.RemoveImages(strings.Fields(images())...) })
	reg := ecrtest.NewRegistry(t, "AWS", registryPwd)
	ecr := ecrtest.NewECR(t, reg, ecrtest.ECROptions{AccessKeyID: accessKey, SecretAccessKey: secretKey})
	started := time.Now()
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "ecr_bad_keys",
		Template: buildAndPushTemplate(t, ecr, repository, fixtureSource(t), "not-the-secret", ""),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildFailed(cmd, logfile); err != nil {
				return err
			}
			// Packer wraps diagnostics at 80 columns.
			log := strings.Join(strings.Fields(rig.ReadLog(t, logfile)), " ")
			for _, want := range []string{
				"AWS credentials from the static keys access_key and secret_key do not work (STS GetCallerIdentity)",
				"SignatureDoesNotMatch",
				"skip_credential_validation = true",
			} {
				if !strings.Contains(log, want) {
					return fmt.Errorf("the output lacks %q", want)
				}
			}
			if strings.Contains(log, "Content tags:") {
				return fmt.Errorf("the builder ran before the credential check failed")
			}
			return nil
		},
	})
	elapsed := time.Since(started)
	t.Logf("packer build failed on bad keys after %s", elapsed.Round(10*time.Millisecond))
	if elapsed > 20*time.Second {
		t.Errorf("packer build took %s to fail on bad keys, want seconds", elapsed)
	}
	if ids := images(); ids != "" {
		t.Errorf("the builder made images of %s: %s", repository, ids)
	}
	if n := ecr.Calls(); len(n) != 0 {
		t.Errorf("ECR was called: %v", n)
	}
}

// dockerConfigsHolding lists the files of the Docker client's configuration directories
// (DOCKER_CONFIG, ~/.docker) that contain secret.
// credentialsIn names the credentials of the ECR and STS doubles that text holds: the
// registry password, also as the ECR authorization token (base64 of AWS:password), and the
// AWS secret key.
func credentialsIn(text string) []string {
	var found []string
	for name, secret := range map[string]string{
		"the registry password": registryPwd, "the ECR token": base64.StdEncoding.EncodeToString([]byte("AWS:" + registryPwd)), "the secret key": secretKey,
	} {
		if strings.Contains(text, secret) {
			found = append(found, name)
		}
	}
	return found
}

func dockerConfigsHolding(t *testing.T, secret string) []string {
	t.Helper()
	var dirs []string
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		dirs = append(dirs, d)
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".docker"))
	}
	var found []string
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if data, err := os.ReadFile(path); err == nil && strings.Contains(string(data), secret) {
				found = append(found, path)
			}
			return nil
		})
	}
	return found
}

// checkReferrers: the SBOM and the provenance the builder wrote (its default sbom_path and
// the file beside it) were attached to the pushed image: the registry's referrers API lists
// both for the image's digest, and the pushed provenance names that digest as its subject.
func checkReferrers(t *testing.T, reg *ecrtest.Registry, digest string) {
	t.Helper()
	listed, err := reg.Referrers(repo, digest)
	if err != nil {
		t.Fatal(err)
	}
	byType := map[string]string{}
	for _, l := range listed {
		byType[l.ArtifactType] = l.Digest.String()
	}
	if len(listed) != 2 || byType[sbom.MediaType] == "" || byType[sbom.ProvenanceMediaType] == "" {
		t.Fatalf("referrers of %s: %+v, want the SBOM and the provenance", digest, listed)
	}
	st, err := sbom.DecodeStatement([]byte(referrerContent(t, reg, reg.Host()+"/"+repo, byType[sbom.ProvenanceMediaType], digest)))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Subject) != 1 || "sha256:"+st.Subject[0].Digest["sha256"] != digest {
		t.Errorf("the pushed provenance describes %v, want %s", st.Subject, digest)
	}
}

// TestAccECRPluginPushPullsBack builds a runtime image of its own (a unique file in the
// source) and pushes it with the plugin's pusher, with gzip and with zstd, each to a registry
// of its own; it reads every blob back against its digest and diff id (go-containerregistry),
// then removes the image from the engine and has the engine pull each push back, which
// must download the layers, give the very image that was built (the same config, so the
// same image id) and run. Engines before 23 cannot unpack zstd layers: there the zstd push
// is checked blob by blob only.
func TestAccECRPluginPushPullsBack(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	cleanupImages(t)
	src := fixtureSource(t)
	// A source of its own: the engine holds the built image under this test's tags only.
	if err := os.WriteFile(filepath.Join(src, "openhands", "pullback.py"), []byte("# "+time.Now().String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	type pushedImage struct {
		comp     imagepush.Compression
		registry *ecrtest.Registry
		config   string
	}
	var pushed []pushedImage
	for _, comp := range []imagepush.Compression{{Algorithm: imagepush.Gzip, Level: imagepush.DefaultGzipLevel}, {Algorithm: imagepush.Zstd, Level: imagepush.DefaultZstdLevel}} {
		reg := ecrtest.NewRegistry(t, "AWS", registryPwd)
		ecr := ecrtest.NewECR(t, reg, ecrtest.ECROptions{AccessKeyID: accessKey, SecretAccessKey: secretKey})
		var digest string
		acctest.TestPlugin(t, &acctest.PluginTestCase{
			Name:     "ecr_plugin_push_" + comp.Algorithm,
			Template: pushTemplate(t, ecr, src, fmt.Sprintf("    layer_compression = %q", comp.Algorithm)),
			Check: func(cmd *exec.Cmd, logfile string) error {
				if err := rig.BuildSucceeded(cmd, logfile); err != nil {
					return err
				}
				log := rig.ReadLog(t, logfile)
				m := pushedLine.FindStringSubmatch(log)
				if m == nil {
					return fmt.Errorf("no push summary in the output")
				}
				digest = m[2]
				if !strings.Contains(log, "layers to compress ("+comp.String()+")") {
					return fmt.Errorf("the output does not show the plugin's push with %s", comp.String())
				}
				t.Log(regexp.MustCompile(`Pushed \S+:latest in [^\n\x1b]+`).FindString(log))
				return nil
			},
		})
		img := registryImage(t, reg, digest)
		checkBlobs(t, img)
		m, _ := img.Manifest()
		for _, l := range m.Layers {
			if l.MediaType != comp.LayerMediaType() {
				t.Errorf("%s: layer %s is %s, want %s", comp.Algorithm, l.Digest, l.MediaType, comp.LayerMediaType())
			}
		}
		config, _ := img.ConfigName()
		pushed = append(pushed, pushedImage{comp, reg, config.String()})
	}
	if t.Failed() {
		return
	}

	// Without the image in the engine, a pull downloads every layer it does not have
	// (an engine that has the image's config pulls nothing).
	built := fmt.Sprintf("openhands-acc-ecr-%d", os.Getpid())
	out, _ := rig.Docker("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference="+built)
	rig.RemoveImages(strings.Fields(out)...)
	if _, err := rig.Docker("image", "inspect", pushed[0].config); err == nil {
		t.Fatalf("image %s is still in the engine after removing %s: a pull would download nothing", pushed[0].config, strings.Fields(out))
	}
	engineClient, err := engine.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	version, err := engineClient.ServerVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	engineMajor, _ := strconv.Atoi(strings.Split(version.Version, ".")[0])
	for _, p := range pushed {
		if p.comp.Algorithm == imagepush.Zstd && engineMajor < 23 {
			// Engine 20.10 downloads zstd layers but unpacks them as plain tar.
			t.Logf("zstd: Docker Engine %s does not pull zstd layers (23 and later do): the blob check above stands alone", version.Version)
			continue
		}
		tagged := p.registry.Host() + "/" + repo + ":v1"
		pullOut, err := enginePull(t, engineClient, p.registry, tagged, "")
		if err != nil {
			t.Errorf("%s: docker pull %s: %v\n%s", p.comp.Algorithm, tagged, err, pullOut)
			continue
		}
		if n := strings.Count(pullOut, "Pull complete"); n == 0 {
			t.Errorf("%s: docker pull downloaded no layer:\n%s", p.comp.Algorithm, pullOut)
		}
		if id, err := rig.Docker("image", "inspect", "--format", "{{.Id}}", tagged); err != nil || strings.TrimSpace(id) != p.config {
			t.Errorf("%s: docker pull gave image %s (%v), the pushed config is %s", p.comp.Algorithm, strings.TrimSpace(id), err, p.config)
		}
		if out := rig.InImage(t, tagged, "", "test -f /openhands/code/openhands/pullback.py && echo pulled back and ran"); !strings.Contains(out, "pulled back and ran") {
			t.Errorf("%s: the pulled image did not run: %s", p.comp.Algorithm, out)
		}
		t.Logf("%s: docker pull: %d layers pulled", p.comp.Algorithm, strings.Count(pullOut, "Pull complete"))
		// The next pull must download again.
		rig.RemoveImages(tagged)
	}
}

// enginePull has the engine pull ref from reg (docker pull [--platform platform]) and returns
// what the pull printed.
func enginePull(t *testing.T, client *engine.Client, reg *ecrtest.Registry, ref, platform string) (string, error) {
	t.Helper()
	auth, err := registry.EncodeAuthConfig(registry.AuthConfig{Username: reg.User(), Password: reg.Password(), ServerAddress: reg.Host()})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	body, err := client.ImagePull(context.Background(), ref, image.PullOptions{RegistryAuth: auth, Platform: platform})
	if err == nil {
		_, err = engine.ReadMessages(body, &packersdk.BasicUi{Writer: &out, ErrorWriter: &out})
		body.Close()
	}
	return out.String(), err
}
