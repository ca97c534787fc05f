package plan

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
)

var update = flag.Bool("update", false, "rewrite plan/testdata/golden/*.sh from the current renderer")

// goldenPassword is the index_url password of the offline variant.
const goldenPassword = "s3cr3t-Golden-pw"

// goldenInputs are fixed digests, so that goldens do not depend on any file on disk.
var goldenInputs = Inputs{
	DependencyFiles: "1111111111111111111111111111111111111111111111111111111111111111",
	SourceTree:      "2222222222222222222222222222222222222222222222222222222222222222",
}

// scriptVariant is one set of options whose script every script test renders and runs
// shellcheck on; variants with golden set are also compared with testdata/golden/<name>.sh.
type scriptVariant struct {
	name   string
	golden bool
	// options returns the variant's options; dir is a temp dir for files it needs.
	options func(t *testing.T, dir string) Options
	inputs  Inputs
}

var scriptVariants = []scriptVariant{
	{
		name:   "agent-server",
		golden: true,
		options: func(t *testing.T, dir string) Options {
			return Options{Layout: Layout{Runtime: RuntimeAgentServer, AgentServerVersion: "1.58.2"}}
		},
	},
	{
		name:    "agent-server-checkout",
		golden:  true,
		options: agentServerCheckoutOptions,
		inputs:  goldenInputs,
	},
	{
		name:    "auto-defaults",
		golden:  true,
		options: func(t *testing.T, dir string) Options { return Options{} },
		inputs:  goldenInputs,
	},
	{
		name:   "no-browser-no-sudo",
		golden: true,
		options: func(t *testing.T, dir string) Options {
			return Options{
				Platform: "debian-12",
				Layout: Layout{
					InstallBrowser: boolPtr(false),
				},
				PasswordlessSudo: boolPtr(false),
				SkipVerify:       true,
			}
		},
		inputs: goldenInputs,
	},
	{
		name:   "offline",
		golden: true,
		options: func(t *testing.T, dir string) Options {
			return Options{
				Platform: "ubuntu-24.04",
				Layout: Layout{
					Prefix:        "/srv/openhands",
					User:          "agent",
					PythonVersion: "3.11",
					Verify: Verify{
						Imports:     []string{"openhands", "playwright"},
						MinPackages: intPtr(250),
						StartServer: boolPtr(true),
						Commands:    []string{`test -x "$OH_PREFIX/bin/uv"`, `echo "it's $(id -un)"`},
					},
				},
				UID:                 intPtr(2000),
				MicromambaPath:      fixture.WriteFile(t, dir, "micromamba", "micromamba binary\n", 0o755),
				UVPath:              fixture.WriteFile(t, dir, "uv", "uv binary\n", 0o755),
				ChannelAlias:        "https://artifactory.internal/artifactory/api/conda",
				IndexURL:            "https://builder:" + goldenPassword + "@pypi.internal/simple",
				ExtraIndexURLs:      []string{"https://torch.internal/whl/cpu", "http://wheels.internal:8080/simple"},
				ExtraPipPackages:    []string{"notebook>=7", "flake8"},
				ExtraSystemPackages: []string{"ffmpeg"},
				EnvironmentVars: []string{"HTTPS_PROXY=http://proxy.internal:3128", "NO_PROXY=localhost,.internal", "MOTD=it's offline",
					"ALL_PROXY=socks5://builder:" + goldenPassword + "@socks.internal:1080"},
				SecretEnvironmentVars: []string{"API_TOKEN=" + goldenPassword},
				NetworkRetries:        intPtr(5),
				MinFreeDiskGB:         intPtr(0),
			}
		},
		inputs: Inputs{
			DependencyFiles: goldenInputs.DependencyFiles,
			SourceTree:      goldenInputs.SourceTree,
			Supplied: map[string]string{
				"micromamba": "3333333333333333333333333333333333333333333333333333333333333333",
				"uv":         "4444444444444444444444444444444444444444444444444444444444444444",
			},
		},
	},
	{
		// Air-gapped AMIs of both architectures: each architecture's micromamba in the bundle,
		// uv supplied for x86_64 and downloaded with credentials for aarch64, the
		// openvscode-server sum of each; the script takes the detected architecture's.
		name:   "by-platform",
		golden: true,
		options: func(t *testing.T, dir string) Options {
			return Options{
				Platform: "debian-12",
				MicromambaPathByPlatform: map[string]string{
					"linux/amd64": fixture.WriteFile(t, dir, "x86_64/micromamba", "micromamba x86_64\n", 0o755),
					"linux/arm64": fixture.WriteFile(t, dir, "aarch64/micromamba", "micromamba aarch64\n", 0o755),
				},
				UVPath:                       fixture.WriteFile(t, dir, "uv", "uv x86_64\n", 0o755),
				UVURLByPlatform:              map[string]string{"linux/arm64": "https://builder:" + goldenPassword + "@mirror.internal/uv-aarch64.tar.gz"},
				UVSHA256ByPlatform:           map[string]string{"linux/arm64": strings.Repeat("7", 64)},
				VSCodeServerSHA256ByPlatform: map[string]string{"linux/amd64": strings.Repeat("8", 64), "linux/arm64": strings.Repeat("9", 64)},
			}
		},
		inputs: Inputs{
			DependencyFiles: goldenInputs.DependencyFiles,
			SourceTree:      goldenInputs.SourceTree,
			Supplied: map[string]string{
				"micromamba/x86_64":  "3333333333333333333333333333333333333333333333333333333333333333",
				"micromamba/aarch64": "6666666666666666666666666666666666666666666666666666666666666666",
				"uv/x86_64":          "4444444444444444444444444444444444444444444444444444444444444444",
			},
		},
	},
}

// pinnedVariant installs pinned to OpenHands 0.62's lock (trimmed), hashes not checked. It
// has no golden: what the lock adds is asserted by TestLockSteps, TestLockShippedWithThePlan,
// TestPlanStepOrder and the locked-versions cases of TestVerifyScriptPythonChecks.
var pinnedVariant = scriptVariant{
	name: "pinned",
	options: func(t *testing.T, dir string) Options {
		return Options{Platform: "debian-12", SourceDir: copyLockPair(t, realPair, dir), LockVerifyHashes: boolPtr(false)}
	},
	inputs: Inputs{
		DependencyFiles: goldenInputs.DependencyFiles,
		SourceTree:      goldenInputs.SourceTree,
		Lock:            "5555555555555555555555555555555555555555555555555555555555555555",
	},
}

// A variant per supported platform. Only the family's goldens are kept (the platforms of a
// family differ in their os-release case only, which the detection test covers).
func init() {
	scriptVariants = append(scriptVariants, pinnedVariant)
	for _, p := range Platforms {
		key := p.Key()
		scriptVariants = append(scriptVariants, scriptVariant{
			name:    key,
			golden:  key == "amzn-2023",
			options: func(t *testing.T, dir string) Options { return Options{Platform: key} },
			inputs:  goldenInputs,
		})
	}
}

// renderVariant prepares the variant's options and renders its plan; it also returns the
// local paths that must never appear in the script.
func renderVariant(t *testing.T, v scriptVariant) (*Plan, string, []string) {
	t.Helper()
	dir := t.TempDir()
	o := v.options(t, dir)
	if o.SourceDir == "" && o.Runtime != RuntimeAgentServer {
		o.SourceDir = fixture.SourceDir(t)
	}
	withVSCodeServerSHA256(&o)
	if errs := o.Prepare(); len(errs) != 0 {
		t.Fatalf("Prepare: %v", errs)
	}
	p := New(o, v.inputs)
	return p, p.Script("test"), []string{o.SourceDir, dir}
}

// goldenMarkers stand for the parts of a script that are the same in every one and reviewed
// as themselves, each with its own tests: the shell library, the Python checks' runner and
// the poetry shim (in the environment step's here-document, indented with the step).
var goldenMarkers = []struct{ text, marker string }{
	{libShell, "# ... plan/lib.sh, embedded verbatim ...\n"},
	{pythonProbeHeader, "# ... pythonProbeHeader of plan/checks.go, embedded verbatim ...\n"},
	{indent(strings.TrimSuffix(poetryShim, "\n"), "\t\t"), "\t\t# ... poetryShim of plan/launch.go, embedded verbatim ..."},
}

func TestScriptGolden(t *testing.T) {
	for _, v := range scriptVariants {
		if !v.golden {
			continue
		}
		t.Run(v.name, func(t *testing.T) {
			p, script, _ := renderVariant(t, v)
			for _, m := range goldenMarkers {
				if m.marker == goldenMarkers[2].marker && p.Options.Runtime != RuntimeActionServer {
					continue // the shim is the action server's
				}
				if strings.Count(script, m.text) != 1 {
					t.Fatalf("the script does not embed once what %q stands for", m.marker)
				}
				script = strings.Replace(script, m.text, m.marker, 1)
			}
			golden := filepath.Join("testdata", "golden", v.name+".sh")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(script), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./plan -run Golden -update)", err)
			}
			if script != string(want) {
				t.Errorf("script differs from %s (run go test ./plan -run Golden -update and review the diff):\n%s",
					golden, firstDifference(string(want), script))
			}
		})
	}
}

// firstDifference shows the first differing line of two texts, with its line number.
func firstDifference(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, w, g)
		}
	}
	return "(no line differs)"
}

var (
	// poetryCommand is Poetry used as a command; the plan installs Poetry but never runs it
	// (it cannot parse the Amazon Linux 2023 kernel release).
	poetryCommand = regexp.MustCompile(`(?i)poetry\s+(install|run|export|lock|build|add|update|sync)\b`)
	poetryRun     = regexp.MustCompile(`(?i)poetry\s+run`)
	aptGet        = regexp.MustCompile(`\bapt-get\b`)
	dnfCommand    = regexp.MustCompile(`\bdnf\b`)
)

func TestScriptProperties(t *testing.T) {
	for _, v := range scriptVariants {
		t.Run(v.name, func(t *testing.T) {
			p, script, localPaths := renderVariant(t, v)

			for _, local := range localPaths {
				if local != "" && strings.Contains(script, local) {
					t.Errorf("the script holds the local path %s", local)
				}
			}
			// Two texts name `poetry run` on purpose: the shim that makes it run without Poetry,
			// and the launch check that runs OpenHands' launcher line through that shim.
			rest := strings.Replace(script, indent(strings.TrimSuffix(poetryShim, "\n"), "\t\t"), "", 1)
			rest = strings.ReplaceAll(rest, launcherCommand(p.Options), "")
			if p.Options.Runtime == RuntimeActionServer && (rest == script || !strings.Contains(script, launcherCommand(p.Options))) {
				t.Error("the script lacks the poetry shim or the launch check")
			}
			if m := poetryCommand.FindString(rest); m != "" {
				t.Errorf("the script invokes poetry: %q", m)
			}
			if m := poetryRun.FindString(rest); m != "" {
				t.Errorf("the script invokes poetry run: %q", m)
			}
			if strings.Contains(script, "uname -r") || strings.Contains(script, "uname -a") {
				t.Error("the script reads the kernel release")
			}
			if !strings.HasSuffix(script, "\noh_main \"$@\"\n") {
				t.Error("the script does not end with oh_main \"$@\"")
			}

			switch v.name {
			case "amzn-2023":
				for _, want := range []string{"dnf", "--allowerasing", "wheel", "/etc/bashrc", "python -m playwright install chromium", "mesa-libgbm"} {
					if !strings.Contains(script, want) {
						t.Errorf("the amzn-2023 script does not contain %q", want)
					}
				}
				if aptGet.MatchString(script) {
					t.Error("the amzn-2023 script contains apt-get")
				}
				if strings.Contains(script, "install --with-deps") {
					t.Error("the amzn-2023 script uses playwright --with-deps, which only knows apt")
				}
			case "debian-12", "ubuntu-22.04", "offline":
				if m := dnfCommand.FindString(script); m != "" {
					t.Errorf("the %s script contains dnf", v.name)
				}
				for _, want := range []string{"apt-get", "/etc/bash.bashrc", "OH_ADMIN_GROUP=sudo"} {
					if !strings.Contains(script, want) {
						t.Errorf("the %s script does not contain %q", v.name, want)
					}
				}
			case "auto-defaults":
				for _, pl := range Platforms {
					if !strings.Contains(script, "\t"+pl.ID+":"+pl.VersionID+") ") {
						t.Errorf("the auto script does not detect %s", pl.Key())
					}
				}
				for _, want := range []string{"apt-get", "dnf", "--allowerasing", "oh_define_family_helpers"} {
					if !strings.Contains(script, want) {
						t.Errorf("the auto script does not contain %q", want)
					}
				}
			case "no-browser-no-sudo":
				for _, absent := range []string{"playwright install", "NOPASSWD", "oh_step_verify", "oh_step_browser"} {
					if strings.Contains(script, absent) {
						t.Errorf("the script contains %q", absent)
					}
				}
				if !strings.Contains(script, `rm -f "/etc/sudoers.d/$OH_USER"`) {
					t.Error("the script does not remove a sudoers drop-in left by an earlier run")
				}
			}
			if v.name != "no-browser-no-sudo" && !strings.Contains(script, "visudo -cf") {
				t.Error("the sudoers drop-in is not checked with visudo")
			}

			// Every step is run, in order, as `oh_run_step N name`.
			names := p.StepNames()
			if len(names) == 0 {
				t.Fatal("no steps")
			}
			runs := regexp.MustCompile(`(?m)^\toh_run_step (\d+) (\S+) `).FindAllStringSubmatch(script, -1)
			if len(runs) != len(names) {
				t.Fatalf("%d oh_run_step lines for %d steps %v", len(runs), len(names), names)
			}
			for i, name := range names {
				if runs[i][1] != fmt.Sprint(i+1) || runs[i][2] != string(name) {
					t.Errorf("run %d is %q %q, want %d %q", i, runs[i][1], runs[i][2], i+1, name)
				}
				if !strings.Contains(script, "oh_step_"+strings.ReplaceAll(string(name), "-", "_")+"_run() {") {
					t.Errorf("step %s has no run function", name)
				}
			}
			if !strings.Contains(script, fmt.Sprintf("export OH_STEP_COUNT=%d\n", len(names))) {
				t.Errorf("OH_STEP_COUNT is not %d", len(names))
			}

			if v.name == "offline" {
				checkOfflineScript(t, script)
			}
		})
	}
}

func checkOfflineScript(t *testing.T, script string) {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(script, "\n") {
		if strings.Contains(l, goldenPassword) {
			lines = append(lines, l)
		}
	}
	// The password is in the bundle's secrets file only.
	if len(lines) != 0 {
		t.Errorf("the password appears in the script on %q", lines)
	}
	// Set by the secrets file, exported for the dependency step alone; the secret environment
	// variables are the secrets file's alone.
	if !strings.Contains(script, "\nOH_INDEX_URL=''\n") {
		t.Errorf("OH_INDEX_URL is not left empty and unexported in the script")
	}
	for _, bad := range []string{"API_TOKEN", "ALL_PROXY"} {
		if strings.Contains(script, bad) {
			t.Errorf("the script names the secret environment variable %s", bad)
		}
	}
	for _, want := range []string{
		`oh_install_binary uv "$OH_BUNDLE/bin/uv"`,
		`oh_install_binary micromamba "$OH_BUNDLE/bin/micromamba"`,
		"export OH_CHANNEL_ALIAS='https://artifactory.internal/artifactory/api/conda'\n",
		"export OH_EXTRA_INDEX_URLS='https://torch.internal/whl/cpu http://wheels.internal:8080/simple'\n",
		"export OH_EXTRA_PIP_PACKAGES='notebook>=7 flake8'\n",
		"export HTTPS_PROXY='http://proxy.internal:3128'\n",
		"export NO_PROXY='localhost,.internal'\n",
		`export MOTD='it'\''s offline'` + "\n",
		"export OH_PREFIX='/srv/openhands'\n",
		"export OH_USER='agent'\n",
		"export OH_UID='2000'\n",
		"export OH_PYTHON_VERSION='3.11'\n",
		"export OH_NETWORK_RETRIES=5\n",
		"ffmpeg",
		`eval $'test -x "$OH_PREFIX/bin/uv"'`,
		`eval $'echo "it\'s $(id -un)"'`,
		"check command 2",
		"at least 250 wanted",
		`m = importlib.import_module("playwright")`,
		`report(1, check_1)`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("the offline script does not contain %q", want)
		}
	}
}

func TestScriptShellSyntax(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	shellcheck, scErr := exec.LookPath("shellcheck")
	if scErr != nil && os.Getenv("PACKER_ACC") != "" {
		t.Fatal("shellcheck is not on PATH (make test requires it: make rig installs it)")
	} else if scErr != nil {
		t.Log("shellcheck is not on PATH: only bash -n runs (make test requires it)")
	}
	for _, v := range scriptVariants {
		t.Run(v.name, func(t *testing.T) {
			_, script, _ := renderVariant(t, v)
			path := filepath.Join(t.TempDir(), v.name+".sh")
			if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("bash", "-n", path).CombinedOutput(); err != nil {
				t.Errorf("bash -n: %v\n%s", err, out)
			}
			if scErr != nil {
				return
			}
			cmd := exec.Command(shellcheck, "-s", "bash", "-S", "warning", path)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Errorf("shellcheck: %v\n%s", err, out.String())
			}
		})
	}
}

// TestScriptDetection runs the rendered oh_detect_platform against every os-release fixture
// with bash: the script and Go's Detect must agree.
func TestScriptDetection(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	// The detection fills in the tools' pinned URLs, which the harness declares empty.
	var toolURLsUnset string
	for _, tool := range Tools {
		toolURLsUnset += tool.shellName() + "_URL= "
	}
	for _, v := range scriptVariants {
		if v.name == "offline" || v.name == "no-browser-no-sudo" {
			continue // same detection as ubuntu-24.04 and auto-defaults
		}
		t.Run(v.name, func(t *testing.T) {
			p, script, _ := renderVariant(t, v)
			// And each architecture's URL and sum of a tool with per-platform entries, whose
			// supplied files are in the bundle.
			unset := toolURLsUnset + "OH_BUNDLE= "
			for _, tool := range Tools {
				for _, pv := range tool.platformVariables(p.Options) {
					unset += pv[0] + "= "
				}
			}
			targets := map[string]bool{}
			for _, pl := range p.Targets() {
				targets[pl.Key()] = true
			}
			// The function reads /etc/os-release; the harness points it at a fixture.
			start := strings.Index(script, "oh_detect_platform() {")
			end := strings.Index(script[start:], "\n}\n")
			fn := strings.ReplaceAll(script[start:start+end+3], "/etc/os-release", `"$OS_RELEASE"`)
			for _, fixture := range osReleaseFixtures {
				harness := "set -euo pipefail\n" + unset + "\noh_say() { printf '%s\\n' \"$*\"; }\noh_define_family_helpers() { :; }\n" + fn +
					"oh_detect_platform\nprintf 'family=%s admin=%s rc=%s\\n' \"$OH_FAMILY\" \"$OH_ADMIN_GROUP\" \"$OH_BASHRC\"\n"
				cmd := exec.Command("bash", "-c", harness)
				cmd.Env = append(os.Environ(), "OS_RELEASE="+filepath.Join(mustAbs(t, "testdata"), "os-release", fixture))
				out, err := cmd.CombinedOutput()
				pl, detectErr := Detect(readOSRelease(t, fixture))
				if detectErr == nil && targets[pl.Key()] {
					want := fmt.Sprintf("family=%s admin=%s rc=%s\n", pl.Family, pl.AdminGroup, pl.BashRC)
					if err != nil || !strings.HasSuffix(string(out), want) {
						t.Errorf("%s: bash said %q (%v), want %q", fixture, out, err, want)
					}
					continue
				}
				if err == nil {
					t.Errorf("%s: the script accepted it: %s", fixture, out)
					continue
				}
				if !strings.Contains(string(out), "unsupported platform") {
					t.Errorf("%s: the refusal does not say why: %s", fixture, out)
				}
				if detectErr != nil {
					var ue *UnsupportedPlatformError
					if errors.As(detectErr, &ue) && !strings.Contains(string(out), fmt.Sprintf(`ID="%s" VERSION_ID="%s"`, ue.ID, ue.VersionID)) {
						t.Errorf("%s: the refusal %q does not name ID and VERSION_ID", fixture, out)
					}
				}
			}
		})
	}
}

func mustAbs(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// TestStepFailureRoundTrip: the line the script's oh_step_failed prints is the line
// FindStepFailure reads, also at the end of output without a final newline.
func TestStepFailureRoundTrip(t *testing.T) {
	res := runHelper(t, libFunctions(t), `printf 'partial output'; oh_step_failed python-env 42`)
	line := strings.TrimSpace(res.out)
	name, code, before, ok := FindStepFailure(line)
	if !ok || name != "python-env" || code != 42 || before != "partial output" {
		t.Errorf("FindStepFailure(%q) = %q, %d, %q, %v", line, name, code, before, ok)
	}
	for _, l := range []string{
		"openhands-runtime: step dependencies is slow",
		"openhands-runtime: step dependencies failed with exit code x",
		"openhands-runtime: step  failed with exit code 1",
		"dependencies failed with exit code 3",
	} {
		if name, _, _, ok := FindStepFailure(l); ok {
			t.Errorf("FindStepFailure(%q) found step %q", l, name)
		}
	}
}

// TestSecretsScript: the variables whose values hold secrets are in the secrets file, with
// their values, and nowhere in the scripts; the plan's own are exported only for the steps that
// read them, the user's secret environment variables for every step; a plan without secrets
// has no secrets file.
func TestSecretsScript(t *testing.T) {
	o := Options{
		SourceDir:             fixture.SourceDir(t),
		IndexURL:              "https://builder:pw-index@pypi.internal/simple",
		ExtraIndexURLs:        []string{"https://pypi.internal/public", "https://tok-extra@wheels.internal/simple"},
		ChannelAlias:          "https://ci:pw-alias@conda.internal/api",
		EnvironmentVars:       []string{"NO_PROXY=localhost", "HTTPS_PROXY=http://ci:pw-proxy@proxy.internal:3128"},
		SecretEnvironmentVars: []string{"API_TOKEN=pw-token"},
		VSCodeServerSHA256:    testSHA,
	}
	if errs := o.Prepare(); len(errs) != 0 {
		t.Fatal(errs)
	}
	p := New(o, goldenInputs)
	script, secrets := p.Script("test"), p.SecretsScript()
	for _, marker := range []string{"pw-index", "tok-extra", "pw-alias", "pw-proxy", "pw-token"} {
		if strings.Contains(script, marker) || strings.Contains(p.VerifyScript("test"), marker) {
			t.Errorf("%s is in a script", marker)
		}
		if !strings.Contains(secrets, marker) {
			t.Errorf("%s is not in the secrets file:\n%s", marker, secrets)
		}
	}
	for _, want := range []string{"\nOH_INDEX_URL=", "\nOH_EXTRA_INDEX_URLS=", "\nOH_CHANNEL_ALIAS=", "export HTTPS_PROXY=", "export API_TOKEN="} {
		if !strings.Contains("\n"+secrets, want) {
			t.Errorf("the secrets file lacks %q:\n%s", want, secrets)
		}
	}
	if strings.Contains(secrets, "NO_PROXY") {
		t.Errorf("the secrets file holds a variable without a secret:\n%s", secrets)
	}
	// Each step exports the plan's secrets it reads, and no others.
	for step, want := range map[string]string{
		"python-env": " 'OH_CHANNEL_ALIAS'\n", "dependencies": " 'OH_INDEX_URL OH_EXTRA_INDEX_URLS'\n",
		"uv": "''\n", "browser": "''\n", "verify": "''\n",
	} {
		line := regexp.MustCompile(`\toh_run_step \d+ ` + step + ` .*\n`).FindString(script)
		if !strings.HasSuffix(line, want) {
			t.Errorf("step %s is run with %q, want it to end with %q", step, line, want)
		}
	}

	// Sourced as the plan sources it: the plan's secrets are shell variables that no child
	// process sees, the user's are in every child's environment.
	dir := t.TempDir()
	functions := strings.TrimSuffix(script, "\noh_main \"$@\"\n")
	if err := os.WriteFile(filepath.Join(dir, "plan.sh"), []byte(functions+`
printf 'shell: %s\n' "$OH_INDEX_URL $OH_CHANNEL_ALIAS"
bash -c 'printf "child: %s\n" "${OH_INDEX_URL:-} ${OH_CHANNEL_ALIAS:-} ${MAMBA_CHANNEL_ALIAS:-} $API_TOKEN $HTTPS_PROXY"'
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, BundleSecrets), []byte(secrets), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", filepath.Join(dir, "plan.sh")).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := "shell: " + o.IndexURL + " " + o.ChannelAlias + "\nchild: " + "   pw-token http://ci:pw-proxy@proxy.internal:3128\n"
	if string(out) != want {
		t.Errorf("output %q, want %q", out, want)
	}

	// The stamps name the mirrors without credentials: a rotated token re-runs nothing.
	rotated := o
	rotated.IndexURL = strings.ReplaceAll(o.IndexURL, "pw-index", "pw-new")
	rotated.ChannelAlias = strings.ReplaceAll(o.ChannelAlias, "pw-alias", "pw-new")
	if got := New(rotated, goldenInputs).Script("test"); got != script {
		t.Errorf("a rotated token changes the script: %s", firstDifference(script, got))
	}
	o.IndexURL, o.ExtraIndexURLs, o.ChannelAlias = "https://pypi.internal/simple", nil, "https://conda.internal/api"
	o.EnvironmentVars, o.SecretEnvironmentVars = []string{"HTTPS_PROXY=http://proxy.internal:3128"}, nil
	if s := New(o, goldenInputs).SecretsScript(); s != "" {
		t.Errorf("a plan without credentials has a secrets file:\n%s", s)
	}
}

// TestScriptPinnedDownloadsByArchitecture runs the rendered detection with uname -m saying
// each architecture: every tool's URL and sum are its pinned release for that architecture
// (a user's sum kept for a tool without pinned sums), and an architecture without releases is
// refused before any change.
func TestScriptPinnedDownloadsByArchitecture(t *testing.T) {
	o := Options{SourceDir: fixture.SourceDir(t), Platform: "debian-12", VSCodeServerSHA256: testSHA}
	if errs := o.Prepare(); len(errs) != 0 {
		t.Fatal(errs)
	}
	script := New(o, goldenInputs).Script("test")
	start := strings.Index(script, "oh_detect_platform() {")
	end := strings.Index(script[start:], "\n}\n")
	fn := strings.ReplaceAll(script[start:start+end+3], "/etc/os-release", `"$OS_RELEASE"`)
	var vars []string
	for _, tool := range Tools {
		vars = append(vars, tool.shellName()+"_URL="+shellQuote(""), tool.shellName()+"_SHA256="+shellQuote(""))
	}
	vars[len(vars)-1] = toolVSCodeServer.shellName() + "_SHA256=" + testSHA // the user's sum
	printVars := ""
	for _, tool := range Tools {
		printVars += fmt.Sprintf(`printf '%%s %%s\n' "$%[1]s_URL" "$%[1]s_SHA256"`+"\n", tool.shellName())
	}
	for _, arch := range []string{"x86_64", "aarch64", "riscv64"} {
		t.Run(arch, func(t *testing.T) {
			harness := "set -euo pipefail\n" + strings.Join(vars, " ") + "\nuname() { echo " + arch + "; }\noh_say() { printf '%s\\n' \"$*\"; }\noh_define_family_helpers() { :; }\n" +
				fn + "oh_detect_platform >/dev/null\n" + printVars
			cmd := exec.Command("bash", "-c", harness)
			cmd.Env = append(os.Environ(), "OS_RELEASE="+filepath.Join(mustAbs(t, "testdata"), "os-release", "debian-12"))
			out, err := cmd.CombinedOutput()
			if arch == "riscv64" {
				if err == nil {
					t.Fatalf("riscv64 was accepted: %s", out)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != len(Tools) {
				t.Fatalf("output %q", out)
			}
			for i, tool := range Tools {
				want := tool.Pinned[arch]
				if want.SHA256 == "" {
					want.SHA256 = testSHA
				}
				if lines[i] != want.URL+" "+want.SHA256 {
					t.Errorf("%s on %s: %q, want %q", tool.Name, arch, lines[i], want.URL+" "+want.SHA256)
				}
			}
		})
	}
}
