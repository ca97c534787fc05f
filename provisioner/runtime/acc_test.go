package runtimeprovisioner

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
)

// rigEnv is set by TestMain when acceptance tests run (PACKER_ACC set).
var rigEnv *rig.Env

func TestMain(m *testing.M) { os.Exit(rig.Main(m, &rigEnv)) }

// accTemplate is a docker build (offline container) with the provisioner and a docker-tag; the
// committed image gets the launch environment, as the docs' templates do.
func accTemplate(t *testing.T, baseImage, runArgs, provisionerBody, tag string) string {
	t.Helper()
	return accTemplateFrom(t, copyFixture(t), baseImage, runArgs, provisionerBody, tag)
}

// copyFixture copies the fixture source for one build, which may change it.
func copyFixture(t *testing.T) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "openhands-src")
	if _, err := exec.Command("cp", "-r", rig.FixtureSourceDir(), src).CombinedOutput(); err != nil {
		t.Fatal(err)
	}
	return src
}

// standinAttributes is rig.StandinAttributes for a provisioner block.
func standinAttributes(t *testing.T) string {
	t.Helper()
	standins, err := rig.StandinAttributes("    ")
	if err != nil {
		t.Fatal(err)
	}
	return standins
}

// accTemplateFrom is accTemplate on the checkout src.
func accTemplateFrom(t *testing.T, src, baseImage, runArgs, provisionerBody, tag string) string {
	t.Helper()
	body := fmt.Sprintf("    source_dir      = %q\n%s%s", src, standinAttributes(t), provisionerBody)
	return dockerTemplate(baseImage, runArgs, rig.DockerChanges(), body, tag)
}

// dockerTemplate is a build of the provisioner (attributes body) in a docker source of
// baseImage run with runArgs and committed with changes, tagged tag:acc.
func dockerTemplate(baseImage, runArgs, changes, body, tag string) string {
	return fmt.Sprintf(`
source "docker" "acc" {
  image       = %q
  pull        = false
  commit      = true
  run_command = ["-d", "-i", "-t", %s, "--", "{{.Image}}"]
  changes     = %s
}

build {
  sources = ["source.docker.acc"]

  provisioner "openhands-runtime" {
%s
  }

  post-processor "docker-tag" {
    repository = %q
    tags       = ["acc"]
  }
}
`, baseImage, runArgs, changes, body, tag)
}

const offlineRun = `"--network=none"`

func TestAccProvisionerDockerTwice(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	first, second := "openhands-acc-first", "openhands-acc-second"
	t.Cleanup(func() { rig.RemoveImages(first+":acc", second+":acc") })

	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "provisioner_docker_first",
		Template: accTemplate(t, rigEnv.BaseImage, offlineRun, "", first),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			log := rig.ReadLog(t, logfile)
			for _, want := range []string{"verification passed", "[11/15] dependencies: done in", "check package count: ok"} {
				if !strings.Contains(log, want) {
					return fmt.Errorf("the build output lacks %q", want)
				}
			}
			return nil
		},
	})

	image := first + ":acc"
	rig.CheckRuntimeImage(t, image)
	rig.LaunchImage(t, image)

	// The image it produced, provisioned again: every heavy step is skipped by its check. The
	// deeper opt-in check starts the server with its plugins inside the container.
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "provisioner_docker_second",
		Template: accTemplate(t, image, offlineRun, "    verify {\n      start_server = true\n    }\n", second),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			log := rig.ReadLog(t, logfile)
			for _, step := range []string{"system-packages", "uv", "user", "micromamba", "python-env", "vscode-server", "code", "lock", "dependencies", "browser", "environment", "cleanup"} {
				if !regexp.MustCompile(`\] ` + regexp.QuoteMeta(step) + `: skipped \(already done\)`).MatchString(log) {
					return fmt.Errorf("step %s was not skipped on the second run", step)
				}
			}
			if !strings.Contains(log, "verification passed") {
				return fmt.Errorf("the second run did not pass verification")
			}
			if !regexp.MustCompile(`check server alive: ok \(GET /alive answered 200 on port [0-9]+ \(plugins agent_skills jupyter vscode\)\)`).MatchString(log) {
				return fmt.Errorf("the server did not start with its plugins in the second run")
			}
			return nil
		},
	})
}

func TestAccProvisionerRefusesUnsupportedPlatform(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	alpine := "openhands-acc-alpine-release:latest"
	osRelease := "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME=\"Alpine Linux v3.20\"\n"
	if err := rig.DeriveImage(rigEnv.BaseImage, alpine, fmt.Sprintf("rm -f /etc/os-release && printf '%s' > /etc/os-release", osRelease)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rig.RemoveImages(alpine, "openhands-acc-alpine:acc") })
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "provisioner_unsupported_platform",
		Template: accTemplate(t, alpine, offlineRun, "", "openhands-acc-alpine"),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildFailed(cmd, logfile); err != nil {
				return err
			}
			log := rig.ReadLog(t, logfile)
			for _, want := range []string{`unsupported platform: /etc/os-release has ID="alpine" VERSION_ID="3.20.3"`, `step "preflight" failed`} {
				if !strings.Contains(log, want) {
					return fmt.Errorf("the build output lacks %q", want)
				}
			}
			if strings.Contains(log, "[2/15]") {
				return fmt.Errorf("a step ran after the platform was refused")
			}
			return nil
		},
	})
}

func TestAccProvisionerChecksumMismatch(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	// A download server on loopback; the container shares the host's network to reach it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "#!/bin/sh\necho not the real uv\n")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	wrong := strings.Repeat("ab", 32)
	tmpl := accTemplate(t, rigEnv.BaseImage, `"--network=host"`, "", "openhands-acc-checksum")
	tmpl = strings.Replace(tmpl, fmt.Sprintf("uv_path            = %q", filepath.Join(rig.StandinsDir(), "uv")),
		fmt.Sprintf("uv_url = \"http://%s/uv\"\n    uv_sha256 = %q\n    network_retries = 0", ln.Addr(), wrong), 1)
	t.Cleanup(func() { rig.RemoveImages("openhands-acc-checksum:acc") })
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "provisioner_checksum_mismatch",
		Template: tmpl,
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildFailed(cmd, logfile); err != nil {
				return err
			}
			log := rig.ReadLog(t, logfile)
			got := "expected sha256 " + wrong + ", got "
			for _, want := range []string{got, `step "uv" failed`} {
				if !strings.Contains(log, want) {
					return fmt.Errorf("the build output lacks %q", want)
				}
			}
			return nil
		},
	})
}

// TestAccProvisionerRealInstall installs the fixture checkout's real dependencies (its
// pyproject.toml, about 390 distributions from PyPI) with the real uv, through the rig's
// local index on 127.0.0.1, on Debian 13's Python 3.13: the air-gapped mirror path, for
// real. The fixture's poetry.lock pins the uv stand-in's wheels, so it is left out and the
// real uv resolves. micromamba stays a stand-in (conda-forge cannot be reached here), and so
// does openvscode-server (GitHub releases); Playwright's browser host cannot be reached, so
// the browser step is off.
func TestAccProvisionerRealInstall(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	src := copyFixture(t)
	if err := os.Remove(filepath.Join(src, "poetry.lock")); err != nil {
		t.Fatal(err)
	}
	const image = "openhands-acc-real"
	real, err := rig.RealInstallAttributes(rigEnv, "    ")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := strings.Replace(accTemplateFrom(t, src, rigEnv.TrixieImage, `"--network=host"`, "", image), standinAttributes(t), real, 1)
	t.Cleanup(func() { rig.RemoveImages(image + ":acc") })
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "provisioner_real_install",
		Template: tmpl,
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			log := rig.ReadLog(t, logfile)
			for _, want := range []string{"verification passed", "check package count: ok"} {
				if !strings.Contains(log, want) {
					return fmt.Errorf("the build output lacks %q", want)
				}
			}
			// The real uv is in the image, and what it installed came from PyPI: real
			// distributions with their own version strings, none from the stand-in's index.
			got := rig.InImage(t, image+":acc", "openhands", `set -e
/openhands/bin/uv --version
py=/openhands/micromamba/envs/openhands/bin/python
$py -c 'import sys; print(sys.version_info[:2] >= (3, 13))'
/openhands/bin/uv pip list --python "$py" --format freeze >/tmp/freeze 2>/dev/null
wc -l </tmp/freeze
grep -c standin /tmp/freeze || true
$py -c 'import litellm, pydantic, openai, jupyterlab; print("real imports ok")'`)
			lines := strings.Split(got, "\n")
			if len(lines) != 5 || !strings.HasPrefix(lines[0], "uv 0.12.16 ") || lines[1] != "True" || lines[3] != "0" || lines[4] != "real imports ok" {
				return fmt.Errorf("the image holds:\n%s\nwant uv 0.12.16, Python 3.13, no stand-in distribution, the real imports", got)
			}
			if n, err := strconv.Atoi(lines[2]); err != nil || n < 300 {
				return fmt.Errorf("%s distributions installed, want at least 300", lines[2])
			}
			return nil
		},
	})
}

// TestAccProvisionerPlantedLinkOnRerun: the runtime user owns the prefix, so on a second run
// a link it planted there (logs -> /etc, .bashrc -> /etc/shadow) must not make root chown or
// write the link's target: the run stops at the link, naming it, in the directories step's
// first command, before anything is installed or chowned (the rc-file writers' refusal of a
// linked .bashrc is TestLibRefusesPlantedLinks).
func TestAccProvisionerPlantedLinkOnRerun(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	const first, planted, second = "openhands-acc-links", "openhands-acc-links-planted:acc", "openhands-acc-links-second"
	t.Cleanup(func() { rig.RemoveImages(first+":acc", planted, second+":acc") })
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "provisioner_links_first",
		Template: accTemplate(t, rigEnv.BaseImage, offlineRun, "", first),
		Check:    rig.BuildSucceeded,
	})
	if err := rig.DeriveImage(first+":acc", planted, `set -e
su openhands -s /bin/sh -c 'rm -rf /openhands/logs && ln -s /etc /openhands/logs && rm -f /home/openhands/.bashrc && ln -s /etc/shadow /home/openhands/.bashrc'`); err != nil {
		t.Fatal(err)
	}
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "provisioner_links_second",
		Template: accTemplate(t, planted, offlineRun, "", second),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildFailed(cmd, logfile); err != nil {
				return err
			}
			log := rig.ReadLog(t, logfile)
			for _, want := range []string{"/openhands/logs is a symbolic link (to /etc), which root will not follow", `step "directories" failed`} {
				if !strings.Contains(log, want) {
					return fmt.Errorf("the build output lacks %q", want)
				}
			}
			return nil
		},
	})
}

// TestAccProvisionerStalledDownload: a mirror on 127.0.0.1 that accepts connections and never
// answers fails the build once download_stall_timeout passes without data, naming the
// download and the step, instead of holding the build for ever.
func TestAccProvisionerStalledDownload(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	addr := fixture.StalledServer(t)
	tmpl := accTemplate(t, rigEnv.BaseImage, `"--network=host"`, "", "openhands-acc-stalled")
	tmpl = strings.Replace(tmpl, fmt.Sprintf("uv_path            = %q", filepath.Join(rig.StandinsDir(), "uv")),
		fmt.Sprintf("uv_url = \"http://%s/uv.tar.gz\"\n    uv_sha256 = %q\n    network_retries = 0\n    download_stall_timeout = \"5s\"", addr, strings.Repeat("ab", 32)), 1)
	t.Cleanup(func() { rig.RemoveImages("openhands-acc-stalled:acc") })
	start := time.Now()
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "provisioner_stalled_download",
		Template: tmpl,
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildFailed(cmd, logfile); err != nil {
				return err
			}
			// The steps before uv take seconds; a hung download would take until the test's timeout.
			if d := time.Since(start); d > 3*time.Minute {
				return fmt.Errorf("the build took %s to fail", d)
			}
			log := rig.ReadLog(t, logfile)
			for _, want := range []string{fmt.Sprintf("download of http://%s/uv.tar.gz timed out", addr), "no data for 5s", `step "uv" failed`} {
				if !strings.Contains(log, want) {
					return fmt.Errorf("the build output lacks %q", want)
				}
			}
			return nil
		},
	})
}

func TestAccProvisionerValidateReportsEveryBadValue(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	dir := t.TempDir()
	tmpl := `
source "docker" "acc" {
  image  = "debian:bookworm"
  commit = true
}
build {
  sources = ["source.docker.acc"]
  provisioner "openhands-runtime" {
    source_dir     = "/nonexistent/openhands"
    prefix         = "relative/path"
    python_version = "three"
    platform       = "alpine-3.20"
    uv_url         = "https://example.invalid/uv.tar.gz"
  }
}
`
	path := filepath.Join(dir, "bad.pkr.hcl")
	if err := os.WriteFile(path, []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(rigEnv.Packer, "validate", path).CombinedOutput()
	if err == nil {
		t.Fatalf("packer validate accepted a bad configuration:\n%s", out)
	}
	for _, want := range []string{"source_dir:", `"/nonexistent/openhands" does not exist`, "prefix:", "python_version:", "platform:", "uv_sha256: required"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("packer validate output lacks %q:\n%s", want, out)
		}
	}
}

// sudoImage is the base image with the login users of a cloud image: ec2-user (UID 1000,
// passwordless sudo, as on Amazon Linux 2023 AMIs) and intern (UID 1001, sudo with a password).
func sudoImage(t *testing.T) string {
	t.Helper()
	image := "openhands-acc-sudo-base:latest"
	script := `set -e
useradd -m -u 1000 -s /bin/bash ec2-user
echo 'ec2-user ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/90-cloud-init-users
chmod 0440 /etc/sudoers.d/90-cloud-init-users
useradd -m -u 1001 -s /bin/bash -G sudo intern`
	if err := rig.DeriveImage(rigEnv.BaseImage, image, script); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rig.RemoveImages(image) })
	return image
}

func withExecUser(tmpl, user string) string {
	return strings.Replace(tmpl, "  pull        = false\n", fmt.Sprintf("  pull        = false\n  exec_user   = %q\n", user), 1)
}

func TestAccProvisionerThroughSudo(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	base := sudoImage(t)
	loginUser := func(image string) string {
		return rig.InImage(t, image, "", "getent passwd ec2-user; id ec2-user; cat /etc/sudoers.d/90-cloud-init-users")
	}
	before := loginUser(base)
	tag := "openhands-acc-sudo"
	t.Cleanup(func() { rig.RemoveImages(tag + ":acc") })
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "provisioner_through_sudo",
		Template: withExecUser(accTemplate(t, base, offlineRun, "", tag), "ec2-user"),
		Check:    rig.VerifiedBuild(t),
	})
	image := tag + ":acc"
	if after := loginUser(image); after != before {
		t.Errorf("the login user changed:\nbefore\n%s\nafter\n%s", before, after)
	}
	if got := rig.InImage(t, image, "", "id -u openhands; id -g openhands"); got != "1002\n1002" {
		t.Errorf("openhands should take the next free ids after 1000 and 1001, got %q", got)
	}
	if got := rig.InImage(t, image, "", "find /openhands /home/openhands ! -user openhands | head -n 3"); got != "" {
		t.Errorf("files not owned by openhands: %s", got)
	}
}

func TestAccProvisionerSudoNeedsPassword(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	base := sudoImage(t)
	t.Cleanup(func() { rig.RemoveImages("openhands-acc-intern:acc") })
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "provisioner_sudo_needs_password",
		Template: withExecUser(accTemplate(t, base, offlineRun, "", "openhands-acc-intern"), "intern"),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildFailed(cmd, logfile); err != nil {
				return err
			}
			want := "the login user intern is not root and cannot run sudo without a password"
			if !strings.Contains(rig.ReadLog(t, logfile), want) {
				return fmt.Errorf("the build output lacks %q", want)
			}
			return nil
		},
	})
}

// TestAccProvisionerTakesUID1000 provisions a base image whose UID and GID 1000 belong to
// another user, as in nikolaik/python-nodejs (pn) and ubuntu:24.04 (ubuntu): OpenHands'
// launcher passes --user-id 1000, so in a container image that user is removed and the runtime
// user takes 1000; keep_uid_owner keeps it and the runtime user takes the next free id.
func TestAccProvisionerTakesUID1000(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	base := "openhands-acc-pn-base:latest"
	if err := rig.DeriveImage(rigEnv.BaseImage, base, "groupadd -g 1000 pn && useradd -m -u 1000 -g 1000 -s /bin/bash pn"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rig.RemoveImages(base, "openhands-acc-uid:acc", "openhands-acc-keep-uid:acc") })
	for _, tc := range []struct {
		name, body, tag, ids, pn string
	}{
		{"pn removed", "", "openhands-acc-uid", "1000\n1000", ""},
		{"pn kept", "    keep_uid_owner = true\n", "openhands-acc-keep-uid", "1001\n1001", "pn:x:1000:1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acctest.TestPlugin(t, &acctest.PluginTestCase{
				Name:     "provisioner_uid_" + strings.ReplaceAll(tc.name, " ", "_"),
				Template: accTemplate(t, base, offlineRun, tc.body, tc.tag),
				Check:    rig.VerifiedBuild(t),
			})
			image := tc.tag + ":acc"
			if got := rig.InImage(t, image, "", "id -u openhands; id -g openhands"); got != tc.ids {
				t.Errorf("openhands ids %q, want %q", got, tc.ids)
			}
			if got := rig.InImage(t, image, "", "getent passwd pn | cut -d: -f1-4 || true"); got != tc.pn {
				t.Errorf("getent passwd pn = %q, want %q", got, tc.pn)
			}
			if got := rig.InImage(t, image, "", "find /openhands /home/openhands ! -user openhands | head -n 3"); got != "" {
				t.Errorf("files not owned by openhands: %s", got)
			}
		})
	}
	rig.LaunchImage(t, "openhands-acc-uid:acc")
}

// TestAccProvisionerInstallsMissingPackages runs the system-packages step's real install path:
// a base image that lacks jq and ffmpeg, whose apt reads only a local repository of stand-in
// packages mounted into the offline container. The plan finds them missing, refreshes the
// package lists, installs them with apt-get and cleans the lists again.
func TestAccProvisionerInstallsMissingPackages(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	repo := t.TempDir()
	if err := rig.LocalAptRepo(repo, map[string]string{
		"jq":     "#!/bin/sh\necho stand-in jq\n",
		"ffmpeg": "#!/bin/sh\necho stand-in ffmpeg\n",
	}); err != nil {
		t.Fatal(err)
	}
	base := "openhands-acc-no-jq:latest"
	if err := rig.DeriveImage(rigEnv.BaseImage, base, "dpkg --purge jq ffmpeg >/dev/null && "+rig.AptSourcesScript); err != nil {
		t.Fatal(err)
	}
	tag := "openhands-acc-packages"
	t.Cleanup(func() { rig.RemoveImages(base, tag+":acc") })
	runArgs := fmt.Sprintf(`"--network=none", "-v", "%s:%s:ro"`, repo, rig.AptRepoMount)
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "provisioner_installs_missing_packages",
		Template: accTemplate(t, base, runArgs, "", tag),
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.VerifiedBuild(t)(cmd, logfile); err != nil {
				return err
			}
			if log := rig.ReadLog(t, logfile); !strings.Contains(log, "missing: jq ffmpeg") {
				return fmt.Errorf("the system-packages step did not find jq and ffmpeg missing")
			}
			return nil
		},
	})
	got := rig.InImage(t, tag+":acc", "", "jq; ffmpeg; dpkg-query -W -f='${Version}\\n' jq; ls /var/lib/apt/lists | grep -c oh-test-repo || true")
	if want := "stand-in jq\nstand-in ffmpeg\n99.0-ohtest\n0"; got != want {
		t.Errorf("in the image: %q, want %q", got, want)
	}
}
