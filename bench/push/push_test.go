package push

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/ecrtest"
	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
	ecrpostprocessor "github.com/openhands-runtime/packer-plugin-openhands/post-processor/ecr"
)

const (
	accessKey    = "AKIDOPENHANDSBENCH"
	registryUser = "AWS"
	registryPwd  = "bench-registry-password"
	repository   = "agents/openhands-runtime"
	// benchTag is the post-processor's `tags`; the builder's two content tags go with it.
	benchTag = "bench"
)

// variant is an image to push: the runtime image built on the rig's base image, or on that
// base plus layers of random data (incompressible, so gzip cannot shrink them), or the base
// image alone (baseOnly: one layer of about 1 GB of compressible files, a Debian root).
type variant struct {
	name         string
	layers, mibs int // extra layers of mibs MiB each
	baseOnly     bool
}

var variants = []variant{
	{name: "runtime"},
	{name: "base-one-layer", baseOnly: true},
	{name: "runtime+2x64MiB", layers: 2, mibs: 64},
	{name: "runtime+2x256MiB", layers: 2, mibs: 256},
}

// image is a variant built and ready to push: its builder template and the tags that a
// push of it names (benchTag first, then the content tags, the post-processor's order).
type image struct {
	// dir is where its packer builds run: the same for every build of the image, as a user's
	// template directory, so the SBOM the builder writes beside the template is kept (and its
	// referrers are unchanged) when the image is.
	dir string
	// template is the builder's template around a post-processor block; nil for a base-only
	// image, which openhands-ecr pushes in process (no builder makes it an artifact).
	template func(postProcessor string) string
	id       string
	tags     []string
	mib      float64
	layers   int
	runs     int // BenchmarkPush runs on it so far (-count)
}

type setup struct {
	packer, pluginPath, baseImage string
	work, src                     string
	// crane is go-containerregistry's CLI, built from the module proxy at the version in
	// go.mod; "" when it could not be built (the crane rows are then skipped).
	crane string
}

var (
	setupOnce sync.Once
	env       *setup
	envErr    error

	imagesMu sync.Mutex
	images   = map[string]*image{}

	// Local refs and registry hosts this process made, removed by TestMain at the end.
	cleanupMu    sync.Mutex
	localRefs    []string
	registryHost []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	cleanupImages()
	if env != nil {
		os.RemoveAll(env.work)
	}
	os.Exit(code)
}

// benchSetup reads what bench/run.sh exports; without OPENHANDS_BENCH the benchmark skips,
// so `go test ./...` never pushes anything.
func benchSetup(b *testing.B) *setup {
	b.Helper()
	if os.Getenv("OPENHANDS_BENCH") != "1" {
		b.Skip("run by bench/run.sh (make bench): set OPENHANDS_BENCH=1, PACKER, PACKER_PLUGIN_PATH and OPENHANDS_RIG_BASE_IMAGE")
	}
	setupOnce.Do(func() {
		s := &setup{packer: os.Getenv("PACKER"), pluginPath: os.Getenv("PACKER_PLUGIN_PATH"), baseImage: os.Getenv("OPENHANDS_RIG_BASE_IMAGE")}
		if s.packer == "" || s.pluginPath == "" || s.baseImage == "" {
			envErr = fmt.Errorf("PACKER, PACKER_PLUGIN_PATH and OPENHANDS_RIG_BASE_IMAGE must be set (eval \"$(bash scripts/rig.sh env)\")")
			return
		}
		// Not b.TempDir: the images outlive one sub-benchmark.
		if s.work, envErr = os.MkdirTemp("", "openhands-bench-push-"); envErr != nil {
			return
		}
		s.src = filepath.Join(s.work, "src")
		if out, err := exec.Command("cp", "-r", rig.FixtureSourceDir(), s.src).CombinedOutput(); err != nil {
			envErr = fmt.Errorf("copying the fixture: %v: %s", err, out)
			return
		}
		s.crane = buildCrane(s.work)
		env = s
	})
	if envErr != nil {
		b.Fatal(envErr)
	}
	return env
}

// craneVersion is go.mod's go-containerregistry.
const craneVersion = "v0.22.1"

// buildCrane builds crane with `go install` from the module proxy into dir.
func buildCrane(dir string) string {
	cmd := exec.Command("go", "install", "github.com/google/go-containerregistry/cmd/crane@"+craneVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: building crane %s: %v: %s (crane rows skipped)\n", craneVersion, err, out)
		return ""
	}
	return filepath.Join(dir, "crane")
}

// prepare builds v's image once per process: `packer build` with the builder only, so the
// measured builds find its source tag and build nothing.
func prepare(b *testing.B, s *setup, v variant) *image {
	b.Helper()
	imagesMu.Lock()
	defer imagesMu.Unlock()
	if img := images[v.name]; img != nil {
		return img
	}
	if v.baseOnly {
		img := &image{tags: []string{benchTag}}
		if err := img.inspect(s.baseImage, ""); err != nil {
			b.Fatal(err)
		}
		images[v.name] = img
		return img
	}
	prefix := fmt.Sprintf("openhands-bench-push-%d", os.Getpid())
	base := s.baseImage
	for i := 1; i <= v.layers; i++ {
		next := fmt.Sprintf("%s-base:%s-%d", prefix, strings.ToLower(strings.ReplaceAll(v.name, "+", "-")), i)
		script := fmt.Sprintf("head -c %dM /dev/urandom >/bench-random-%d", v.mibs, i)
		if err := rig.DeriveImage(base, next, script); err != nil {
			b.Fatalf("deriving %s: %v", next, err)
		}
		addLocalRef(next)
		base = next
	}
	repo := fmt.Sprintf("%s-%s", prefix, strings.ToLower(strings.ReplaceAll(v.name, "+", "-")))
	img := &image{dir: filepath.Join(s.work, "builds", v.name), template: func(postProcessor string) string {
		return rig.BuilderTemplate(base, s.src, repo, fmt.Sprintf("  tags = [%q]", benchTag), postProcessor)
	}}
	if out, _, _, err := packerBuild(b, s, img.dir, img.template("")); err != nil {
		b.Fatalf("building %s: %v\n%s", v.name, err, tail(out))
	}
	ref := repo + ":" + benchTag
	addLocalRef(ref)
	img.tags = []string{benchTag}
	if err := img.inspect(ref, repo); err != nil {
		b.Fatal(err)
	}
	// The post-processor pushes the lock tag before the source tag, which is longer.
	if len(img.tags) == 3 && len(img.tags[1]) > len(img.tags[2]) {
		img.tags[1], img.tags[2] = img.tags[2], img.tags[1]
	}
	// Read every layer once, unmeasured, so the first measured push does not pay for a
	// cold page cache that the pushes after it would not.
	save := exec.Command("docker", "save", ref)
	save.Stdout = io.Discard
	if err := save.Run(); err != nil {
		b.Fatalf("docker save %s: %v", ref, err)
	}
	images[v.name] = img
	return img
}

// inspect reads the image's id, size and layers; with repo set, it adds the content tags
// (oh_v...) that the image has in repo.
func (img *image) inspect(ref, repo string) error {
	out, err := rig.Docker("image", "inspect", "--format", "{{.Id}} {{.Size}} {{len .RootFS.Layers}} {{range .RepoTags}}{{.}} {{end}}", ref)
	if err != nil {
		return err
	}
	f := strings.Fields(out)
	img.id = f[0]
	size, _ := strconv.ParseFloat(f[1], 64)
	img.mib = size / (1 << 20)
	img.layers, _ = strconv.Atoi(f[2])
	for _, t := range f[3:] {
		if tag, ok := strings.CutPrefix(t, repo+":"); repo != "" && ok && strings.HasPrefix(tag, "oh_v") {
			addLocalRef(t)
			img.tags = append(img.tags, tag)
		}
	}
	return nil
}

func addLocalRef(ref string) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	localRefs = append(localRefs, ref)
}

func cleanupImages() {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	refs := localRefs
	// Every tag the pushes left in the engine, for the registries of this process only.
	if len(registryHost) > 0 {
		out, _ := exec.Command("docker", "images", "--format", "{{.Repository}}:{{.Tag}}").Output()
		for _, ref := range strings.Fields(string(out)) {
			for _, h := range registryHost {
				if strings.HasPrefix(ref, h+"/") {
					refs = append(refs, ref)
				}
			}
		}
	}
	// Newest first: a derived base goes after the runtime image built on it.
	for i := len(refs) - 1; i >= 0; i-- {
		rig.RemoveImages(refs[i])
	}
}

// packerBuild runs `packer build` on template in dir and returns its output, wall time and
// the plugin's peak RSS (KiB).
func packerBuild(b *testing.B, s *setup, dir, template string) (string, time.Duration, int64, error) {
	b.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "push.pkr.hcl")
	if err := os.WriteFile(path, []byte(template), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(s.packer, "build", "-color=false", path)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1", "PACKER_PLUGIN_PATH="+s.pluginPath)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return "", 0, 0, err
	}
	done := make(chan struct{})
	peak := make(chan int64)
	go func() { peak <- peakPluginRSS(cmd.Process.Pid, done) }()
	err := cmd.Wait()
	wall := time.Since(start)
	close(done)
	return out.String(), wall, <-peak, err
}

// peakPluginRSS polls the peak resident set (VmHWM, KiB) of the packer-plugin-openhands
// processes under packer (packer re-runs itself as a child, which starts the plugins) every
// 100 ms until done is closed, and returns the largest seen.
func peakPluginRSS(packerPID int, done <-chan struct{}) int64 {
	var peak int64
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		parent, plugins := map[string]string{}, []string{}
		stats, _ := filepath.Glob("/proc/[0-9]*/stat")
		for _, stat := range stats {
			data, err := os.ReadFile(stat)
			// pid (comm) state ppid ...: comm is cut at 15 characters.
			i := bytes.LastIndexByte(data, ')')
			if err != nil || i < 0 {
				continue
			}
			pid := filepath.Base(filepath.Dir(stat))
			if f := strings.Fields(string(data[i+1:])); len(f) >= 2 {
				parent[pid] = f[1]
			}
			if bytes.Contains(data[:i], []byte("packer-plugin-o")) {
				plugins = append(plugins, pid)
			}
		}
		for _, pid := range plugins {
			under := false
			for p := parent[pid]; p != "" && p != "0" && !under; p = parent[p] {
				under = p == strconv.Itoa(packerPID)
			}
			if !under {
				continue
			}
			status, _ := os.ReadFile(filepath.Join("/proc", pid, "status"))
			for _, line := range strings.Split(string(status), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					kib, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
					peak = max(peak, kib)
				}
			}
		}
		select {
		case <-done:
			return peak
		case <-tick.C:
		}
	}
}

func tail(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}

// result is one measured push, or the sum of b.N of them.
type result struct {
	push, build time.Duration
	pushes      int   // tags actually pushed (skipped tags not counted)
	bytes       int64 // blob upload bytes the registry received
	blobs       int
	rssKiB      int64 // the plugin's peak resident set (packer builds only), the largest
}

func (r *result) add(o result) {
	r.push += o.push
	r.build += o.build
	r.pushes += o.pushes
	r.bytes += o.bytes
	r.blobs += o.blobs
	r.rssKiB = max(r.rssKiB, o.rssKiB)
}

func (r result) report(b *testing.B, img *image, withBuild bool) {
	n := float64(b.N)
	b.ReportMetric(r.push.Seconds()/n, "push-s")
	if withBuild {
		b.ReportMetric(r.build.Seconds()/n, "build-s")
	}
	if r.rssKiB > 0 {
		b.ReportMetric(float64(r.rssKiB)/1024, "plugin-rss-MiB")
	}
	b.ReportMetric(float64(r.pushes)/n, "pushes")
	b.ReportMetric(float64(r.bytes)/n, "upload-bytes")
	b.ReportMetric(float64(r.blobs)/n, "blob-uploads")
	b.ReportMetric(img.mib, "image-MiB")
	b.ReportMetric(float64(img.layers), "layers")
}

// fresh starts an empty registry and its ECR double: nothing is there to skip or mount.
func fresh(b *testing.B, withECR bool) (*ecrtest.Registry, *ecrtest.ECR) {
	b.Helper()
	reg := ecrtest.NewRegistry(b, registryUser, registryPwd)
	cleanupMu.Lock()
	registryHost = append(registryHost, reg.Host())
	cleanupMu.Unlock()
	if !withECR {
		return reg, nil
	}
	return reg, ecrtest.NewECR(b, reg, ecrtest.ECROptions{AccessKeyID: accessKey})
}

var pushedIn = regexp.MustCompile(`(?m)Pushed (\S+) in (\S+)\s*$`)

// pluginPush runs `packer build` with the builder (nothing to build) and openhands-ecr
// pointed at api, and returns the build's wall time and the post-processor's own push
// times, from its `Pushed <ref> in <d>` lines (verification comes before them).
func pluginPush(b *testing.B, s *setup, img *image, reg *ecrtest.Registry, api *ecrtest.ECR, compression string) result {
	b.Helper()
	if img.template == nil {
		return pluginPushInProcess(b, img, reg, api, compression)
	}
	pp := fmt.Sprintf(`  post-processor "openhands-ecr" {
    region                     = "us-east-1"
    access_key                 = %q
    secret_key                 = "bench-secret-key"
    ecr_endpoint               = %q
    skip_metadata_api_check    = true
    skip_credential_validation = true
    repository                 = %q
    tags                       = [%q]
    layer_compression          = %q
  }`, accessKey, api.URL(), repository, benchTag, compression)
	bytesBefore, blobsBefore := reg.UploadedBytes(), reg.BlobUploads()
	out, wall, rss, err := packerBuild(b, s, img.dir, img.template(pp))
	if err != nil {
		b.Fatalf("packer build with openhands-ecr: %v\n%s", err, tail(out))
	}
	if strings.Contains(out, "Built sha256:") {
		b.Fatalf("the measured build built the image again: the builder's content tags did not match\n%s", tail(out))
	}
	r := result{build: wall, bytes: reg.UploadedBytes() - bytesBefore, blobs: reg.BlobUploads() - blobsBefore, rssKiB: rss}
	r.addPushLines(b, out)
	return r
}

// pluginPushInProcess pushes an image that no builder makes an artifact of (the base image)
// with openhands-ecr's PostProcess in this process, as Packer would call it after a docker
// builder (skip_verify: it is not a runtime); push-s and build-s are its `Pushed` lines and
// its whole call.
func pluginPushInProcess(b *testing.B, img *image, reg *ecrtest.Registry, api *ecrtest.ECR, compression string) result {
	b.Helper()
	var pp ecrpostprocessor.PostProcessor
	if err := pp.Configure(map[string]interface{}{
		"region": "us-east-1", "access_key": accessKey, "secret_key": "bench-secret-key", "ecr_endpoint": api.URL(),
		"skip_metadata_api_check": true, "skip_credential_validation": true, "skip_verify": true,
		"repository": repository, "tags": []string{benchTag}, "layer_compression": compression,
	}); err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	bytesBefore, blobsBefore := reg.UploadedBytes(), reg.BlobUploads()
	start := time.Now()
	if _, _, _, err := pp.PostProcess(context.Background(), &packersdk.BasicUi{Writer: &out, ErrorWriter: &out}, engineImage(img.id)); err != nil {
		b.Fatalf("openhands-ecr: %v\n%s", err, tail(out.String()))
	}
	r := result{build: time.Since(start), bytes: reg.UploadedBytes() - bytesBefore, blobs: reg.BlobUploads() - blobsBefore}
	r.addPushLines(b, out.String())
	return r
}

// engineImage is an image of the local engine as the docker builder's artifact names it.
type engineImage string

func (e engineImage) BuilderId() string        { return "packer.post-processor.docker-import" }
func (e engineImage) Files() []string          { return nil }
func (e engineImage) Id() string               { return string(e) }
func (e engineImage) String() string           { return string(e) }
func (e engineImage) State(string) interface{} { return nil }
func (e engineImage) Destroy() error           { return nil }

// addPushLines adds the post-processor's `Pushed <ref> in <d>` lines of out to the push time.
func (r *result) addPushLines(b *testing.B, out string) {
	b.Helper()
	for _, m := range pushedIn.FindAllStringSubmatch(out, -1) {
		d, err := time.ParseDuration(m[2])
		if err != nil {
			b.Fatalf("push line %q: %v", m[0], err)
		}
		r.push += d
		r.pushes++
	}
}

// dockerLogin logs the CLI in to reg with a config directory of its own, so nothing is
// written to the user's ~/.docker.
func dockerLogin(b *testing.B, reg *ecrtest.Registry) string {
	b.Helper()
	cfg := b.TempDir()
	cmd := exec.Command("docker", "--config", cfg, "login", "--username", reg.User(), "--password-stdin", reg.Host())
	cmd.Stdin = strings.NewReader(reg.Password())
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("docker login %s: %v: %s", reg.Host(), err, out)
	}
	return cfg
}

// dockerPush tags the image with every tag the post-processor pushes and runs `docker
// push` for each in turn, as a user pushing those tags would; the time is the sum of the
// pushes' wall times (CLI start included), tagging excluded.
func dockerPush(b *testing.B, img *image, reg *ecrtest.Registry, cfg string) result {
	b.Helper()
	bytesBefore, blobsBefore := reg.UploadedBytes(), reg.BlobUploads()
	var r result
	for _, tag := range img.tags {
		ref := reg.Host() + "/" + repository + ":" + tag
		if out, err := rig.Docker("tag", img.id, ref); err != nil {
			b.Fatal(out)
		}
		cmd := exec.Command("docker", "--config", cfg, "push", ref)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		r.push += time.Since(start)
		if err != nil {
			b.Fatalf("docker push %s: %v\n%s", ref, err, tail(string(out)))
		}
		r.pushes++
	}
	r.bytes = reg.UploadedBytes() - bytesBefore
	r.blobs = reg.BlobUploads() - blobsBefore
	return r
}

// BenchmarkPush: for each image variant, a first push to a fresh registry and an unchanged
// second push to the same registry, through openhands-ecr (a whole `packer build`) and
// through `docker push`. Run with -benchtime=1x: one first push takes a minute on 2 cores.
// With -count=N the two tools take turns going first, so neither always pushes first.
func BenchmarkPush(b *testing.B) {
	s := benchSetup(b)
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			img := prepare(b, s, v)
			img.runs++
			if img.runs%2 == 1 {
				benchPlugin(b, s, img, "gzip")
				benchDocker(b, img)
			} else {
				benchDocker(b, img)
				benchPlugin(b, s, img, "gzip")
			}
			benchPlugin(b, s, img, "zstd")
			benchCrane(b, s, img)
		})
	}
}

// benchPlugin measures openhands-ecr with a layer compression: "openhands-ecr" for gzip (the
// default), "openhands-ecr-zstd" for zstd.
func benchPlugin(b *testing.B, s *setup, img *image, compression string) {
	name := "openhands-ecr"
	if compression != "gzip" {
		name += "-" + compression
	}
	b.Run(name, func(parent *testing.B) {
		// Made on parent, the registry outlives "first" so "second" pushes to it.
		var reg *ecrtest.Registry
		var api *ecrtest.ECR
		parent.Run("first", func(b *testing.B) {
			var sum result
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				reg, api = fresh(parent, true)
				b.StartTimer()
				sum.add(pluginPush(b, s, img, reg, api, compression))
			}
			sum.report(b, img, true)
		})
		parent.Run("second", func(b *testing.B) {
			if reg == nil { // "first" was not selected: push once, unmeasured
				b.StopTimer()
				reg, api = fresh(parent, true)
				pluginPush(b, s, img, reg, api, compression)
				b.StartTimer()
			}
			var sum result
			for i := 0; i < b.N; i++ {
				sum.add(pluginPush(b, s, img, reg, api, compression))
			}
			sum.report(b, img, true)
		})
	})
}

func benchDocker(b *testing.B, img *image) {
	b.Run("docker", func(parent *testing.B) {
		var reg *ecrtest.Registry
		var cfg string
		parent.Run("first", func(b *testing.B) {
			var sum result
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				reg, _ = fresh(parent, false)
				cfg = dockerLogin(parent, reg)
				b.StartTimer()
				sum.add(dockerPush(b, img, reg, cfg))
			}
			sum.report(b, img, false)
		})
		parent.Run("second", func(b *testing.B) {
			if reg == nil {
				b.StopTimer()
				reg, _ = fresh(parent, false)
				cfg = dockerLogin(parent, reg)
				dockerPush(b, img, reg, cfg)
				b.StartTimer()
			}
			var sum result
			for i := 0; i < b.N; i++ {
				sum.add(dockerPush(b, img, reg, cfg))
			}
			sum.report(b, img, false)
		})
	})
}

// benchCrane measures what a user without the plugin could do next best: `docker save` the
// image to a file, then `crane push` it (go-containerregistry, gzip in Go) to the first tag
// and `crane tag` the others, to a fresh registry. push-s is the save and the push together,
// save-s the save alone.
func benchCrane(b *testing.B, s *setup, img *image) {
	b.Run("crane", func(b *testing.B) {
		if s.crane == "" {
			b.Skip("crane could not be built")
		}
		var sum result
		var save time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			reg, _ := fresh(b, false)
			cfg := dockerLogin(b, reg)
			tarball := filepath.Join(b.TempDir(), "image.tar")
			src := fmt.Sprintf("openhands-bench-crane-%d:%s", os.Getpid(), benchTag)
			if out, err := rig.Docker("tag", img.id, src); err != nil {
				b.Fatal(out)
			}
			addLocalRef(src)
			bytesBefore, blobsBefore := reg.UploadedBytes(), reg.BlobUploads()
			b.StartTimer()
			start := time.Now()
			if out, err := rig.Docker("save", "-o", tarball, src); err != nil {
				b.Fatal(out)
			}
			save += time.Since(start)
			for j, tag := range img.tags {
				ref := reg.Host() + "/" + repository + ":" + tag
				args := []string{"push", tarball, ref}
				if j > 0 {
					args = []string{"tag", reg.Host() + "/" + repository + ":" + img.tags[0], tag}
				}
				cmd := exec.Command(s.crane, args...)
				cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+cfg)
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("crane %s: %v\n%s", strings.Join(args, " "), err, tail(string(out)))
				}
				sum.pushes++
			}
			sum.push += time.Since(start)
			b.StopTimer()
			sum.bytes += reg.UploadedBytes() - bytesBefore
			sum.blobs += reg.BlobUploads() - blobsBefore
			os.Remove(tarball)
			b.StartTimer()
		}
		sum.report(b, img, false)
		b.ReportMetric(save.Seconds()/float64(b.N), "save-s")
	})
}
