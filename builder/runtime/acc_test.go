package runtimebuilder

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
)

var rigEnv *rig.Env

func TestMain(m *testing.M) { os.Exit(rig.Main(m, &rigEnv)) }

// builderTemplate builds the runtime image from the offline base image with the stand-ins,
// tagged acc: the tests using it are about layers, tags and signals, not the install (see
// rig.StandinAttributes; TestAccBuilderRealOpenHands installs for real).
func builderTemplate(repo, src, extra, postProcessors string) string {
	return rig.BuilderTemplate(rigEnv.BaseImage, src, repo, "  tags = [\"acc\"]\n"+extra, postProcessors)
}

var builtSummary = regexp.MustCompile(`Built sha256:[0-9a-f]+ in \S+ with (?:the legacy builder|BuildKit): (\d+) steps, (\d+) from the cache`)

// summary returns the step counts of the build in the log, or -1s when nothing was built.
func summary(log string) (steps, cached int) {
	m := builtSummary.FindStringSubmatch(log)
	if m == nil {
		return -1, -1
	}
	steps, _ = strconv.Atoi(m[1])
	cached, _ = strconv.Atoi(m[2])
	return steps, cached
}

func imageID(t *testing.T, ref string) string {
	t.Helper()
	out, err := rig.Docker("image", "inspect", "--format", "{{.Id}}", ref)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// accImageRepository names an image repository of this test process, whose images (and those
// of repositories named after it) are removed at the end.
func accImageRepository(t *testing.T, name string) string {
	repo := fmt.Sprintf("openhands-acc-%s-%d", name, os.Getpid())
	t.Cleanup(func() {
		out, _ := exec.Command("docker", "images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference="+repo+"*").Output()
		rig.RemoveImages(strings.Fields(string(out))...)
	})
	return repo
}

// builtWithVerifyLayer is the check of a build that must succeed with the verify layer, run
// in this build or in an earlier one with the same inputs (the engine's layer cache); either
// way it is part of the image.
func builtWithVerifyLayer(t *testing.T, cmd *exec.Cmd, logfile string) error {
	if err := rig.BuildSucceeded(cmd, logfile); err != nil {
		return err
	}
	log := rig.ReadLog(t, logfile)
	if !strings.Contains(log, "verification passed") && !strings.Contains(log, "cleanup,verify") {
		return fmt.Errorf("the build has no verify layer")
	}
	return nil
}

// accRepository names an image repository of this test process, whose images (and those of
// repositories named after it) are removed at the end, and copies the fixture checkout.
func accRepository(t *testing.T, name string) (repo, src string) {
	repo = accImageRepository(t, name)
	src = filepath.Join(t.TempDir(), "openhands-src")
	if out, err := exec.Command("cp", "-r", rig.FixtureSourceDir(), src).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return repo, src
}

func TestAccBuilderContentTags(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	repo, src := accRepository(t, "builder")
	tagged := repo + "-tagged"
	dockerfile := filepath.Join(t.TempDir(), "Dockerfile")

	// 1. A clean build, chained into docker-tag.
	var fullSteps int
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name: "builder_first",
		Template: builderTemplate(repo, src, fmt.Sprintf("  dockerfile_path = %q", dockerfile),
			fmt.Sprintf("  post-processor \"docker-tag\" {\n    repository = %q\n    tags = [\"chained\"]\n  }", tagged)),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := builtWithVerifyLayer(t, cmd, logfile); err != nil {
				return err
			}
			fullSteps, _ = summary(rig.ReadLog(t, logfile))
			if fullSteps <= 0 {
				return fmt.Errorf("no build summary in the output")
			}
			return nil
		},
	})
	image := repo + ":acc"
	rig.CheckRuntimeImage(t, image)
	rig.LaunchImage(t, image)
	if got, want := imageID(t, tagged+":chained"), imageID(t, image); got != want {
		t.Errorf("docker-tag tagged %s, want the built image %s", got, want)
	}
	if data, err := os.ReadFile(dockerfile); err != nil || !strings.HasPrefix(string(data), "# OpenHands runtime image") {
		t.Errorf("dockerfile_path was not written: %v", err)
	}

	// 2. Nothing changed: no build at all, the existing tags reported.
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "builder_unchanged",
		Template: builderTemplate(repo, src, "", ""),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			log := rig.ReadLog(t, logfile)
			if steps, _ := summary(log); steps != -1 || strings.Contains(log, "Step 1/") {
				return fmt.Errorf("an unchanged rebuild ran a build")
			}
			if !strings.Contains(log, "nothing to build") || !strings.Contains(log, "with tags "+repo+":oh_v") {
				return fmt.Errorf("the unchanged rebuild did not report the existing image and its tags")
			}
			return nil
		},
	})

	// 3. A source change: only the source layers, on the lock-tag image.
	appendTo(t, filepath.Join(src, "openhands", "runtime", "__init__.py"), "# a source change\n")
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "builder_source_change",
		Template: builderTemplate(repo, src, "", ""),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			log := rig.ReadLog(t, logfile)
			if !strings.Contains(log, "exists: building the source layers on it") {
				return fmt.Errorf("the source change did not build on the lock-tag image")
			}
			if strings.Contains(log, "--steps dependencies") || strings.Contains(log, "--steps preflight") {
				return fmt.Errorf("the source change re-ran steps before the source copy")
			}
			return nil
		},
	})
	rig.CheckRuntimeImage(t, image)

	// 4. Another source change with force_rebuild: the full Dockerfile, every layer up to
	// the source copy served by the cache.
	appendTo(t, filepath.Join(src, "openhands", "runtime", "__init__.py"), "# another one\n")
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "builder_force_rebuild",
		Template: builderTemplate(repo, src, "  force_rebuild = true", ""),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			steps, cached := summary(rig.ReadLog(t, logfile))
			data, err := os.ReadFile(dockerfile)
			if err != nil {
				return err
			}
			// Every instruction before the COPY of the source tree comes from the cache.
			before := 0
			for _, line := range strings.Split(string(data), "\n") {
				if strings.Contains(line, "openhands-plan/code/") {
					break
				}
				if line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "FROM") {
					before++
				}
			}
			if steps != fullSteps || cached != before {
				return fmt.Errorf("force_rebuild after a source change: %d steps, %d cached; want %d steps, %d cached", steps, cached, fullSteps, before)
			}
			return nil
		},
	})
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func TestAccBuilderValidate(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	path := filepath.Join(t.TempDir(), "bad.pkr.hcl")
	tmpl := `
source "openhands-runtime" "image" {
  base_image = "Not An Image"
  source_dir = "/nonexistent/openhands"
}
build {
  sources = ["source.openhands-runtime.image"]
}
`
	if err := os.WriteFile(path, []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(rigEnv.Packer, "validate", path).CombinedOutput()
	if err == nil {
		t.Fatalf("packer validate accepted a bad configuration:\n%s", out)
	}
	for _, want := range []string{`base_image: "Not An Image" is not an image reference`, `source_dir: "/nonexistent/openhands" does not exist`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("packer validate output lacks %q:\n%s", want, out)
		}
	}
}

// TestAccBuilderBuildKit builds with BuildKit through the Engine API: its progress records
// are shown as plain progress, the steps are counted, and the image is a working runtime.
// A second build with force_rebuild is served from BuildKit's cache.
func TestAccBuilderBuildKit(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	repo, src := accRepository(t, "buildkit")
	stepStart := regexp.MustCompile(`(?m)#\d+ \[\s*\d+/\d+\] RUN bash /opt/openhands-plan/plan.sh --steps preflight,`)
	stepOutput := regexp.MustCompile(`(?m)#\d+ \[\d+/\d+\] verify: done in \d+s`)
	// An option of this run's own changes plan.sh, the first layer: BuildKit's cache of an
	// earlier run serves nothing.
	extra := fmt.Sprintf("  buildkit = true\n  force_rebuild = true\n  environment_vars = [\"ACC_RUN=%d\"]", time.Now().UnixNano())
	var firstSteps int
	for i, name := range []string{"builder_buildkit", "builder_buildkit_cached"} {
		acctest.TestPlugin(t, &acctest.PluginTestCase{
			Name:     name,
			Template: builderTemplate(repo, src, extra, ""),
			Check: func(cmd *exec.Cmd, logfile string) error {
				if err := rig.BuildSucceeded(cmd, logfile); err != nil {
					return err
				}
				log := rig.ReadLog(t, logfile)
				steps, cached := summary(log)
				if steps <= 0 || !strings.Contains(log, "with BuildKit:") {
					return fmt.Errorf("no BuildKit build summary with steps in the log")
				}
				if i == 0 {
					firstSteps = steps
					if !stepStart.MatchString(log) || !stepOutput.MatchString(log) {
						return fmt.Errorf("the plan's steps and their output are not shown as BuildKit progress")
					}
					return nil
				}
				// Everything the first build ran comes from the cache but the base image.
				if steps != firstSteps || cached < steps-1 {
					return fmt.Errorf("the forced rebuild ran %d steps with %d from the cache; want %d steps, all but FROM cached", steps, cached, firstSteps)
				}
				return nil
			},
		})
	}
	rig.CheckRuntimeImage(t, repo+":acc")
}

var contentTagsLine = regexp.MustCompile(`Content tags: lock (oh_v\S+), source (oh_v\S+)`)

// TestAccBuilderRepublishedBase: a base image republished under the same name (here a
// derived image retagged locally, with pull = false) gets a new lock tag and a full build on
// it; the unchanged base before it built nothing the second time.
func TestAccBuilderRepublishedBase(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	repo, src := accRepository(t, "rebase")
	base := repo + "-base:bookworm" // removed with the repository's images; the rig's stays
	if _, err := rig.Docker("tag", rigEnv.BaseImage, base); err != nil {
		t.Fatal(err)
	}
	template := rig.BuilderTemplate(base, src, repo, "  tags = [\"acc\"]\n", "")
	// build runs the template and returns its lock tag and the build's log.
	build := func(name string) (lock, log string) {
		acctest.TestPlugin(t, &acctest.PluginTestCase{
			Name:     name,
			Template: template,
			Check: func(cmd *exec.Cmd, logfile string) error {
				if err := rig.BuildSucceeded(cmd, logfile); err != nil {
					return err
				}
				log = rig.ReadLog(t, logfile)
				m := contentTagsLine.FindStringSubmatch(log)
				if m == nil {
					return fmt.Errorf("no content tags in the output")
				}
				lock = m[1]
				return nil
			},
		})
		return lock, log
	}

	firstLock, _ := build("rebase_first")
	first := imageID(t, repo+":acc")
	if lock, log := build("rebase_unchanged"); lock != firstLock || !strings.Contains(log, "nothing to build") {
		t.Fatalf("the unchanged base: lock %s (first %s), want nothing built", lock, firstLock)
	}

	if err := rig.DeriveImage(rigEnv.BaseImage, base, "echo republished > /etc/openhands-acc-base"); err != nil {
		t.Fatal(err)
	}
	lock, log := build("rebase_republished")
	if lock == firstLock {
		t.Errorf("the republished base kept the lock tag %s", lock)
	}
	if steps, cached := summary(log); steps <= 0 || cached >= steps || strings.Contains(log, "nothing to build") {
		t.Errorf("the republished base: %d steps, %d from the cache; want a build on the new base", steps, cached)
	}
	if again := imageID(t, repo+":acc"); again == first {
		t.Errorf("the republished base gave the old image %s", first)
	}
}

// TestAccBuilderSystemPackagesOff builds, with no network, on a base image that lacks jq, one
// of the plan's system packages. With system_packages = false nothing is installed: the build
// passes and jq is still absent. With the default, the step must install jq, and its
// repository refresh cannot reach anything: the build fails in the system-packages step.
func TestAccBuilderSystemPackagesOff(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	repo, src := accRepository(t, "nopackages")
	base := repo + "-base:nojq"
	if err := rig.DeriveImage(rigEnv.BaseImage, base, "apt-get remove -y -qq jq >/dev/null"); err != nil {
		t.Fatal(err)
	}
	template := func(extra string) string {
		return rig.BuilderTemplate(base, src, repo, "  tags = [\"acc\"]\n"+extra, "")
	}
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "builder_system_packages_off",
		Template: template("  system_packages = false"),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			if log := rig.ReadLog(t, logfile); strings.Contains(log, "system-packages") {
				return fmt.Errorf("the build ran the system-packages step")
			}
			return nil
		},
	})
	if out := rig.InImage(t, repo+":acc", "root", "command -v jq || echo absent"); strings.TrimSpace(out) != "absent" {
		t.Errorf("jq is in the image (%q): something installed packages", out)
	}
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "builder_system_packages_on_offline",
		Template: template("  force_rebuild = true"),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildFailed(cmd, logfile); err != nil {
				return err
			}
			if log := rig.ReadLog(t, logfile); !strings.Contains(log, "missing: jq") {
				return fmt.Errorf("the failed build does not show the system-packages step looking for jq")
			}
			return nil
		},
	})
}

// TestAccBuilderRefusesProvisioners: a provisioner block in the build fails it before
// anything is built, with the reason and what to do instead; one that needs no communicator
// (shell-local) runs first and is seen by its output.
func TestAccBuilderRefusesProvisioners(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	for _, tc := range []struct{ name, provisioner, says string }{
		{"shell", "shell", "Error uploading script"},
		{"shell_local", "shell-local", "ran on the machine running Packer"},
	} {
		repo, src := accRepository(t, "provisioners-"+tc.name)
		acctest.TestPlugin(t, &acctest.PluginTestCase{
			Name:     "builder_refuses_provisioners_" + tc.name,
			Template: builderTemplate(repo, src, "", "  provisioner \""+tc.provisioner+"\" {\n    inline = [\"echo provisioned\"]\n  }"),
			Check: func(cmd *exec.Cmd, logfile string) error {
				if err := rig.BuildFailed(cmd, logfile); err != nil {
					return err
				}
				log := rig.ReadLog(t, logfile)
				for _, want := range []string{"provisioner blocks are attached to this source", tc.says, "runs no container for provisioners"} {
					if !strings.Contains(log, want) {
						return fmt.Errorf("the output does not say %q", want)
					}
				}
				if strings.Contains(log, "Content tags:") || strings.Contains(log, "Step 1/") {
					return fmt.Errorf("the build went on past the refusal")
				}
				return nil
			},
		})
	}
}
