package runtimebuilder

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	registryimage "github.com/hashicorp/packer-plugin-sdk/packer/registry/image"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/enginefake"
	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
	"github.com/openhands-runtime/packer-plugin-openhands/sbom"
)

// Compile-time checks.
var (
	_ engine.Driver      = new(fakeDriver)
	_ packersdk.Artifact = new(Artifact)
)

// fakeBuild is what one Build call received.
type fakeBuild struct {
	req        engine.BuildRequest // Context is drained and set to nil
	dockerfile string
	files      map[string]string // regular files of the context by name
	dirs       []string
	id         string
}

// fakeDriver is an engine in memory (local images by reference, and a registry for Pull)
// that builds: each build is recorded with its context.
type fakeDriver struct {
	*enginefake.Engine
	builds   []fakeBuild
	next     int
	buildErr error
}

// fakeInventory is the output of the inventory in an image.
var fakeInventory = []string{
	"openhands-inventory\tos\tdebian\t12\tx86_64",
	"openhands-inventory\tdeb\tadduser\t3.134\tall\tadduser\t3.134",
	"openhands-inventory\tpypi\topenhands-ai\t0.59.0",
	"openhands-inventory\tend\t3",
}

const fakeBaseID = "sha256:" + "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

func newFakeDriver() *fakeDriver {
	e := enginefake.New()
	e.Registry[DefaultBaseImage] = fakeBaseID
	e.Output = fakeInventory
	return &fakeDriver{Engine: e}
}

func (d *fakeDriver) Build(ctx context.Context, req engine.BuildRequest, ui packersdk.Ui) (engine.BuildResult, error) {
	b := fakeBuild{files: map[string]string{}}
	tr := tar.NewReader(req.Context)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return engine.BuildResult{}, fmt.Errorf("reading the build context: %w", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return engine.BuildResult{}, err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			b.dirs = append(b.dirs, h.Name)
		case tar.TypeReg:
			b.files[h.Name] = string(data)
		}
	}
	// The engine reads to the end of the stream: the context writer must not be left blocked.
	if rest, err := io.ReadAll(req.Context); err != nil {
		return engine.BuildResult{}, err
	} else if strings.Trim(string(rest), "\x00") != "" {
		return engine.BuildResult{}, errors.New("data after the end of the build context")
	}
	req.Context = nil
	b.req = req
	b.dockerfile = b.files["Dockerfile"]

	d.Lock()
	defer d.Unlock()
	if d.buildErr != nil {
		return engine.BuildResult{}, d.buildErr
	}
	from := firstInstruction(b.dockerfile)
	if !strings.HasPrefix(from, "FROM ") {
		return engine.BuildResult{}, fmt.Errorf("the Dockerfile starts with %q", from)
	}
	if d.Refs[strings.TrimPrefix(from, "FROM ")] == "" {
		return engine.BuildResult{}, fmt.Errorf("%s: no such image", from)
	}
	d.next++
	b.id = fmt.Sprintf("sha256:%064x", d.next)
	for _, ref := range req.Tags {
		d.Refs[ref] = b.id
	}
	d.builds = append(d.builds, b)
	steps := 0
	for _, l := range strings.Split(b.dockerfile, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			steps++
		}
	}
	ui.Say(fmt.Sprintf("Successfully built %s", b.id))
	return engine.BuildResult{ImageID: b.id, Steps: steps}, nil
}

// firstInstruction is the first line of a Dockerfile that is not a comment.
func firstInstruction(dockerfile string) string {
	for _, l := range strings.Split(dockerfile, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			return l
		}
	}
	return ""
}

// runFixture is a source tree and an engine shared by consecutive runs, as Packer runs a
// template again on one machine.
type runFixture struct {
	src    string
	driver *fakeDriver
}

func newRunFixture(t *testing.T) *runFixture {
	t.Helper()
	src := filepath.Join(t.TempDir(), "openhands-src")
	if err := os.CopyFS(src, os.DirFS(rig.FixtureSourceDir())); err != nil {
		t.Fatal(err)
	}
	return &runFixture{src: src, driver: newFakeDriver()}
}

// run prepares a new Builder with the fixture's source, the user tags latest and v1 and the
// given keys (removed when nil), and runs it on the fake engine.
func (f *runFixture) run(t *testing.T, set map[string]interface{}) (*Artifact, *packersdk.MockUi, error) {
	t.Helper()
	raw := map[string]interface{}{"source_dir": f.src, "tags": []interface{}{"latest", "v1"}, "vscode_server_sha256": strings.Repeat("ab", 32),
		"sbom_path": filepath.Join(t.TempDir(), "image.sbom.cdx.json")}
	maps.Copy(raw, set)
	maps.DeleteFunc(raw, func(_ string, v interface{}) bool { return v == nil })
	var b Builder
	if _, _, err := b.Prepare(raw); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	b.driver = f.driver
	ui := &packersdk.MockUi{}
	art, err := b.Run(context.Background(), ui, &packersdk.MockHook{})
	if err != nil {
		if art != nil {
			t.Errorf("Run returned an artifact with its error: %v", art)
		}
		return nil, ui, err
	}
	a, ok := art.(*Artifact)
	if !ok || a == nil {
		t.Fatalf("Run returned %T %v", art, art)
	}
	return a, ui, nil
}

func (f *runFixture) mustRun(t *testing.T, set map[string]interface{}) (*Artifact, *packersdk.MockUi) {
	t.Helper()
	a, ui, err := f.run(t, set)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return a, ui
}

func (f *runFixture) edit(t *testing.T, rel, text string) {
	t.Helper()
	path := filepath.Join(f.src, filepath.FromSlash(rel))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(data, text...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fixtureOpenHandsVersion is the version in the fixture checkout's pyproject.toml.
const fixtureOpenHandsVersion = "0.59.0"

// contentRefs matches a build's source and lock refs in the default repository, named with
// the checkout's OpenHands version.
func contentRefs(t *testing.T) (source, lock *regexp.Regexp) {
	prefix := regexp.QuoteMeta("openhands-runtime:oh_v" + fixtureOpenHandsVersion)
	return regexp.MustCompile(`^` + prefix + `_([0-9a-f]{16})_([0-9a-f]{16})$`), regexp.MustCompile(`^` + prefix + `_([0-9a-f]{16})$`)
}

// checkRefs checks the tags of a full build and returns its source and lock refs.
func checkRefs(t *testing.T, tags []string) (source, lock string) {
	t.Helper()
	sourceRE, lockRE := contentRefs(t)
	if len(tags) != 2 || !sourceRE.MatchString(tags[0]) || !lockRE.MatchString(tags[1]) {
		t.Fatalf("build tags %q, want the source and lock refs", tags)
	}
	if !strings.HasPrefix(tags[0], tags[1]+"_") {
		t.Errorf("source ref %s does not extend lock ref %s", tags[0], tags[1])
	}
	return tags[0], tags[1]
}

func said(ui *packersdk.MockUi, text string) bool {
	for _, m := range ui.SayMessages {
		if strings.Contains(m.Message, text) {
			return true
		}
	}
	return false
}

func isFullDockerfile(dockerfile string) bool {
	return strings.Contains(dockerfile, "--steps dependencies") && strings.Contains(dockerfile, "openhands-plan/deps/")
}

func TestRunFirstBuildThenNothingToBuild(t *testing.T) {
	f := newRunFixture(t)
	a, _ := f.mustRun(t, nil)
	d := f.driver

	if len(d.builds) != 1 {
		t.Fatalf("%d builds, want 1", len(d.builds))
	}
	b := d.builds[0]
	if got := firstInstruction(b.dockerfile); got != "FROM "+DefaultBaseImage {
		t.Errorf("the Dockerfile starts with %q, want FROM %s", got, DefaultBaseImage)
	}
	if !isFullDockerfile(b.dockerfile) {
		t.Errorf("the first build is not the full Dockerfile:\n%s", b.dockerfile)
	}
	sourceRef, lockRef := checkRefs(t, b.req.Tags)
	if b.req.BuildKit || b.req.Platform != "" || len(b.req.BuildArgs) != 0 || b.req.NetworkMode != "" {
		t.Errorf("build request %+v, want the defaults", b.req)
	}
	// The context is the one WriteDockerContext packs: plan, dependency files, source.
	for _, name := range []string{"openhands-plan/plan.sh", "openhands-plan/deps/pyproject.toml", "openhands-plan/deps/poetry.lock",
		"openhands-plan/deps/openhands/__init__.py", "openhands-plan/code/pyproject.toml", "openhands-plan/code/openhands/core/config/__init__.py",
		"openhands-plan/code/skills/README.md"} {
		if _, ok := b.files[name]; !ok {
			t.Errorf("the build context lacks %s", name)
		}
	}
	for name := range b.files {
		if strings.Contains(name, ".hidden") || strings.HasSuffix(name, ".pyc") {
			t.Errorf("the build context holds %s, which is not shipped", name)
		}
	}
	if !slices.Contains(b.dirs, "openhands-plan/bin/") {
		t.Error("the build context has no openhands-plan/bin/")
	}
	if !strings.HasPrefix(b.files["openhands-plan/plan.sh"], "#!/usr/bin/env bash\n") {
		t.Error("plan.sh in the context is not the plan script")
	}
	if !slices.Equal(d.Pulls, []string{DefaultBaseImage}) {
		t.Errorf("pulls %q, want the base image", d.Pulls)
	}
	wantTags := []string{sourceRef, lockRef, "openhands-runtime:latest", "openhands-runtime:v1"}
	if !slices.Equal(d.Tagged, wantTags[2:]) {
		t.Errorf("Tag calls %q, want the user tags %q", d.Tagged, wantTags[2:])
	}

	if a.BuilderId() != "packer.post-processor.docker-import" {
		t.Errorf("BuilderId %q", a.BuilderId())
	}
	if a.Id() != b.id {
		t.Errorf("artifact id %s, want the built image %s", a.Id(), b.id)
	}
	if got, _ := a.State("docker_tags").([]string); !slices.Equal(got, wantTags) {
		t.Errorf("docker_tags %q, want %q", got, wantTags)
	}
	img, ok := a.State(registryimage.ArtifactStateURI).(*registryimage.Image)
	if !ok || img == nil {
		t.Fatalf("State(%q) = %#v, want a registry image", registryimage.ArtifactStateURI, a.State(registryimage.ArtifactStateURI))
	}
	if img.ImageID != b.id || img.SourceImageID != fakeBaseID || img.Labels["base_image"] != DefaultBaseImage {
		t.Errorf("registry image %+v", img)
	}
	if a.State("nonsense") != nil {
		t.Error("an unknown state key is not nil")
	}
	if !strings.Contains(a.String(), b.id) || !strings.Contains(a.String(), lockRef) {
		t.Errorf("String() = %q", a.String())
	}
	for _, ref := range wantTags {
		if d.Refs[ref] != b.id {
			t.Errorf("%s points at %q, want %s", ref, d.Refs[ref], b.id)
		}
	}

	// The same inputs again: nothing is built, the existing image and its tags are the result.
	tagged := len(d.Tagged)
	a2, ui2 := f.mustRun(t, nil)
	if len(d.builds) != 1 {
		t.Fatalf("the second run built again (%d builds)", len(d.builds))
	}
	if a2.Id() != b.id {
		t.Errorf("second run id %s, want %s", a2.Id(), b.id)
	}
	if got, _ := a2.State("docker_tags").([]string); !slices.Equal(got, wantTags) {
		t.Errorf("second run docker_tags %q, want %q", got, wantTags)
	}
	if len(d.Tagged) != tagged {
		t.Errorf("the second run tagged %q, which already pointed at the image", d.Tagged[tagged:])
	}
	if !said(ui2, "nothing to build") {
		t.Error("the second run did not say there was nothing to build")
	}
	// Destroying the reused image's artifact removes nothing it did not create.
	if err := a2.Destroy(); err != nil {
		t.Fatal(err)
	}
	if len(d.Removed) != 0 {
		t.Errorf("Destroy of a reused image removed %q", d.Removed)
	}
	for _, ref := range wantTags {
		if d.Refs[ref] != b.id {
			t.Errorf("after Destroy of the reused image, %s points at %q", ref, d.Refs[ref])
		}
	}

	// Destroying the first build's artifact removes every tag it made.
	if err := a.Destroy(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Removed, wantTags) {
		t.Errorf("Destroy removed %q, want %q", d.Removed, wantTags)
	}
	if d.Refs[DefaultBaseImage] != fakeBaseID {
		t.Error("Destroy removed the base image")
	}
}

func TestRunSourceChangeBuildsSourceLayersOnly(t *testing.T) {
	f := newRunFixture(t)
	first, _ := f.mustRun(t, nil)
	d := f.driver
	source1, lock1 := checkRefs(t, d.builds[0].req.Tags)

	f.edit(t, "openhands/runtime/__init__.py", "# a source change\n")
	a, ui := f.mustRun(t, nil)
	if len(d.builds) != 2 {
		t.Fatalf("%d builds, want 2", len(d.builds))
	}
	b := d.builds[1]
	if got := firstInstruction(b.dockerfile); got != "FROM "+lock1 {
		t.Errorf("the source build starts with %q, want FROM %s", got, lock1)
	}
	if strings.Contains(b.dockerfile, "dependencies") || strings.Contains(b.dockerfile, "openhands-plan/deps/") ||
		strings.Contains(b.dockerfile, "--steps preflight") {
		t.Errorf("the source build has more than the source layers:\n%s", b.dockerfile)
	}
	if !strings.Contains(b.dockerfile, "COPY --chown=openhands:openhands openhands-plan/code/ /openhands/code/") {
		t.Errorf("the source build does not copy the source:\n%s", b.dockerfile)
	}
	// The lock-tag image holds the first build's source: it goes before the new copy, so
	// files deleted since do not survive.
	if rm, cp := strings.Index(b.dockerfile, "RUN rm -rf /openhands/code/pyproject.toml"), strings.Index(b.dockerfile, "openhands-plan/code/"); rm < 0 || rm > cp ||
		!strings.Contains(b.dockerfile, " /openhands/code/openhands ") || !strings.Contains(b.dockerfile, " /openhands/code/skills ") {
		t.Errorf("the source build does not remove the old source before the copy:\n%s", b.dockerfile)
	}
	if !strings.HasSuffix(b.files["openhands-plan/code/openhands/runtime/__init__.py"], "# a source change\n") {
		t.Error("the build context does not hold the changed file")
	}
	if len(b.req.Tags) != 1 {
		t.Fatalf("source build tags %q, want the source ref only", b.req.Tags)
	}
	source2 := b.req.Tags[0]
	if source2 == source1 || !strings.HasPrefix(source2, lock1+"_") {
		t.Errorf("source ref %s after a source change (was %s, lock %s)", source2, source1, lock1)
	}
	if !said(ui, "building the source layers") {
		t.Error("the run did not say it built on the lock-tag image")
	}
	if a.Id() != b.id {
		t.Errorf("artifact id %s, want %s", a.Id(), b.id)
	}
	tags, _ := a.State("docker_tags").([]string)
	if want := []string{source2, "openhands-runtime:latest", "openhands-runtime:v1"}; !slices.Equal(tags, want) {
		t.Errorf("docker_tags %q, want %q (the lock tag stays on the image built on)", tags, want)
	}
	if d.Refs[lock1] != first.Id() || d.Refs[source1] != first.Id() {
		t.Errorf("the first image lost its content tags: %v", d.Refs)
	}

	// Destroy removes the new source tag and the user tags it moved, nothing of the first image.
	if err := a.Destroy(); err != nil {
		t.Fatal(err)
	}
	if want := []string{source2, "openhands-runtime:latest", "openhands-runtime:v1"}; !slices.Equal(d.Removed, want) {
		t.Errorf("Destroy removed %q, want %q", d.Removed, want)
	}
	if d.Refs[lock1] != first.Id() || d.Refs[source1] != first.Id() {
		t.Errorf("Destroy of the source build touched the first image's tags: %v", d.Refs)
	}
}

func TestRunDependencyChangeBuildsEverything(t *testing.T) {
	f := newRunFixture(t)
	f.mustRun(t, nil)
	d := f.driver
	_, lock1 := checkRefs(t, d.builds[0].req.Tags)

	f.edit(t, "pyproject.toml", "# a dependency change\n")
	a, _ := f.mustRun(t, nil)
	if len(d.builds) != 2 {
		t.Fatalf("%d builds, want 2", len(d.builds))
	}
	b := d.builds[1]
	if got := firstInstruction(b.dockerfile); got != "FROM "+DefaultBaseImage {
		t.Errorf("the build after a pyproject.toml change starts with %q, want FROM %s", got, DefaultBaseImage)
	}
	if !isFullDockerfile(b.dockerfile) {
		t.Errorf("the build after a pyproject.toml change is not the full Dockerfile:\n%s", b.dockerfile)
	}
	source2, lock2 := checkRefs(t, b.req.Tags)
	if lock2 == lock1 {
		t.Errorf("the lock ref %s did not change with pyproject.toml", lock2)
	}
	if got, _ := a.State("docker_tags").([]string); !slices.Equal(got, []string{source2, lock2, "openhands-runtime:latest", "openhands-runtime:v1"}) {
		t.Errorf("docker_tags %q", got)
	}
}

func TestRunForceRebuild(t *testing.T) {
	f := newRunFixture(t)
	first, _ := f.mustRun(t, nil)
	d := f.driver
	source1, lock1 := checkRefs(t, d.builds[0].req.Tags)

	a, ui := f.mustRun(t, map[string]interface{}{"force_rebuild": true})
	if len(d.builds) != 2 {
		t.Fatalf("force_rebuild with an existing source tag: %d builds, want 2", len(d.builds))
	}
	b := d.builds[1]
	if !isFullDockerfile(b.dockerfile) || firstInstruction(b.dockerfile) != "FROM "+DefaultBaseImage {
		t.Errorf("force_rebuild did not build the full Dockerfile:\n%s", b.dockerfile)
	}
	if source, lock := checkRefs(t, b.req.Tags); source != source1 || lock != lock1 {
		t.Errorf("force_rebuild tags %s %s, want the same content tags %s %s", source, lock, source1, lock1)
	}
	if a.Id() == first.Id() || a.Id() != b.id {
		t.Errorf("artifact id %s, want the new image %s", a.Id(), b.id)
	}
	if got, _ := a.State("docker_tags").([]string); !slices.Equal(got, []string{source1, lock1, "openhands-runtime:latest", "openhands-runtime:v1"}) {
		t.Errorf("docker_tags %q", got)
	}
	if !said(ui, "force_rebuild") {
		t.Error("the run did not say force_rebuild skipped the lookup")
	}
}

func TestRunPull(t *testing.T) {
	t.Run("pull = false with a local base image", func(t *testing.T) {
		f := newRunFixture(t)
		f.driver.Refs[DefaultBaseImage] = fakeBaseID
		f.driver.Registry = map[string]string{}
		a, _ := f.mustRun(t, map[string]interface{}{"pull": false})
		if len(f.driver.Pulls) != 0 {
			t.Errorf("pull = false pulled %q", f.driver.Pulls)
		}
		if len(f.driver.builds) != 1 || a.Id() != f.driver.builds[0].id {
			t.Errorf("builds %d, artifact %s", len(f.driver.builds), a.Id())
		}
	})
	t.Run("pull = false without the base image", func(t *testing.T) {
		f := newRunFixture(t)
		_, ui, err := f.run(t, map[string]interface{}{"pull": false, "base_image": "debian:bookworm"})
		if err == nil || !strings.HasPrefix(err.Error(), "base_image: ") || !strings.Contains(err.Error(), "debian:bookworm") {
			t.Errorf("error %v, want one naming base_image and the image", err)
		}
		if len(f.driver.Pulls) != 0 || len(f.driver.builds) != 0 {
			t.Errorf("pulls %q, builds %d; want none", f.driver.Pulls, len(f.driver.builds))
		}
		if !ui.ErrorCalled {
			t.Error("the error was not shown")
		}
	})
	t.Run("pull fails", func(t *testing.T) {
		f := newRunFixture(t)
		_, _, err := f.run(t, map[string]interface{}{"base_image": "example.com/missing:1"})
		if err == nil || !strings.HasPrefix(err.Error(), "base_image: ") || !strings.Contains(err.Error(), "example.com/missing:1") {
			t.Errorf("error %v, want one naming base_image and the image", err)
		}
		if !slices.Equal(f.driver.Pulls, []string{"example.com/missing:1"}) || len(f.driver.builds) != 0 {
			t.Errorf("pulls %q, builds %d", f.driver.Pulls, len(f.driver.builds))
		}
	})
}

func TestRunBuildOptions(t *testing.T) {
	f := newRunFixture(t)
	f.driver.Registry["debian:bookworm"] = "sha256:" + strings.Repeat("d", 64)
	a, _ := f.mustRun(t, map[string]interface{}{
		"base_image":       "debian:bookworm",
		"image_repository": "registry.example.com/team/runtime",
		"buildkit":         true,
		"docker_platform":  "linux/arm64",
		"build_args":       map[string]interface{}{"HTTP_PROXY": "http://proxy:3128"},
		"network_mode":     "none",
		"tags":             []interface{}{"0.59"},
	})
	b := f.driver.builds[0]
	if !b.req.BuildKit || b.req.Platform != "linux/arm64" || b.req.BuildArgs["HTTP_PROXY"] != "http://proxy:3128" || b.req.NetworkMode != "none" {
		t.Errorf("build request %+v", b.req)
	}
	if firstInstruction(b.dockerfile) != "FROM debian:bookworm" {
		t.Errorf("the Dockerfile starts with %q", firstInstruction(b.dockerfile))
	}
	for _, ref := range b.req.Tags {
		if !strings.HasPrefix(ref, "registry.example.com/team/runtime:oh_v") {
			t.Errorf("content tag %s is not in image_repository", ref)
		}
	}
	if got, _ := a.State("docker_tags").([]string); len(got) != 3 || got[2] != "registry.example.com/team/runtime:0.59" {
		t.Errorf("docker_tags %q", got)
	}
}

func TestRunDockerfilePath(t *testing.T) {
	f := newRunFixture(t)
	path := filepath.Join(t.TempDir(), "Dockerfile.rendered")
	f.mustRun(t, map[string]interface{}{"dockerfile_path": path})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("dockerfile_path was not written: %v", err)
	}
	if string(data) != f.driver.builds[0].dockerfile {
		t.Errorf("dockerfile_path holds:\n%s\nthe build used:\n%s", data, f.driver.builds[0].dockerfile)
	}

	_, _, err = f.run(t, map[string]interface{}{"dockerfile_path": filepath.Join(t.TempDir(), "missing", "Dockerfile")})
	if err == nil || !strings.HasPrefix(err.Error(), "dockerfile_path: ") {
		t.Errorf("an unwritable dockerfile_path: %v, want an error naming it", err)
	}
}

func TestRunBuildFails(t *testing.T) {
	f := newRunFixture(t)
	f.driver.buildErr = errors.New("The command '/bin/sh -c bash /opt/openhands-plan/plan.sh --steps dependencies' returned a non-zero code: 1")
	_, _, err := f.run(t, nil)
	if err == nil || !strings.Contains(err.Error(), "building the runtime image") || !strings.Contains(err.Error(), "--steps dependencies") {
		t.Errorf("error %v, want the engine's error", err)
	}
	if len(f.driver.Tagged) != 0 {
		t.Errorf("a failed build tagged %q", f.driver.Tagged)
	}
}

// TestDestroyLeavesPreexistingTags: a run that reuses an image creates only the user tags
// that were missing, and Destroy removes only those.
func TestDestroyLeavesPreexistingTags(t *testing.T) {
	f := newRunFixture(t)
	first, _ := f.mustRun(t, nil)
	d := f.driver
	before := maps.Clone(d.Refs)

	a, _ := f.mustRun(t, map[string]interface{}{"tags": []interface{}{"latest", "extra"}})
	if len(d.builds) != 1 || a.Id() != first.Id() {
		t.Fatalf("the second run built (%d builds) or returned %s", len(d.builds), a.Id())
	}
	if err := a.Destroy(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Removed, []string{"openhands-runtime:extra"}) {
		t.Errorf("Destroy removed %q, want only the tag the run created", d.Removed)
	}
	if !maps.Equal(d.Refs, before) {
		t.Errorf("images after Destroy %v, want %v", d.Refs, before)
	}
}

// provisionerHook stands for Packer's provision hook with one attached provisioner: one that
// uploads a script and runs it the way the shell provisioner does, or with local set, one that
// only runs something on the machine running Packer and says so, as shell-local does.
type provisionerHook struct{ local, ran bool }

func (h *provisionerHook) Run(ctx context.Context, name string, ui packersdk.Ui, comm packersdk.Communicator, data interface{}) error {
	if name != packersdk.HookProvision {
		return nil
	}
	h.ran = true
	if h.local {
		ui.Say("Running local shell script: /tmp/packer-shell123")
		return nil
	}
	if err := comm.Upload("/tmp/script.sh", strings.NewReader("echo hi\n"), nil); err != nil {
		return fmt.Errorf("error uploading script: %w", err)
	}
	return comm.Start(ctx, &packersdk.RemoteCmd{Command: "sh /tmp/script.sh"})
}

// TestRunRefusesAttachedProvisioners: provisioners attached to the builder's source fail the
// build before anything is pulled or built, saying why and what to do, instead of being
// skipped in silence; one that needs no communicator is seen by what it says.
func TestRunRefusesAttachedProvisioners(t *testing.T) {
	for _, tc := range []struct {
		name  string
		local bool
		says  string
	}{
		{"through the communicator", false, "error uploading script"},
		{"on the machine running Packer", true, "ran on the machine running Packer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newRunFixture(t)
			var b Builder
			if _, _, err := b.Prepare(map[string]interface{}{"source_dir": f.src, "vscode_server_sha256": strings.Repeat("ab", 32)}); err != nil {
				t.Fatal(err)
			}
			b.driver = f.driver
			hook := &provisionerHook{local: tc.local}
			art, err := b.Run(context.Background(), &packersdk.MockUi{}, hook)
			if !hook.ran || err == nil || art != nil {
				t.Fatalf("Run with a provisioner attached: ran %v, artifact %v, error %v", hook.ran, art, err)
			}
			for _, want := range []string{"provisioner blocks are attached", tc.says, "runs no container for provisioners", "openhands-runtime provisioner"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if len(f.driver.Pulls) != 0 || len(f.driver.builds) != 0 {
				t.Errorf("pulled %v and built %d images before refusing", f.driver.Pulls, len(f.driver.builds))
			}
		})
	}
}

// TestRunBaseImageIdentity: the lock tag hashes the base image's id, not its name. A base
// republished under the same name (pulled anew, or replaced locally with pull = false) is a
// new lock tag and a full build on it; an unchanged base builds nothing.
func TestRunBaseImageIdentity(t *testing.T) {
	const republished = "sha256:" + "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	tests := []struct {
		name string
		set  map[string]interface{}
		// republish replaces the base image under its name, in the registry or locally.
		republish func(d *fakeDriver)
	}{
		{name: "pulled", republish: func(d *fakeDriver) { d.Registry[DefaultBaseImage] = republished }},
		{name: "local with pull = false", set: map[string]interface{}{"pull": false}, republish: func(d *fakeDriver) { d.Refs[DefaultBaseImage] = republished }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRunFixture(t)
			d := f.driver
			d.Refs[DefaultBaseImage] = fakeBaseID
			f.mustRun(t, tt.set)
			_, firstLock := checkRefs(t, d.builds[0].req.Tags)

			f.mustRun(t, tt.set)
			if len(d.builds) != 1 {
				t.Fatalf("the unchanged base built again: %d builds", len(d.builds))
			}

			tt.republish(d)
			a, _ := f.mustRun(t, tt.set)
			if len(d.builds) != 2 {
				t.Fatalf("the republished base built nothing: %d builds", len(d.builds))
			}
			b := d.builds[1]
			_, lock := checkRefs(t, b.req.Tags)
			if lock == firstLock {
				t.Errorf("the republished base has the old lock tag %s", lock)
			}
			if !isFullDockerfile(b.dockerfile) || firstInstruction(b.dockerfile) != "FROM "+DefaultBaseImage {
				t.Errorf("the build on the republished base is not a full build from it:\n%s", b.dockerfile)
			}
			if a.Id() != b.id {
				t.Errorf("artifact %s, want the new build %s", a.Id(), b.id)
			}

			f.mustRun(t, tt.set)
			if len(d.builds) != 2 {
				t.Errorf("the unchanged republished base built again: %d builds", len(d.builds))
			}
		})
	}
}

// TestRunContentTagsCarryTheOpenHandsVersion: the content tags are named with the checkout's
// OpenHands version, not the plugin's; a checkout without one is refused before anything is
// pulled or built.
func TestRunContentTagsCarryTheOpenHandsVersion(t *testing.T) {
	const fixtureLine = `version = "` + fixtureOpenHandsVersion + `"`
	tests := []struct {
		name, line string // what replaces the fixture's version line
		wantPrefix string
		wantErr    string
	}{
		{name: "the fixture's", line: fixtureLine, wantPrefix: "openhands-runtime:oh_v0.59.0_"},
		{name: "a local version", line: `version = "0.62.0+corp.1"`, wantPrefix: "openhands-runtime:oh_v0.62.0_corp.1_"},
		{name: "none", line: "", wantErr: "has no [project] version or [tool.poetry] version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRunFixture(t)
			path := filepath.Join(f.src, "pyproject.toml")
			data, err := os.ReadFile(path)
			if err != nil || !strings.Contains(string(data), fixtureLine+"\n") {
				t.Fatalf("the fixture's pyproject.toml lacks %s (%v)", fixtureLine, err)
			}
			if err := os.WriteFile(path, []byte(strings.Replace(string(data), fixtureLine+"\n", tt.line+"\n", 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			a, _, err := f.run(t, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), "source_dir: ") || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Run: %v, want a source_dir error with %q", err, tt.wantErr)
				}
				if len(f.driver.Pulls) != 0 || len(f.driver.builds) != 0 {
					t.Errorf("pulled %q and built %d images before refusing", f.driver.Pulls, len(f.driver.builds))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tags := a.State("docker_tags").([]string)
			if n := len(slices.DeleteFunc(slices.Clone(tags), func(s string) bool { return !strings.Contains(s, ":oh_v") })); n != 2 {
				t.Errorf("%d content tags in %q, want 2", n, tags)
			}
			for _, tag := range tags {
				if strings.Contains(tag, ":oh_v") && !strings.HasPrefix(tag, tt.wantPrefix) {
					t.Errorf("content tag %s, want the prefix %s", tag, tt.wantPrefix)
				}
			}
		})
	}
}

// TestRunPlatforms builds one image per platform: each from its own base (base_images), with
// the engine's platform set, its own content tags and the user's tags with the architecture
// appended; the artifact lists every platform's image. Unchanged inputs build nothing on
// every platform.
func TestRunPlatforms(t *testing.T) {
	f := newRunFixture(t)
	const armBase = "sha256:" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	f.driver.Registry["debian-arm64:bookworm"] = armBase
	set := map[string]interface{}{
		"platforms":                        []interface{}{"linux/amd64", "linux/arm64"},
		"base_images":                      map[string]interface{}{"linux/arm64": "debian-arm64:bookworm"},
		"vscode_server_sha256":             nil,
		"vscode_server_sha256_by_platform": map[string]interface{}{"linux/amd64": strings.Repeat("a", 64), "linux/arm64": strings.Repeat("b", 64)},
	}
	a, _ := f.mustRun(t, set)
	if len(f.driver.builds) != 2 {
		t.Fatalf("%d builds, want one per platform", len(f.driver.builds))
	}
	amd, arm := f.driver.builds[0], f.driver.builds[1]
	if amd.req.Platform != "linux/amd64" || arm.req.Platform != "linux/arm64" {
		t.Errorf("build platforms %q and %q", amd.req.Platform, arm.req.Platform)
	}
	if firstInstruction(amd.dockerfile) != "FROM "+DefaultBaseImage || firstInstruction(arm.dockerfile) != "FROM debian-arm64:bookworm" {
		t.Errorf("bases %q and %q", firstInstruction(amd.dockerfile), firstInstruction(arm.dockerfile))
	}
	if slices.Equal(amd.req.Tags, arm.req.Tags) {
		t.Errorf("both platforms have the content tags %v", amd.req.Tags)
	}
	images := a.State("platform_images").([]string)
	if len(images) != 2 || images[0] != "linux/amd64="+amd.id || images[1] != "linux/arm64="+arm.id {
		t.Errorf("platform_images = %v, want both builds' ids", images)
	}
	for _, ref := range []string{"openhands-runtime:latest-amd64", "openhands-runtime:v1-arm64"} {
		if _, ok := f.driver.Refs[ref]; !ok {
			t.Errorf("%s was not tagged; tags: %v", ref, f.driver.Tagged)
		}
	}
	if f.driver.Refs["openhands-runtime:latest-arm64"] != arm.id {
		t.Errorf("latest-arm64 is not the arm64 image")
	}
	if !strings.Contains(a.String(), "linux/arm64 "+arm.id) {
		t.Errorf("the artifact does not name the arm64 image: %s", a)
	}
	// Each platform's own openvscode-server sum, the others the general one.
	c := &Config{Platforms: []string{"linux/amd64", "linux/arm64"}}
	c.VSCodeServerSHA256, c.VSCodeServerSHA256ByPlatform = "general", map[string]string{"linux/arm64": "arm"}
	if amd, arm := c.forPlatform("linux/amd64").VSCodeServerSHA256, c.forPlatform("linux/arm64").VSCodeServerSHA256; amd != "general" || arm != "arm" {
		t.Errorf("openvscode-server sums %q and %q, want general and arm", amd, arm)
	}
	// Each platform's own micromamba, the others the general one; nothing per platform is left.
	c.MicromambaPath, c.MicromambaPathByPlatform = "/mm-x86_64", map[string]string{"linux/arm64": "/mm-aarch64"}
	if amd, arm := c.forPlatform("linux/amd64").Options, c.forPlatform("linux/arm64").Options; amd.MicromambaPath != "/mm-x86_64" || arm.MicromambaPath != "/mm-aarch64" || arm.MicromambaPathByPlatform != nil {
		t.Errorf("micromamba files %q and %q (left per platform: %v), want /mm-x86_64 and /mm-aarch64", amd.MicromambaPath, arm.MicromambaPath, arm.MicromambaPathByPlatform)
	}
	// One SBOM per platform's image (and so one provenance beside it), not one file written
	// twice, in either format.
	for path, want := range map[string]string{
		"out/build.sbom.cdx.json":  "out/build-arm64.sbom.cdx.json",
		"out/build.sbom.spdx.json": "out/build-arm64.sbom.spdx.json",
	} {
		c = &Config{Platforms: []string{"linux/amd64", "linux/arm64"}}
		c.Settings.Path = path
		if got := c.forPlatform("linux/arm64").Settings.Path; got != want {
			t.Errorf("the arm64 image's SBOM path for %s is %q, want %s", path, got, want)
		}
	}
	f.mustRun(t, set)
	if len(f.driver.builds) != 2 {
		t.Errorf("an unchanged rebuild ran %d builds", len(f.driver.builds)-2)
	}
}

// merge is the settings of a and b, b's winning.
func merge(a, b map[string]interface{}) map[string]interface{} {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

func TestPreparePlatforms(t *testing.T) {
	// Executables of each architecture (their ELF headers) and a script, for the tools' files.
	dir := t.TempDir()
	x86 := fixture.ELFFile(t, dir, "x86_64/micromamba", elf.EM_X86_64)
	arm := fixture.ELFFile(t, dir, "aarch64/micromamba", elf.EM_AARCH64)
	uvX86 := fixture.ELFFile(t, dir, "x86_64/uv", elf.EM_X86_64)
	wrapper := fixture.WriteFile(t, dir, "uv-wrapper", "#!/bin/sh\nexec /opt/uv/uv \"$@\"\n", 0o755)
	both := []interface{}{"linux/amd64", "linux/arm64"}
	noVSCode := map[string]interface{}{"vscode_server_sha256": nil, "install_vscode_server": false}
	tests := []struct {
		name string
		set  map[string]interface{}
		want []string // substrings of the error; none for a valid configuration
	}{
		// An x86_64 executable given for both platforms is refused before anything is built,
		// each tool's error naming its option and arm64, all at once.
		{"x86_64 executables for both platforms", map[string]interface{}{"platforms": both, "micromamba_path": x86, "uv_path": uvX86},
			[]string{`micromamba_path: "` + x86 + `" is an x86_64 executable, but linux/arm64 is built; give micromamba_path_by_platform["linux/arm64"] an aarch64 one`,
				`uv_path: "` + uvX86 + `" is an x86_64 executable, but linux/arm64 is built; give uv_path_by_platform["linux/arm64"] an aarch64 one`}},
		{"each platform its own executable", merge(noVSCode, map[string]interface{}{"platforms": both, "micromamba_path": x86,
			"micromamba_path_by_platform": map[string]interface{}{"linux/arm64": arm}}), nil},
		{"an aarch64 executable for amd64", map[string]interface{}{"platforms": both,
			"micromamba_path_by_platform": map[string]interface{}{"linux/amd64": arm, "linux/arm64": arm}},
			[]string{`micromamba_path_by_platform["linux/amd64"]: "` + arm + `" is an aarch64 executable, not x86_64: give it the linux/amd64 (x86_64) one`}},
		{"a script goes to both platforms", merge(noVSCode, map[string]interface{}{"platforms": both, "uv_path": wrapper}), nil},
		{"an aarch64 executable for the arm64 platform alone", map[string]interface{}{"platforms": []interface{}{"linux/arm64"}, "micromamba_path": arm}, nil},
		{"a file for a platform not built", map[string]interface{}{"platforms": []interface{}{"linux/amd64"},
			"uv_path_by_platform": map[string]interface{}{"linux/arm64": arm}},
			[]string{`uv_path_by_platform: "linux/arm64" is not one of the platforms built (linux/amd64)`}},
		{"two platforms with their files", map[string]interface{}{"platforms": []interface{}{"linux/amd64", "linux/arm64"}, "vscode_server_sha256": nil,
			"install_vscode_server": false}, nil},
		// One sum cannot be of both architectures' tarballs: refused before the first image is built.
		{"two architectures with one openvscode-server sum", map[string]interface{}{"platforms": []interface{}{"linux/amd64", "linux/arm64"}},
			[]string{"vscode_server_sha256: one sum for linux/amd64 and linux/arm64, whose openvscode-server tarballs differ",
				`vscode_server_sha256_by_platform needs { "linux/amd64" = "<SHA-256 of openvscode-server-v1.98.2-linux-x64.tar.gz>", "linux/arm64" = "<SHA-256 of openvscode-server-v1.98.2-linux-arm64.tar.gz>" }`,
				"sha256sum of a copy you trust of https://github.com/gitpod-io/openvscode-server/releases/download/openvscode-server-v1.98.2/openvscode-server-v1.98.2-linux-x64.tar.gz and "}},
		{"two architectures without sums", map[string]interface{}{"platforms": []interface{}{"linux/arm64", "linux/amd64"}, "vscode_server_sha256": nil},
			[]string{"vscode_server_sha256_by_platform: required for linux/arm64 and linux/amd64, a build of several architectures", `"linux/arm64" = "<SHA-256 of openvscode-server-v1.98.2-linux-arm64.tar.gz>"`}},
		{"one sum for the platforms of one architecture", map[string]interface{}{"platforms": []interface{}{"linux/arm64", "linux/arm64/v8"}}, nil},
		// The general sum serves the one platform the map leaves out.
		{"by_platform and the general sum", map[string]interface{}{"platforms": []interface{}{"linux/amd64", "linux/arm64"},
			"vscode_server_sha256_by_platform": map[string]interface{}{"linux/arm64": strings.Repeat("b", 64)}}, nil},
		{"two architectures from one URL with its sum", map[string]interface{}{"platforms": []interface{}{"linux/amd64", "linux/arm64"},
			"vscode_server_url": "https://mirror.example/openvscode-server.tar.gz"}, nil},
		// Errors about a platform's sum name the option the user set.
		{"per-platform sum with the switch off", map[string]interface{}{"platforms": []interface{}{"linux/amd64", "linux/arm64"}, "vscode_server_sha256": nil,
			"install_vscode_server": false, "vscode_server_sha256_by_platform": map[string]interface{}{"linux/amd64": strings.Repeat("a", 64)}},
			[]string{`vscode_server_sha256_by_platform: set, but install_vscode_server = false leaves vscode_server out`}},
		{"per-platform sum with a supplied tarball", map[string]interface{}{"platforms": []interface{}{"linux/amd64"}, "vscode_server_sha256": nil,
			"vscode_server_path": "/dev/null", "vscode_server_sha256_by_platform": map[string]interface{}{"linux/amd64": strings.Repeat("a", 64)}},
			[]string{`vscode_server_path: no platform takes it: each of linux/amd64 has its own entries in the vscode_server_*_by_platform options`}},
		{"with docker_platform", map[string]interface{}{"platforms": []interface{}{"linux/arm64"}, "docker_platform": "linux/amd64"}, []string{"platforms: set with docker_platform"}},
		{"bad platform", map[string]interface{}{"platforms": []interface{}{"arm64"}}, []string{"platforms[0]: \"arm64\""}},
		{"twice", map[string]interface{}{"platforms": []interface{}{"linux/arm64", "linux/arm64"}}, []string{"platforms[1]: \"linux/arm64\" is listed twice"}},
		{"base for another platform", map[string]interface{}{"platforms": []interface{}{"linux/amd64"}, "base_images": map[string]interface{}{"linux/arm64": "x:1"}},
			[]string{"base_images: \"linux/arm64\" is not one of the platforms built (linux/amd64)"}},
		{"bad base", map[string]interface{}{"platforms": []interface{}{"linux/arm64"}, "base_images": map[string]interface{}{"linux/arm64": "Not An Image"}},
			[]string{"base_images: \"Not An Image\" for linux/arm64"}},
		{"openvscode-server sums per platform", map[string]interface{}{"platforms": []interface{}{"linux/amd64", "linux/arm64"}, "vscode_server_sha256": nil,
			"vscode_server_sha256_by_platform": map[string]interface{}{"linux/amd64": strings.Repeat("a", 64), "linux/arm64": strings.Repeat("b", 64)}}, nil},
		{"openvscode-server sum missing for a platform", map[string]interface{}{"platforms": []interface{}{"linux/amd64", "linux/arm64"}, "vscode_server_sha256": nil,
			"vscode_server_sha256_by_platform": map[string]interface{}{"linux/amd64": strings.Repeat("a", 64)}},
			[]string{"vscode_server_sha256_by_platform: no sum for linux/arm64"}},
		{"openvscode-server sum of another platform and a bad sum", map[string]interface{}{"platforms": []interface{}{"linux/amd64"}, "vscode_server_sha256": nil,
			"vscode_server_sha256_by_platform": map[string]interface{}{"linux/arm64": strings.Repeat("a", 64), "linux/amd64": "abc"}},
			[]string{"vscode_server_sha256_by_platform: \"linux/arm64\" is not one of the platforms built", `vscode_server_sha256_by_platform["linux/amd64"]: "abc" is not 64 hexadecimal digits`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			_, err := c.Prepare(builderRaw(newRunFixture(t).src, tt.set))
			fixture.WantErrors(t, err, tt.want)
		})
	}
}

// TestRunWritesTheSBOM: the inventory runs as root in the built image, or in the image the
// content tags found; the SBOM is written and the artifact's state and HCP Packer metadata
// carry its digest; the image itself is not changed for it. A failed or cut inventory fails
// the build, and sbom = false runs none.
func TestRunWritesTheSBOM(t *testing.T) {
	cases := []struct {
		name   string
		set    map[string]interface{}
		output []string
		exit   int
		// err is the failure wanted; "" for an SBOM.
		err string
		// scripts is the number of scripts run, per run.
		scripts int
	}{
		{name: "written", scripts: 1},
		{name: "off", set: map[string]interface{}{"sbom": false, "sbom_path": nil}, scripts: 0},
		{name: "inventory fails", output: []string{"openhands-runtime: the inventory failed: boom"}, exit: 1, err: "the inventory of sha256:", scripts: 1},
		{name: "inventory cut", output: fakeInventory[:2], err: "printed no end line", scripts: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newRunFixture(t)
			if tc.output != nil {
				f.driver.Output = tc.output
			}
			f.driver.Exit = tc.exit
			path := filepath.Join(t.TempDir(), "image.cdx.json")
			set := map[string]interface{}{"sbom_path": path}
			maps.Copy(set, tc.set)
			a, ui, err := f.run(t, set)
			if len(f.driver.Scripts) != tc.scripts {
				t.Fatalf("%d scripts run, want %d", len(f.driver.Scripts), tc.scripts)
			}
			if fixture.WantError(t, err, tc.err) {
				return
			}
			if tc.scripts == 0 {
				if a.State(sbom.StatePath) != "" {
					t.Errorf("sbom = false, yet the artifact names an SBOM %v", a.State(sbom.StatePath))
				}
				return
			}
			if want := a.Id() + " root: #!/usr/bin/env bash\n# OpenHands runtime inventory"; !strings.HasPrefix(f.driver.Scripts[0], want) {
				t.Errorf("script run %.80q, want the inventory as root in the image", f.driver.Scripts[0])
			}
			// The SBOM and the provenance beside it, each named with its digest in the state.
			provenance := sbom.ProvenancePath(path)
			documents := map[string][2]string{path: {sbom.StatePath, sbom.StateDigest}, provenance: {sbom.StateProvenancePath, sbom.StateProvenanceDigest}}
			contents, digests := map[string][]byte{}, map[string]string{}
			for file, state := range documents {
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(data)
				contents[file], digests[file] = data, "sha256:"+hex.EncodeToString(sum[:])
				if a.State(state[0]) != file || a.State(state[1]) != digests[file] {
					t.Errorf("state %v %v, want %s %s", a.State(state[0]), a.State(state[1]), file, digests[file])
				}
			}
			data, digest := contents[path], digests[path]
			statement, provenanceDigest := contents[provenance], digests[provenance]
			// The provenance names the image id and the base image it was built from.
			st, err := sbom.DecodeStatement(statement)
			if err != nil {
				t.Fatal(err)
			}
			if "sha256:"+st.Subject[0].Digest["sha256"] != a.Id() || !strings.Contains(string(statement), `"name": "base:`) {
				t.Errorf("the provenance names %v and no base image:\n%s", st.Subject, statement)
			}
			img := a.State(registryimage.ArtifactStateURI).(*registryimage.Image)
			if img.Labels["sbom_digest"] != digest || img.Labels["sbom_format"] != "cyclonedx-json" || img.Labels["provenance_digest"] != provenanceDigest {
				t.Errorf("HCP Packer labels %v", img.Labels)
			}
			if !strings.Contains(string(data), `"purl": "pkg:deb/debian/adduser@3.134?arch=all\u0026distro=debian-12"`) ||
				!strings.Contains(string(data), `"name": "`+a.State("docker_tags").([]string)[0]+`"`) {
				t.Errorf("the SBOM lacks the package or the image:\n%s", data)
			}
			if !strings.Contains(string(data), `"timestamp": "2026-01-02T03:04:05Z"`) || !strings.Contains(string(statement), `"finishedOn": "2026-01-02T03:04:05Z"`) {
				t.Errorf("the documents' time is not the image's creation time:\n%s\n%s", data, statement)
			}
			if !said(ui, "SBOM written to "+path) {
				t.Errorf("the SBOM is not reported")
			}

			// The content tags find the image: nothing is built, and the SBOM, which describes
			// the same image id, is kept without running a container.
			builds := len(f.driver.builds)
			a2, ui2 := f.mustRun(t, set)
			if len(f.driver.builds) != builds || a2.Id() != a.Id() || len(f.driver.Scripts) != 1 || a2.State(sbom.StateDigest) != digest {
				t.Errorf("second run: %d builds, id %s, %d scripts, SBOM %v", len(f.driver.builds)-builds, a2.Id(), len(f.driver.Scripts), a2.State(sbom.StateDigest))
			}
			if !said(ui2, "SBOM and provenance of "+a.Id()+" kept: "+path) || a2.State(sbom.StateProvenanceDigest) != provenanceDigest {
				t.Errorf("the kept SBOM and provenance are not reported (%v)", a2.State(sbom.StateProvenanceDigest))
			}
			// Without the file or its provenance (a fresh checkout), or with one of another
			// image, the inventory runs again and writes the same bytes: they describe the
			// same image.
			for _, edit := range []func(){
				func() { os.Remove(provenance) },
				func() { os.Remove(path) },
				func() { os.WriteFile(path, []byte(strings.ReplaceAll(string(data), a.Id(), "sha256:other")), 0o644) },
			} {
				edit()
				scripts := len(f.driver.Scripts)
				f.mustRun(t, set)
				if len(f.driver.Scripts) != scripts+1 {
					t.Errorf("the inventory did not run again for a missing or other image's SBOM")
				}
				for file, want := range contents {
					if got, err := os.ReadFile(file); err != nil || !bytes.Equal(got, want) {
						t.Errorf("%s written again for the same image differs (%v):\n%s\nwant\n%s", file, err, got, want)
					}
				}
			}
		})
	}
}

// TestPrepareBuildArgs: build arguments with credentials are refused at validate, a proxy
// argument (which reaches every step) with advice for proxies, any other with the fact that it
// reaches no step; a proxy without credentials is taken.
func TestPrepareBuildArgs(t *testing.T) {
	tests := []struct {
		name string
		args map[string]interface{}
		want []string // substrings of the error; none for a valid configuration
	}{
		{"proxy without credentials", map[string]interface{}{"HTTPS_PROXY": "http://proxy.internal:3128", "NO_PROXY": "127.0.0.1"}, nil},
		{"proxy with a password", map[string]interface{}{"HTTPS_PROXY": "http://builder:s3cret@proxy.internal:3128"},
			[]string{"build_args[HTTPS_PROXY]: holds credentials", "network_mode", "environment_vars"}},
		{"lower-case proxy with a token", map[string]interface{}{"all_proxy": "socks5://token@proxy.internal:1080"},
			[]string{"build_args[all_proxy]: holds credentials", "every step of the build reads"}},
		{"another argument with credentials", map[string]interface{}{"PIP_INDEX_URL": "https://user:pw@pypi.internal/simple"},
			[]string{"build_args[PIP_INDEX_URL]: holds credentials", "reaches no step of the plan (its Dockerfile declares no ARG"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			_, err := c.Prepare(builderRaw(newRunFixture(t).src, map[string]interface{}{"build_args": tt.args}))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("Prepare accepted it")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, secret := range []string{"s3cret", "token@", "pw@"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows the credentials", err)
				}
			}
		})
	}
}

// TestRunRecordsTheBuildOptions: the artifact hands the options the image was built with to
// the build's post-processors (every platform's image, one set of options), and the plan the
// image is built with writes the same record into it, for a verification in another build.
func TestRunRecordsTheBuildOptions(t *testing.T) {
	f := newRunFixture(t)
	f.driver.Registry["debian-arm64:bookworm"] = "sha256:" + strings.Repeat("a", 64)
	a, _ := f.mustRun(t, map[string]interface{}{
		"install_browser": false, "prefix": "/srv/oh", "user": "agent", "passwordless_sudo": false,
		"verify":      map[string]interface{}{"min_packages": 40},
		"platforms":   []interface{}{"linux/amd64", "linux/arm64"},
		"base_images": map[string]interface{}{"linux/arm64": "debian-arm64:bookworm"},
		// Each architecture's own openvscode-server sum (one is refused for two).
		"vscode_server_sha256":             nil,
		"vscode_server_sha256_by_platform": map[string]interface{}{"linux/amd64": strings.Repeat("a", 64), "linux/arm64": strings.Repeat("b", 64)},
	})
	written, _ := a.State(plan.StateRecord).(string)
	r, err := plan.ReadRecord([]byte(written))
	if err != nil {
		t.Fatalf("the artifact's record %q: %v", written, err)
	}
	if r.Prefix != "/srv/oh" || r.User != "agent" || *r.InstallBrowser || r.PasswordlessSudo || *r.Verify.MinPackages != 40 || !r.UseLock {
		t.Errorf("the artifact's record %s is not the build's options", written)
	}
	for _, b := range f.driver.builds {
		if script := b.files["openhands-plan/plan.sh"]; !strings.Contains(script, plan.RecordPath) || !strings.Contains(script, written) {
			t.Errorf("the %s image's plan does not write the artifact's record to %s", b.req.Platform, plan.RecordPath)
		}
	}
}
