package plan

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
)

// goldenLockImage is the image a source-only Dockerfile is rendered on: a lock-tag image.
const goldenLockImage = "openhands-runtime:oh_vtest_0123456789abcdef"

// dockerfileVariant is one set of options rendered to testdata/golden/dockerfile-<name>.Dockerfile.
type dockerfileVariant struct {
	name string
	// options returns the variant's options; dir is a temp dir for files it needs.
	options    func(t *testing.T, dir string) Options
	from       string
	sourceOnly bool
}

var dockerfileVariants = []dockerfileVariant{
	{
		name:    "agent-server",
		options: agentServerOptions,
		from:    "ubuntu:24.04",
	},
	{
		name:       "agent-server-source-only",
		options:    agentServerOptions,
		from:       goldenLockImage,
		sourceOnly: true,
	},
	{
		name:    "agent-server-checkout",
		options: agentServerCheckoutOptions,
		from:    "ubuntu:24.04",
	},
	{
		name:       "agent-server-checkout-source-only",
		options:    agentServerCheckoutOptions,
		from:       goldenLockImage,
		sourceOnly: true,
	},
	{
		name:    "defaults",
		options: func(t *testing.T, dir string) Options { return Options{} },
		from:    "nikolaik/python-nodejs:python3.12-nodejs22",
	},
	{
		name:       "defaults-source-only",
		options:    func(t *testing.T, dir string) Options { return Options{} },
		from:       goldenLockImage,
		sourceOnly: true,
	},
	{
		name: "no-browser-skip-verify",
		options: func(t *testing.T, dir string) Options {
			return Options{Layout: Layout{InstallBrowser: boolPtr(false)}, SkipVerify: true}
		},
		from: "debian:bookworm",
	},
	{
		name: "offline",
		options: func(t *testing.T, dir string) Options {
			return Options{
				Platform: "ubuntu-24.04",
				Layout: Layout{
					Prefix: "/srv/openhands",
					User:   "agent",
				},
				UID:            intPtr(2000),
				MicromambaPath: fixture.WriteFile(t, dir, "micromamba", "micromamba binary\n", 0o755),
				UVPath:         fixture.WriteFile(t, dir, "uv", "uv binary\n", 0o755),
				ChannelAlias:   "https://artifactory.internal/artifactory/api/conda",
				IndexURL:       "https://builder:" + goldenPassword + "@pypi.internal/simple",
			}
		},
		from: "registry.internal:5000/base/ubuntu:24.04",
	},
}

// renderDockerfile prepares the variant's options and renders its Dockerfile; it also returns
// the local paths that must never appear in it.
func renderDockerfile(t *testing.T, v dockerfileVariant) (*Plan, string, []string) {
	t.Helper()
	dir := t.TempDir()
	o := v.options(t, dir)
	if o.Runtime != RuntimeAgentServer {
		o.SourceDir = fixture.SourceDir(t)
	}
	withVSCodeServerSHA256(&o)
	if errs := o.Prepare(); len(errs) != 0 {
		t.Fatalf("Prepare: %v", errs)
	}
	p := New(o, goldenInputs)
	return p, dockerfileFor(p, v.from, v.sourceOnly), []string{o.SourceDir, dir}
}

func TestDockerfileGolden(t *testing.T) {
	for _, v := range dockerfileVariants {
		t.Run(v.name, func(t *testing.T) {
			_, dockerfile, _ := renderDockerfile(t, v)
			golden := filepath.Join("testdata", "golden", "dockerfile-"+v.name+".Dockerfile")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(dockerfile), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./plan -run Golden -update)", err)
			}
			if dockerfile != string(want) {
				t.Errorf("Dockerfile differs from %s (run go test ./plan -run Golden -update and review the diff):\n%s",
					golden, firstDifference(string(want), dockerfile))
			}
		})
	}
}

var runStepsLine = regexp.MustCompile(`^RUN bash /opt/openhands-plan/plan\.sh --steps (\S+)$`)

// runSteps returns, for each line of the Dockerfile, the steps its RUN runs (nil for others).
func runSteps(lines []string) [][]StepID {
	out := make([][]StepID, len(lines))
	for i, l := range lines {
		if m := runStepsLine.FindStringSubmatch(l); m != nil {
			for _, name := range strings.Split(m[1], ",") {
				out[i] = append(out[i], StepID(name))
			}
		}
	}
	return out
}

// lineIndex is the index of the first line satisfying match, or -1.
func lineIndex(lines []string, match func(string) bool) int {
	for i, l := range lines {
		if match(l) {
			return i
		}
	}
	return -1
}

// nextRun is the index of the first RUN after line i, with only USER switches between, or -1.
func nextRun(lines []string, i int) int {
	for j := i + 1; j < len(lines); j++ {
		switch {
		case strings.HasPrefix(lines[j], "RUN "):
			return j
		case !strings.HasPrefix(lines[j], "USER "):
			return -1
		}
	}
	return -1
}

func TestDockerfileProperties(t *testing.T) {
	for _, v := range dockerfileVariants {
		t.Run(v.name, func(t *testing.T) {
			p, dockerfile, localPaths := renderDockerfile(t, v)
			o := p.Options
			if o.Runtime != RuntimeActionServer {
				t.Skip("the action server's layout: TestAgentServerDockerfile covers the agent-server's")
			}
			for _, local := range localPaths {
				if strings.Contains(dockerfile, local) {
					t.Errorf("the Dockerfile holds the local path %s", local)
				}
			}
			if strings.Contains(dockerfile, goldenPassword) {
				t.Error("the Dockerfile holds the index_url password")
			}
			if !strings.HasSuffix(dockerfile, "\n") {
				t.Fatal("the Dockerfile does not end with a newline")
			}
			lines := strings.Split(strings.TrimSuffix(dockerfile, "\n"), "\n")
			for i, l := range lines {
				if l == "" || strings.TrimSpace(l) != l {
					t.Errorf("line %d is empty or padded: %q", i+1, l)
				}
			}
			// The first instruction is the FROM.
			first := lineIndex(lines, func(l string) bool { return !strings.HasPrefix(l, "#") })
			if first < 0 || lines[first] != "FROM "+v.from {
				t.Fatalf("the first instruction is not FROM %s:\n%s", v.from, dockerfile)
			}
			if strings.Count(dockerfile, "\nFROM ") != 1 {
				t.Error("the Dockerfile has more than one FROM")
			}

			// A source-only Dockerfile builds on a lock-tag image of the same options, which
			// already has the user, environment and working directory: it sets none again.
			n := len(lines)
			if v.sourceOnly {
				for _, l := range lines {
					for _, kw := range []string{"USER ", "ENV ", "WORKDIR "} {
						if strings.HasPrefix(l, kw) {
							t.Errorf("the source-only Dockerfile sets what the lock-tag image has: %s", l)
						}
					}
				}
			} else if n < 2 || !strings.HasPrefix(lines[n-2], "ENV ") || lines[n-1] != "WORKDIR "+o.Prefix+"/code" {
				t.Errorf("the Dockerfile does not end with ENV and WORKDIR %s/code:\n%s", o.Prefix, strings.Join(lines[max(0, n-3):], "\n"))
			} else {
				env := lines[n-2]
				for _, want := range []string{
					"MAMBA_ROOT_PREFIX=" + o.Prefix + "/micromamba",
					"PATH=" + o.Prefix + "/bin:" + o.Prefix + "/micromamba/bin:",
					"OH_INTERPRETER_PATH=" + o.Prefix + "/micromamba/envs/" + o.EnvName + "/bin/python",
				} {
					if !strings.Contains(env, want) {
						t.Errorf("the ENV line lacks %q: %s", want, env)
					}
				}
				if got, want := strings.Contains(env, "PLAYWRIGHT_BROWSERS_PATH="+o.PlaywrightBrowsersPath), *o.InstallBrowser; got != want {
					t.Errorf("PLAYWRIGHT_BROWSERS_PATH in ENV is %v with install_browser %v", got, want)
				}
			}
			// Every RUN runs as root: the base image's USER is replaced once, and the plan
			// itself switches to the runtime user for its steps (runuser, or sudo).
			if users := lineIndex(lines, func(l string) bool { return strings.HasPrefix(l, "USER ") && l != "USER root" }); users >= 0 {
				t.Errorf("line %d switches to another user than root: %s", users+1, lines[users])
			}
			if !v.sourceOnly && lines[2] != "USER root" {
				t.Errorf("line 3 is %q, want USER root right after FROM", lines[2])
			}

			// No step runs twice but code, which runs with the dependency files and again
			// with the source.
			steps := runSteps(lines)
			count := map[StepID]int{}
			var order []StepID
			for i, l := range lines {
				if strings.HasPrefix(l, "RUN ") && steps[i] == nil && !strings.HasPrefix(l, "RUN rm -rf ") {
					t.Errorf("line %d runs something other than plan steps: %s", i+1, l)
				}
				for _, s := range steps[i] {
					if !slices.Contains(p.StepNames(), s) {
						t.Errorf("line %d runs %q, which is not a step of the plan", i+1, s)
						continue
					}
					count[s]++
					order = append(order, s)
				}
			}
			for s, c := range count {
				if c > 1 && s != "code" {
					t.Errorf("step %s runs %d times", s, c)
				}
			}
			// The steps run in the plan's order (code apart, which runs twice).
			planOrder := slices.DeleteFunc(p.StepNames(), func(s StepID) bool { return s == StepCode })
			runOrder := slices.DeleteFunc(slices.Clone(order), func(s StepID) bool { return s == StepCode })
			if v.sourceOnly {
				planOrder = slices.DeleteFunc(planOrder, func(s StepID) bool { return !slices.Contains([]StepID{StepEnvironment, StepCleanup, StepVerify}, s) })
			}
			if !slices.Equal(runOrder, planOrder) {
				t.Errorf("steps run in the order %v, want %v", runOrder, planOrder)
			}

			copyDeps := lineIndex(lines, func(l string) bool {
				return l == "COPY --chown="+o.User+":"+o.User+" openhands-plan/deps/ "+o.Prefix+"/code/"
			})
			copyCode := lineIndex(lines, func(l string) bool {
				return l == "COPY --chown="+o.User+":"+o.User+" openhands-plan/code/ "+o.Prefix+"/code/"
			})
			deps := -1
			for i := range lines {
				if slices.Contains(steps[i], "dependencies") {
					deps = i
					break
				}
			}
			if copyCode < 0 {
				t.Fatalf("no COPY of openhands-plan/code/ to %s/code/:\n%s", o.Prefix, dockerfile)
			}
			sourceSteps := []StepID{StepCode, StepEnvironment, StepCleanup}
			if !o.SkipVerify {
				sourceSteps = append(sourceSteps, StepVerify)
			}
			if next := nextRun(lines, copyCode); next < 0 || !slices.Equal(steps[next], sourceSteps) {
				t.Errorf("the source copy is not followed by one RUN of %v:\n%s", sourceSteps, dockerfile)
			}
			if got := strings.Contains(dockerfile, "openhands-plan/bin/"); got == v.sourceOnly {
				t.Errorf("COPY of the supplied binaries: %v in a Dockerfile with source only %v", got, v.sourceOnly)
			}

			if v.sourceOnly {
				if copyDeps >= 0 || deps >= 0 {
					t.Errorf("the source-only Dockerfile copies the dependency files or installs the dependencies:\n%s", dockerfile)
				}
				for _, absent := range []StepID{StepPreflight, StepSystemPackages, StepMicromamba, StepPythonEnv, StepBrowser, StepUser, StepUV} {
					if count[absent] != 0 {
						t.Errorf("the source-only Dockerfile runs %s", absent)
					}
				}
				if count["code"] != 1 {
					t.Errorf("the source-only Dockerfile runs code %d times, want 1", count["code"])
				}
				// The source of the image built on goes before the new copy.
				rm := lineIndex(lines, func(l string) bool { return strings.HasPrefix(l, "RUN rm -rf ") })
				if rm < 0 || rm > copyCode {
					t.Fatalf("the source-only Dockerfile does not remove the old source before copying the new:\n%s", dockerfile)
				}
				removed := strings.Fields(strings.TrimPrefix(lines[rm], "RUN rm -rf "))
				for _, top := range SourceTopLevel {
					if !slices.Contains(removed, o.Prefix+"/code/"+top) {
						t.Errorf("the old %s is not removed: %s", top, lines[rm])
					}
				}
				for _, r := range removed {
					if !strings.HasPrefix(r, o.Prefix+"/code/") || strings.Contains(strings.TrimPrefix(r, o.Prefix+"/code/"), "/") {
						t.Errorf("the removal reaches beyond the shipped entries: %s", r)
					}
				}
				return
			}
			if strings.Contains(dockerfile, "RUN rm -rf") {
				t.Error("a full Dockerfile removes files")
			}
			if copyDeps < 0 || deps < 0 {
				t.Fatalf("no COPY of openhands-plan/deps/ or no dependencies step:\n%s", dockerfile)
			}
			if !(copyDeps < deps && deps < copyCode) {
				t.Errorf("layer order: deps COPY at line %d, dependencies RUN at %d, code COPY at %d; want them in that order", copyDeps+1, deps+1, copyCode+1)
			}
			if next := nextRun(lines, copyDeps); next < 0 || !slices.Equal(steps[next], []StepID{StepCode}) {
				t.Errorf("the dependency files are not followed by the code step alone:\n%s", dockerfile)
			}
			if lines[deps] != "RUN bash /opt/openhands-plan/plan.sh --steps dependencies" {
				t.Errorf("the dependencies RUN runs other steps: %s", lines[deps])
			}
			if count["code"] != 2 {
				t.Errorf("code runs %d times, want 2 (dependency files, then source)", count["code"])
			}
			// Every step of the plan is part of the full image.
			for _, s := range p.StepNames() {
				if count[s] == 0 {
					t.Errorf("step %s is never run", s)
				}
			}
			switch v.name {
			case "no-browser-skip-verify":
				if count["browser"] != 0 || count["verify"] != 0 || strings.Contains(dockerfile, "PLAYWRIGHT") {
					t.Errorf("browser or verify in a plan without them:\n%s", dockerfile)
				}
			case "offline":
				if !strings.Contains(dockerfile, "COPY openhands-plan/bin/ /opt/openhands-plan/bin/\n") {
					t.Error("the supplied binaries are not copied")
				}
			}
		})
	}
}

type contextEntry struct {
	typ     byte
	mode    int64
	content string
}

// readContext reads an uncompressed build context.
func readContext(t *testing.T, data []byte) (map[string]contextEntry, []string) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	entries := map[string]contextEntry{}
	var order []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		content, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := entries[h.Name]; dup {
			t.Errorf("%s is in the context twice", h.Name)
		}
		entries[h.Name] = contextEntry{typ: h.Typeflag, mode: h.Mode, content: string(content)}
		order = append(order, h.Name)
	}
	return entries, order
}

// filesUnder lists the regular files below prefix, relative to it, sorted.
func filesUnder(entries map[string]contextEntry, prefix string) []string {
	var out []string
	for name, e := range entries {
		if e.typ == tar.TypeReg && strings.HasPrefix(name, prefix) {
			out = append(out, strings.TrimPrefix(name, prefix))
		}
	}
	sort.Strings(out)
	return out
}

func TestWriteDockerContext(t *testing.T) {
	full := makeSourceTree(t, forwardOrder())
	fixture.WriteFile(t, full, "LICENSE", "MIT\n", 0o644)
	bare := t.TempDir()
	fixture.WriteFile(t, bare, "pyproject.toml", "[project]\nname = \"openhands-ai\"\n", 0o644)
	fixture.WriteFile(t, bare, "openhands/__init__.py", "__version__ = '1'\n", 0o644)
	bins := t.TempDir()
	uv := fixture.WriteFile(t, bins, "uv", "\x7fELF uv stand-in", 0o700)
	mm := fixture.WriteFile(t, bins, "micromamba", "\x7fELF micromamba stand-in", 0o600)

	cases := []struct {
		name     string
		src      string
		uv, mm   string
		wantDeps []string
	}{
		{"full tree, uv supplied", full, uv, "", []string{"LICENSE", "README.md", "openhands/__init__.py", "poetry.lock", "pyproject.toml"}},
		{"full tree, both supplied", full, uv, mm, []string{"LICENSE", "README.md", "openhands/__init__.py", "poetry.lock", "pyproject.toml"}},
		{"bare tree, nothing supplied", bare, "", "", []string{"openhands/__init__.py", "pyproject.toml"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The tree's poetry.lock is a placeholder (TestWriteDockerContextShipsLock pins).
			o := Options{SourceDir: tc.src, UVPath: tc.uv, MicromambaPath: tc.mm, VSCodeServerSHA256: testSHA, UseLock: boolPtr(false)}
			if errs := o.Prepare(); len(errs) != 0 {
				t.Fatalf("Prepare: %v", errs)
			}
			files, err := ListSource(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			p := New(o, Inputs{})
			dockerfile, script := p.Dockerfile("debian:bookworm", "test"), "#!/usr/bin/env bash\necho plan\n"
			var buf bytes.Buffer
			if err := WriteDockerContext(&buf, p, dockerfile, script, files); err != nil {
				t.Fatalf("WriteDockerContext: %v", err)
			}
			entries, order := readContext(t, buf.Bytes())

			if order[0] != DockerfileName {
				t.Errorf("the first entry is %s, want the Dockerfile", order[0])
			}
			if e := entries[DockerfileName]; e.typ != tar.TypeReg || e.content != dockerfile {
				t.Errorf("Dockerfile entry %+v does not hold the Dockerfile", e)
			}
			if e := entries["openhands-plan/plan.sh"]; e.typ != tar.TypeReg || e.content != script || e.mode != 0o755 {
				t.Errorf("openhands-plan/plan.sh is %+v, want the script, mode 0755", e)
			}
			if e, ok := entries["openhands-plan/bin/"]; !ok || e.typ != tar.TypeDir {
				t.Error("openhands-plan/bin/ is not a directory of the context")
			}
			wantBins := []string{}
			for _, b := range []struct{ name, path string }{{"micromamba", tc.mm}, {"uv", tc.uv}} {
				if b.path == "" {
					continue
				}
				wantBins = append(wantBins, b.name)
				data, err := os.ReadFile(b.path)
				if err != nil {
					t.Fatal(err)
				}
				if e := entries["openhands-plan/bin/"+b.name]; e.content != string(data) || e.mode != 0o755 {
					t.Errorf("openhands-plan/bin/%s is %+v, want the supplied file, mode 0755", b.name, e)
				}
			}
			if got := filesUnder(entries, "openhands-plan/bin/"); !slices.Equal(got, wantBins) {
				t.Errorf("openhands-plan/bin/ holds %q, want %q", got, wantBins)
			}

			if got := filesUnder(entries, "openhands-plan/deps/"); !slices.Equal(got, tc.wantDeps) {
				t.Errorf("openhands-plan/deps/ holds %q, want %q", got, tc.wantDeps)
			}
			if e := entries["openhands-plan/deps/openhands/__init__.py"]; e.content != "" {
				t.Errorf("the stub package holds %q, want an empty file", e.content)
			}
			for _, name := range tc.wantDeps {
				if name == "openhands/__init__.py" {
					continue
				}
				data, err := os.ReadFile(filepath.Join(tc.src, name))
				if err != nil {
					t.Fatal(err)
				}
				if got := entries["openhands-plan/deps/"+name].content; got != string(data) {
					t.Errorf("deps/%s holds %q, want %q", name, got, data)
				}
			}

			var want []string
			for _, f := range files {
				want = append(want, f.Rel)
				data, err := os.ReadFile(f.Abs)
				if err != nil {
					t.Fatal(err)
				}
				e := entries["openhands-plan/code/"+f.Rel]
				wantMode := int64(0o644)
				if f.Executable {
					wantMode = 0o755
				}
				if e.content != string(data) || e.mode != wantMode {
					t.Errorf("code/%s is %+v, want its content with mode %o", f.Rel, e, wantMode)
				}
			}
			sort.Strings(want)
			if got := filesUnder(entries, "openhands-plan/code/"); !slices.Equal(got, want) {
				t.Errorf("openhands-plan/code/ holds %q, want the listed source %q", got, want)
			}
			if tc.src == full && !slices.Contains(want, "openhands/runtime/plugins/run.sh") {
				t.Errorf("the listed source lacks a file of the fixture: %q", want)
			}

			// Nothing else, and every file's directories come before it.
			for _, name := range order {
				if name != DockerfileName && !strings.HasPrefix(name, "openhands-plan/") {
					t.Errorf("unexpected context entry %s", name)
				}
				if e := entries[name]; e.typ == tar.TypeReg && name != DockerfileName && name != "openhands-plan/plan.sh" &&
					!strings.HasPrefix(name, "openhands-plan/bin/") && !strings.HasPrefix(name, "openhands-plan/deps/") &&
					!strings.HasPrefix(name, "openhands-plan/code/") {
					t.Errorf("unexpected context file %s", name)
				}
				seen := slices.Index(order, name)
				for dir := filepath.Dir(strings.TrimSuffix(name, "/")); dir != "."; dir = filepath.Dir(dir) {
					if i := slices.Index(order, dir+"/"); i < 0 || i > seen {
						t.Errorf("%s comes without its directory %s/ before it", name, dir)
					}
				}
			}
		})
	}
}

func TestWriteDockerContextMissingBinary(t *testing.T) {
	o := Options{SourceDir: fixture.SourceDir(t), UVPath: filepath.Join(t.TempDir(), "uv")}
	o.Prepare() // reports the missing uv_path; the context must fail on it too
	files, err := ListSource(o.SourceDir)
	if err != nil {
		t.Fatal(err)
	}
	err = WriteDockerContext(io.Discard, New(o, Inputs{}), "FROM x\n", "", files)
	if err == nil || !strings.Contains(err.Error(), "uv_path: ") {
		t.Errorf("WriteDockerContext with a missing uv_path: %v, want an error naming uv_path", err)
	}
}

var dockerTag = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

func TestContentTags(t *testing.T) {
	const version = "0.1.0-dev"
	base := struct {
		baseID, dockerfile, script string
		in                         Inputs
	}{
		baseID:     "sha256:" + strings.Repeat("a", 64),
		dockerfile: "FROM debian:bookworm\nRUN true\n",
		script:     "#!/usr/bin/env bash\necho plan\n",
		in: Inputs{
			DependencyFiles: strings.Repeat("1", 64),
			SourceTree:      strings.Repeat("2", 64),
		},
	}
	lock0, source0 := ContentTags(version, base.baseID, base.dockerfile, base.script, base.in)
	if l, s := ContentTags(version, base.baseID, base.dockerfile, base.script, base.in); l != lock0 || s != source0 {
		t.Errorf("equal inputs give %s %s, then %s %s", lock0, source0, l, s)
	}
	for _, tag := range []string{lock0, source0} {
		if !dockerTag.MatchString(tag) {
			t.Errorf("%q is not a docker tag", tag)
		}
	}
	if !strings.HasPrefix(lock0, "oh_v0.1.0-dev_") {
		t.Errorf("lock tag %q does not start with the plugin version", lock0)
	}
	if !strings.HasPrefix(source0, lock0+"_") {
		t.Errorf("source tag %q does not start with the lock tag %q", source0, lock0)
	}

	cases := []struct {
		name       string
		change     func(baseID, dockerfile, script *string, in *Inputs)
		lockChange bool
	}{
		{"base image id", func(b, d, s *string, in *Inputs) { *b = "sha256:" + strings.Repeat("b", 64) }, true},
		{"dockerfile", func(b, d, s *string, in *Inputs) { *d += "RUN false\n" }, true},
		{"script", func(b, d, s *string, in *Inputs) { *s += "echo more\n" }, true},
		{"dependency files", func(b, d, s *string, in *Inputs) { in.DependencyFiles = strings.Repeat("3", 64) }, true},
		{"micromamba supplied", func(b, d, s *string, in *Inputs) {
			in.Supplied = map[string]string{"micromamba": strings.Repeat("4", 64)}
		}, true},
		{"uv supplied", func(b, d, s *string, in *Inputs) { in.Supplied = map[string]string{"uv": strings.Repeat("5", 64)} }, true},
		{"openvscode-server supplied", func(b, d, s *string, in *Inputs) {
			in.Supplied = map[string]string{"vscode_server": strings.Repeat("6", 64)}
		}, true},
		// A digest counts for its tool only: the same file supplied for another is a change.
		{"supplied digest moved to another tool", func(b, d, s *string, in *Inputs) {
			in.Supplied = map[string]string{"uv": strings.Repeat("4", 64)}
		}, true},
		// The parts are delimited: text moved from one to the next is a change.
		{"text moved between dockerfile and script", func(b, d, s *string, in *Inputs) {
			*d = strings.TrimSuffix(*d, "\n")
			*s = "\n" + *s
		}, true},
		{"source tree", func(b, d, s *string, in *Inputs) { in.SourceTree = strings.Repeat("6", 64) }, false},
	}
	seen := map[string]string{source0: "the base inputs"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			baseID, dockerfile, script, in := base.baseID, base.dockerfile, base.script, base.in
			tc.change(&baseID, &dockerfile, &script, &in)
			lock, source := ContentTags(version, baseID, dockerfile, script, in)
			if (lock != lock0) != tc.lockChange {
				t.Errorf("lock tag %s -> %s; want a change: %v", lock0, lock, tc.lockChange)
			}
			if source == source0 {
				t.Errorf("the source tag did not change: %s", source)
			}
			if other, dup := seen[source]; dup {
				t.Errorf("the source tag %s is also that of %s", source, other)
			}
			seen[source] = tc.name
			if !strings.HasPrefix(source, lock+"_") {
				t.Errorf("source tag %q does not start with the lock tag %q", source, lock)
			}
			for _, tag := range []string{lock, source} {
				if !dockerTag.MatchString(tag) {
					t.Errorf("%q is not a docker tag", tag)
				}
			}
		})
	}

	t.Run("version", func(t *testing.T) {
		lock, source := ContentTags("0.1.0", base.baseID, base.dockerfile, base.script, base.in)
		if lock == lock0 || source == source0 {
			t.Error("the tags do not change with the plugin version")
		}
		// Build metadata's '+' is not allowed in a tag.
		lock, source = ContentTags("1.2.3-beta+abc.1", base.baseID, base.dockerfile, base.script, base.in)
		for _, tag := range []string{lock, source} {
			if !dockerTag.MatchString(tag) {
				t.Errorf("%q is not a docker tag", tag)
			}
		}
		if !strings.HasPrefix(lock, "oh_v1.2.3-beta_abc.1_") {
			t.Errorf("lock tag %q does not carry the version", lock)
		}
	})
}

// dockerfileFor renders the full or the source-only Dockerfile.
func dockerfileFor(p *Plan, from string, sourceOnly bool) string {
	if sourceOnly {
		return p.SourceDockerfile(from, "test")
	}
	return p.Dockerfile(from, "test")
}

// agentServerCheckoutOptions install the V1 runtime from the small SDK checkout.
func agentServerCheckoutOptions(*testing.T, string) Options {
	return Options{SourceDir: sdkCheckout, Layout: Layout{Runtime: RuntimeAgentServer}}
}

// agentServerOptions are the V1 runtime's options with every default.
func agentServerOptions(*testing.T, string) Options {
	return Options{Layout: Layout{Runtime: RuntimeAgentServer, AgentServerVersion: "1.58.2"}}
}
