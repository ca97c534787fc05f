package runtimeprovisioner

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
	"github.com/openhands-runtime/packer-plugin-openhands/sbom"
	"github.com/openhands-runtime/packer-plugin-openhands/version"
)

// recordingUi records what the provisioner shows.
type recordingUi struct {
	mu       sync.Mutex
	says     []string
	errs     []string
	machines []string
}

var _ packersdk.Ui = (*recordingUi)(nil)

func (u *recordingUi) Ask(string) (string, error) { return "", errors.New("no tty in tests") }
func (u *recordingUi) Askf(string, ...any) (string, error) {
	return "", errors.New("no tty in tests")
}
func (u *recordingUi) Say(s string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.says = append(u.says, s)
}
func (u *recordingUi) Sayf(format string, args ...any) { u.Say(fmt.Sprintf(format, args...)) }
func (u *recordingUi) Message(s string)                { u.Say(s) }
func (u *recordingUi) Error(s string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.errs = append(u.errs, s)
}
func (u *recordingUi) Errorf(format string, args ...any) { u.Error(fmt.Sprintf(format, args...)) }
func (u *recordingUi) Machine(kind string, args ...string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.machines = append(u.machines, kind+" "+strings.Join(args, " "))
}
func (u *recordingUi) TrackProgress(_ string, _, _ int64, stream io.ReadCloser) io.ReadCloser {
	return stream
}

func (u *recordingUi) sayLines() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.says)
}

func (u *recordingUi) errorLines() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.errs)
}

// remoteRun scripts how the remote side answers one command.
type remoteRun struct {
	// stdout and stderr are written as given, chunk by chunk, stdout first.
	stdout, stderr []string
	// afterOutput, when set, runs once the output is written (to cancel a build, say).
	afterOutput func()
	// waitFor, when set, delays the exit until it is closed (a command that runs until killed).
	waitFor <-chan struct{}
	// untilStdinEnds delays the exit until the command's standard input ends, as the
	// launcher run with plan.StopOnEOF does.
	untilStdinEnds bool
	// frame, when set, gets the secrets frame read from the start of the standard input.
	frame func(string)
	exit  int
	// startErr is returned by Start instead of running anything.
	startErr error
}

type upload struct {
	path string
	data []byte
	size int64 // from the FileInfo passed with the upload, -1 without one
}

// fakeComm is a communicator that records every upload and command and answers commands
// from a script, asynchronously, like the real ones.
type fakeComm struct {
	// script answers each started command; nil answers exit 0 with no output.
	script func(command string) remoteRun
	// discard drops upload contents (benchmarks).
	discard   bool
	uploadErr error

	mu         sync.Mutex
	uploads    []upload
	commands   []string
	uploadDirs []string
	downloads  []string
	running    sync.WaitGroup
}

var _ packersdk.Communicator = (*fakeComm)(nil)

func (c *fakeComm) Start(ctx context.Context, cmd *packersdk.RemoteCmd) error {
	c.mu.Lock()
	c.commands = append(c.commands, cmd.Command)
	c.mu.Unlock()
	run := remoteRun{}
	if c.script != nil {
		run = c.script(cmd.Command)
	}
	if run.startErr != nil {
		return run.startErr
	}
	// RunWithUi swaps the writers back once it returns: take them now, as real communicators do.
	stdout, stderr := cmd.Stdout, cmd.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	c.running.Add(1)
	go func() {
		defer c.running.Done()
		for _, s := range run.stdout {
			io.WriteString(stdout, s)
		}
		for _, s := range run.stderr {
			io.WriteString(stderr, s)
		}
		if run.frame != nil {
			run.frame(readFrame(cmd.Stdin))
		}
		if run.afterOutput != nil {
			run.afterOutput()
		}
		if run.waitFor != nil {
			<-run.waitFor
		}
		if run.untilStdinEnds {
			if cmd.Stdin == nil {
				select {} // no input to end: the plan would run on
			}
			io.Copy(io.Discard, cmd.Stdin)
		}
		cmd.SetExited(run.exit)
	}()
	return nil
}

func (c *fakeComm) Upload(path string, r io.Reader, fi *os.FileInfo) error {
	if c.uploadErr != nil {
		return c.uploadErr
	}
	up := upload{path: path, size: -1}
	if fi != nil && *fi != nil {
		up.size = (*fi).Size()
	}
	if c.discard {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
	} else {
		data, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		up.data = data
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.uploads = append(c.uploads, up)
	return nil
}

func (c *fakeComm) UploadDir(dst, src string, exclude []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.uploadDirs = append(c.uploadDirs, src+" -> "+dst)
	return nil
}

func (c *fakeComm) Download(path string, w io.Writer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.downloads = append(c.downloads, path)
	return errors.New("fakeComm: no downloads")
}

func (c *fakeComm) DownloadDir(src, dst string, exclude []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.downloads = append(c.downloads, src)
	return errors.New("fakeComm: no downloads")
}

// lastUpload is the path of the latest upload, "" before any.
func (c *fakeComm) lastUpload() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.uploads) == 0 {
		return ""
	}
	return c.uploads[len(c.uploads)-1].path
}

// wait waits for every started command to exit.
func (c *fakeComm) wait(t testing.TB) {
	t.Helper()
	done := make(chan struct{})
	go func() { c.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a remote command never exited")
	}
}

// runScript answers the run command with run and the cancel command with exit 0.
func runScript(comm *fakeComm, run remoteRun) func(string) remoteRun {
	return func(command string) remoteRun {
		if path := comm.lastUpload(); path != "" && command == plan.CancelCommand(path) {
			return remoteRun{}
		}
		return run
	}
}

// preparedProvisioner prepares a provisioner for src with the given options set.
func preparedProvisioner(t testing.TB, src string, set map[string]interface{}) *Provisioner {
	t.Helper()
	p := &Provisioner{}
	if err := p.Prepare(rawConfig(src, set), packerRaw()); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	return p
}

// provision runs one Provision against comm with a timeout, so a hang fails the test.
func provision(t testing.TB, ctx context.Context, p *Provisioner, comm *fakeComm, ui packersdk.Ui) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- p.Provision(ctx, ui, comm, map[string]interface{}{}) }()
	select {
	case err := <-errc:
		comm.wait(t)
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("Provision did not return")
		return nil
	}
}

var remotePathPattern = regexp.MustCompile(`^/tmp/openhands-plan-[0-9a-f-]+\.run$`)

func TestProvisionOneUploadOneCommand(t *testing.T) {
	src := fixture.SourceDir(t)
	sbomPath := filepath.Join(t.TempDir(), "runtime.cdx.json")
	cases := []struct {
		name string
		set  map[string]interface{}
		// stdout is the plan's output.
		stdout []string
	}{
		{name: "defaults"},
		{name: "no browser, no verify", set: map[string]interface{}{"install_browser": false, "skip_verify": true}},
		{name: "no browser", set: map[string]interface{}{"install_browser": false, "platform": "amzn-2023"}},
		// The inventory comes with the plan's output: the SBOM costs no command of its own.
		{name: "with the SBOM", set: map[string]interface{}{"sbom": true, "sbom_path": sbomPath}, stdout: inventoryOutput},
	}
	stepCounts := map[int]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := preparedProvisioner(t, src, tc.set)
			comm := &fakeComm{}
			comm.script = runScript(comm, remoteRun{stdout: tc.stdout})
			if err := provision(t, context.Background(), p, comm, &recordingUi{}); err != nil {
				t.Fatalf("Provision: %v", err)
			}
			if len(comm.uploads) != 1 {
				t.Fatalf("%d uploads, want 1", len(comm.uploads))
			}
			up := comm.uploads[0]
			if !remotePathPattern.MatchString(up.path) {
				t.Errorf("uploaded to %q, want %s", up.path, remotePathPattern)
			}
			if up.size != int64(len(up.data)) {
				t.Errorf("upload FileInfo size %d, uploaded %d bytes", up.size, len(up.data))
			}
			if want := []string{plan.RunCommand(up.path, plan.StopOnEOF)}; !slices.Equal(comm.commands, want) {
				t.Errorf("commands = %q, want %q", comm.commands, want)
			}
			if len(comm.uploadDirs) != 0 || len(comm.downloads) != 0 {
				t.Errorf("UploadDir %q, downloads %q; want none", comm.uploadDirs, comm.downloads)
			}
			b := readBundle(t, up.data)
			steps := strings.Count(string(b.files[plan.BundleScript]), "\n\toh_run_step ")
			if steps < 5 {
				t.Errorf("plan.sh runs %d steps", steps)
			}
			stepCounts[steps] = true
		})
	}
	if len(stepCounts) < 2 {
		t.Errorf("the cases all had the same number of steps (%v); they should differ", stepCounts)
	}
}

// bundle is an uploaded bundle taken apart.
type bundle struct {
	header string
	offset int
	names  []string // tar entries in order
	files  map[string][]byte
	modes  map[string]int64
}

func readBundle(t testing.TB, data []byte) bundle {
	t.Helper()
	m := regexp.MustCompile(`(?m)^payload_offset=(\d+)$`).FindSubmatch(data)
	if m == nil {
		t.Fatalf("no payload_offset=N line in the bundle header:\n%.600s", data)
	}
	offset, _ := strconv.Atoi(string(m[1]))
	if offset <= 0 || offset >= len(data) {
		t.Fatalf("payload_offset=%d, bundle is %d bytes", offset, len(data))
	}
	b := bundle{header: string(data[:offset]), offset: offset, files: map[string][]byte{}, modes: map[string]int64{}}
	if !strings.HasPrefix(b.header, "#!/bin/sh\n") || !strings.HasSuffix(b.header, "exit \"$rc\"\n") {
		t.Errorf("the header is not exactly the launcher (payload_offset off?):\n%s", b.header)
	}
	if data[offset] != 0x1f || data[offset+1] != 0x8b {
		t.Fatalf("no gzip stream at payload_offset %d: % x", offset, data[offset:offset+2])
	}
	gz, err := gzip.NewReader(bytes.NewReader(data[offset:]))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading the payload: %v", err)
		}
		b.names = append(b.names, h.Name)
		b.modes[h.Name] = h.Mode
		if h.Typeflag == tar.TypeReg {
			content, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			b.files[h.Name] = content
		}
	}
	if _, err := io.Copy(io.Discard, gz); err != nil {
		t.Errorf("the gzip stream is not intact: %v", err)
	}
	return b
}

func TestProvisionUploadsValidBundle(t *testing.T) {
	src := fixture.SourceDir(t)
	fixture.WriteFile(t, "", filepath.Join(src, "poetry.lock"), "# lock\n", 0o644)
	fixture.WriteFile(t, "", filepath.Join(src, "openhands", "runtime", "tool.sh"), "#!/bin/sh\n", 0o755)
	fixture.WriteFile(t, "", filepath.Join(src, "openhands", "__pycache__", "x.pyc"), "bytecode", 0o644)
	fixture.WriteFile(t, "", filepath.Join(src, "tests", "test_x.py"), "not shipped", 0o644)
	tools := t.TempDir()
	uv := filepath.Join(tools, "uv-bin")
	mm := filepath.Join(tools, "mm-bin")
	fixture.WriteFile(t, "", uv, "fake uv binary", 0o644)
	fixture.WriteFile(t, "", mm, "fake micromamba binary", 0o644)

	t.Run("supplied binaries", func(t *testing.T) {
		// The poetry.lock here is a placeholder, packed as any file.
		p := preparedProvisioner(t, src, map[string]interface{}{"uv_path": uv, "micromamba_path": mm, "use_lock": false})
		comm := &fakeComm{}
		if err := provision(t, context.Background(), p, comm, &recordingUi{}); err != nil {
			t.Fatal(err)
		}
		b := readBundle(t, comm.uploads[0].data)
		if last := b.names[len(b.names)-1]; last != plan.BundleScript {
			t.Errorf("last tar entry is %q, want %s (rendered once the digests are known)", last, plan.BundleScript)
		}
		for name, want := range map[string]string{
			"code/pyproject.toml":            "[project]\nname = \"openhands-ai\"\nversion = \"0.0.0\"\n",
			"code/poetry.lock":               "# lock\n",
			"code/openhands/__init__.py":     "__version__ = '0.0.0'\n",
			"code/openhands/runtime/tool.sh": "#!/bin/sh\n",
			toolBundle(t, "uv"):              "fake uv binary",
			toolBundle(t, "micromamba"):      "fake micromamba binary",
		} {
			got, ok := b.files[name]
			if !ok {
				t.Errorf("the bundle has no %s; it holds %q", name, b.names)
			} else if string(got) != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		for name, mode := range map[string]int64{toolBundle(t, "uv"): 0o755, toolBundle(t, "micromamba"): 0o755, plan.BundleScript: 0o755,
			"code/openhands/runtime/tool.sh": 0o755, "code/pyproject.toml": 0o644} {
			if b.modes[name] != mode {
				t.Errorf("%s has mode %o, want %o", name, b.modes[name], mode)
			}
		}
		for _, name := range b.names {
			if strings.Contains(name, "__pycache__") || strings.Contains(name, "tests/") {
				t.Errorf("the bundle ships %s", name)
			}
		}
		script := string(b.files[plan.BundleScript])
		if !strings.HasPrefix(script, "#!/usr/bin/env bash\n") || !strings.Contains(script, "\noh_main \"$@\"\n") {
			t.Errorf("plan.sh is not a rendered plan:\n%.300s", script)
		}
		// plan.sh is rendered from digests taken while packing: the same as those computed
		// from the files on disk.
		files, err := plan.ListSource(src)
		if err != nil {
			t.Fatal(err)
		}
		in, err := plan.ComputeInputs(p.config.Options, files)
		if err != nil {
			t.Fatal(err)
		}
		if in.Supplied["uv"] == "" || in.Supplied["micromamba"] == "" {
			t.Fatalf("inputs lack the supplied binaries' digests: %+v", in)
		}
		if want := plan.New(p.config.Options, in).Script(version.PluginVersion.FormattedVersion()); script != want {
			t.Errorf("plan.sh differs from the plan rendered from ComputeInputs")
		}
		for _, name := range []string{toolBundle(t, "uv"), toolBundle(t, "micromamba")} {
			if !strings.Contains(script, `"$OH_BUNDLE/`+name+`"`) {
				t.Errorf("plan.sh does not install the supplied %s", name)
			}
		}
	})

	t.Run("downloaded binaries", func(t *testing.T) {
		p := preparedProvisioner(t, src, map[string]interface{}{"use_lock": false})
		comm := &fakeComm{}
		if err := provision(t, context.Background(), p, comm, &recordingUi{}); err != nil {
			t.Fatal(err)
		}
		b := readBundle(t, comm.uploads[0].data)
		for _, name := range []string{toolBundle(t, "uv"), toolBundle(t, "micromamba")} {
			if _, ok := b.files[name]; ok {
				t.Errorf("the bundle holds %s without a local path for it", name)
			}
		}
		if _, ok := b.files["code/pyproject.toml"]; !ok {
			t.Errorf("the bundle has no code/pyproject.toml: %q", b.names)
		}
	})
}

func TestProvisionExitStatus(t *testing.T) {
	src := fixture.SourceDir(t)
	failed := plan.StepFailedLine("dependencies", "2") + "\n"
	cases := []struct {
		name    string
		run     remoteRun
		wantErr []string // empty: Provision must succeed
		notWant []string
	}{
		{
			name: "exit 0",
			run:  remoteRun{stdout: []string{"[1/13] preflight\n", "openhands-runtime: plan finished in 3s\n"}},
		},
		{
			name: "a step fails",
			run: remoteRun{
				stdout: []string{joinLines(numberedLines("pip", 1, 20)), failed},
				exit:   2,
			},
			wantErr: append([]string{"openhands-runtime: ", `step "dependencies" failed with exit code 2`}, numberedLines("pip", 6, 20)...),
			notWant: []string{"pip-05", "pip-01"},
		},
		{
			name: "the login user cannot sudo",
			run: remoteRun{
				stderr: []string{"openhands-runtime: the login user ubuntu is not root and cannot run sudo without a password (sudo -n true failed); give it passwordless sudo, or connect as root\n"},
				exit:   plan.ExitNeedsSudo,
			},
			wantErr: []string{"needs root", "sudo"},
		},
		{
			name:    "the bundle cannot be unpacked",
			run:     remoteRun{stdout: []string{"openhands-runtime: the target has neither tar nor python3 to unpack the plan\n"}, exit: plan.ExitNoUnpack},
			wantErr: []string{"could not be unpacked", "neither tar nor python3"},
		},
		{
			name:    "an exit without a failure line",
			run:     remoteRun{stdout: []string{"Killed\n"}, exit: 137},
			wantErr: []string{"exited with code 137", "Killed"},
		},
		{
			name:    "the communicator cannot start the command",
			run:     remoteRun{startErr: errors.New("ssh: connection lost")},
			wantErr: []string{"running the OpenHands runtime plan", "ssh: connection lost"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := preparedProvisioner(t, src, nil)
			comm := &fakeComm{}
			comm.script = runScript(comm, tc.run)
			err := provision(t, context.Background(), p, comm, &recordingUi{})
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Provision: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Provision succeeded")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error contains %q:\n%v", w, err)
				}
			}
			if len(comm.commands) != 1 {
				t.Errorf("commands = %q, want the run command only", comm.commands)
			}
		})
	}
}

func TestProvisionTailIsAtMost15Lines(t *testing.T) {
	src := fixture.SourceDir(t)
	p := preparedProvisioner(t, src, nil)
	comm := &fakeComm{}
	comm.script = runScript(comm, remoteRun{
		stdout: []string{joinLines(numberedLines("x", 1, 100)), plan.StepFailedLine("dependencies", "2") + "\n"},
		exit:   2,
	})
	err := provision(t, context.Background(), p, comm, &recordingUi{})
	if err == nil {
		t.Fatal("Provision succeeded")
	}
	_, tail, ok := strings.Cut(err.Error(), "last output:\n")
	if !ok {
		t.Fatalf("no last output in %v", err)
	}
	lines := strings.Split(tail, "\n")
	if len(lines) != tailLines {
		t.Errorf("the error repeats %d lines, want %d:\n%s", len(lines), tailLines, tail)
	}
	if want := "    x-100"; lines[len(lines)-1] != want {
		t.Errorf("last repeated line %q, want %q", lines[len(lines)-1], want)
	}
}

func TestProvisionUploadError(t *testing.T) {
	p := preparedProvisioner(t, fixture.SourceDir(t), nil)
	comm := &fakeComm{uploadErr: errors.New("disk full")}
	err := provision(t, context.Background(), p, comm, &recordingUi{})
	if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.Contains(err.Error(), "/tmp/openhands-plan-") {
		t.Errorf("Provision = %v, want the upload error with the remote path", err)
	}
	if len(comm.commands) != 0 {
		t.Errorf("commands %q started after a failed upload", comm.commands)
	}
}

func TestProvisionHidesSecrets(t *testing.T) {
	src := fixture.SourceDir(t)
	p := preparedProvisioner(t, src, map[string]interface{}{
		"index_url":               "https://user:s3cret@pypi.example/simple",
		"environment_vars":        []interface{}{"HTTPS_PROXY=http://user:s3cret-proxy@proxy.example:3128"},
		"secret_environment_vars": []interface{}{"API_TOKEN=s3cret-token"},
	})
	comm := &fakeComm{}
	comm.script = runScript(comm, remoteRun{
		stdout: []string{
			"Looking in indexes: https://user:s3cret@pypi.example/simple\n",
			"s3cret alone\n",
			"proxy s3cret-proxy, token s3cret-token\n",
			plan.StepFailedLine("dependencies", "1") + "\n",
		},
		stderr: []string{"ERROR: 401 for https://user:s3cret@pypi.example/simple/foo\n"},
		exit:   1,
	})
	ui := &recordingUi{}
	err := provision(t, context.Background(), p, comm, ui)
	if err == nil {
		t.Fatal("Provision succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the password:\n%v", err)
	}
	if !strings.Contains(err.Error(), "https://user:****@pypi.example/simple") {
		t.Errorf("the error lost the redacted output:\n%v", err)
	}
	says, errs := ui.sayLines(), ui.errorLines()
	for _, l := range append(slices.Clone(says), errs...) {
		if strings.Contains(l, "s3cret") {
			t.Errorf("the Ui was shown the password: %q", l)
		}
	}
	for _, want := range []string{"Looking in indexes: https://user:****@pypi.example/simple", "**** alone", "proxy ****, token ****"} {
		if !slices.Contains(says, want) {
			t.Errorf("Say lines %q lack %q", says, want)
		}
	}
	if want := "ERROR: 401 for https://user:****@pypi.example/simple/foo"; !slices.Contains(errs, want) {
		t.Errorf("Error lines %q lack %q", errs, want)
	}
}

func TestProvisionStreamsLinesToUi(t *testing.T) {
	src := fixture.SourceDir(t)
	p := preparedProvisioner(t, src, nil)
	comm := &fakeComm{}
	comm.script = runScript(comm, remoteRun{
		// Output arrives in arbitrary chunks, with CRLF from some targets.
		stdout: []string{"[1/13] pre", "flight\n[1/13] preflight: done in 0s\r\n", "[2/13] system-packages\n", "no newline at the end"},
		stderr: []string{"warning: on stderr\n"},
	})
	ui := &recordingUi{}
	if err := provision(t, context.Background(), p, comm, ui); err != nil {
		t.Fatal(err)
	}
	says := ui.sayLines()
	if len(says) == 0 || !strings.HasPrefix(says[0], "Uploading the OpenHands runtime plan (") {
		t.Errorf("first Say %q, want the upload summary", says)
	}
	want := []string{"[1/13] preflight", "[1/13] preflight: done in 0s", "[2/13] system-packages", "no newline at the end"}
	if len(says) < 2 || !slices.Equal(says[1:len(says)-1], want) {
		t.Errorf("streamed Say lines = %q, want %q between the upload summary and the timing", says, want)
	}
	if last := says[len(says)-1]; !regexp.MustCompile(`^OpenHands runtime provisioned in \S+ \(bundle and upload \S+, plan \S+\)$`).MatchString(last) {
		t.Errorf("last Say %q, want the timing summary", last)
	}
	if errs := ui.errorLines(); !slices.Equal(errs, []string{"warning: on stderr"}) {
		t.Errorf("Error lines = %q, want the stderr line", errs)
	}
}

// inventoryOutput is a plan's output that ends with a complete inventory.
var inventoryOutput = []string{
	"[1/15] preflight\n",
	"openhands-inventory\tos\tdebian\t12\tx86_64\nopenhands-inventory\tdeb\tadduser\t3.134\tall\tadduser\t3.134\n",
	"openhands-inventory\tpypi\topenhands-ai\t0.0.0\nopenhands-inventory\tpypi\tpydantic\t2.11.7\n",
	"openhands-inventory\ttool\tuv\tuv 0.12.16\nopenhands-inventory\tend\t5\n",
	"openhands-runtime: plan finished in 3s\n",
}

func TestProvisionWritesTheSBOM(t *testing.T) {
	src := fixture.SourceDir(t)
	cases := []struct {
		name   string
		stdout []string
		exit   int
		// epoch is SOURCE_DATE_EPOCH, "" for unset; the SBOM's time is then this.
		epoch, timestamp string
		// err is the failure wanted, "" for an SBOM written.
		err string
	}{
		{name: "complete inventory", stdout: inventoryOutput},
		{name: "SOURCE_DATE_EPOCH", stdout: inventoryOutput, epoch: "1700000000", timestamp: "2023-11-14T22:13:20Z"},
		{name: "SOURCE_DATE_EPOCH not seconds", stdout: inventoryOutput, epoch: "yesterday", err: `the SBOM: SOURCE_DATE_EPOCH="yesterday" is not a whole number of seconds`},
		{name: "no inventory", stdout: []string{"openhands-runtime: plan finished in 3s\n"}, err: "the SBOM: the plan printed no complete inventory"},
		{name: "inventory cut short", stdout: inventoryOutput[:3], err: "the SBOM: the plan printed no complete inventory"},
		{name: "failed plan", stdout: inventoryOutput, exit: 1, err: "the plan exited with code 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SOURCE_DATE_EPOCH", tc.epoch)
			path := filepath.Join(t.TempDir(), "sub", "runtime.cdx.json")
			p := preparedProvisioner(t, src, map[string]interface{}{"sbom": true, "sbom_path": path})
			comm := &fakeComm{}
			comm.script = runScript(comm, remoteRun{stdout: tc.stdout, exit: tc.exit})
			ui := &recordingUi{}
			err := provision(t, context.Background(), p, comm, ui)
			if fixture.WantError(t, err, tc.err) {
				if _, statErr := os.Stat(path); statErr == nil {
					t.Error("an SBOM was written")
				}
				return
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{`"specVersion": "1.6"`, `"purl": "pkg:deb/debian/adduser@3.134?arch=all\u0026distro=debian-12"`, `"purl": "pkg:pypi/pydantic@2.11.7"`} {
				if !strings.Contains(string(data), want) {
					t.Errorf("the SBOM lacks %s:\n%s", want, data)
				}
			}
			if tc.timestamp != "" && !strings.Contains(string(data), `"timestamp": "`+tc.timestamp+`"`) {
				t.Errorf("the SBOM is not dated %s (SOURCE_DATE_EPOCH):\n%s", tc.timestamp, data)
			}
			says := strings.Join(ui.sayLines(), "\n")
			if strings.Contains(says, "openhands-inventory") {
				t.Errorf("the inventory was shown:\n%s", says)
			}
			if !regexp.MustCompile(`SBOM written to .*runtime\.cdx\.json \(5 components, sha256:[0-9a-f]{64}\), provenance to .*runtime\.provenance\.intoto\.json`).MatchString(says) {
				t.Errorf("no SBOM line in:\n%s", says)
			}
			// The target has no digest of its own: the provenance names it by its SBOM's.
			statement, err := os.ReadFile(sbom.ProvenancePath(path))
			if err != nil {
				t.Fatal(err)
			}
			st, err := sbom.DecodeStatement(statement)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			if len(st.Subject) != 1 || st.Subject[0].Digest["sha256"] != hex.EncodeToString(sum[:]) {
				t.Errorf("the provenance's subject %v is not the SBOM's digest", st.Subject)
			}
		})
	}
}

// TestProvisionCancelled: a cancelled build, or a Ctrl-C reaching the plugin (packer's process
// group gets it) before packer cancels, ends the plan's standard input, which stops the plan,
// and says it stopped once the plan's command has ended; a plan still running after that
// (stopWait) gets the stop command.
func TestProvisionCancelled(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop remoteRun
		// interrupt: SIGINT to this process rather than a cancelled context.
		interrupt bool
		// planIgnoresStdin: the plan runs on when its input ends, until the stop command.
		planIgnoresStdin bool
		say, errLine     string
	}{
		{name: "input ends", say: "Stopped the OpenHands runtime plan on the target"},
		{name: "interrupted", interrupt: true, say: "Stopped the OpenHands runtime plan on the target"},
		{name: "stop command exits 0", planIgnoresStdin: true, stop: remoteRun{exit: 0}, say: "Stopped the OpenHands runtime plan on the target"},
		{name: "stop command exits 1", planIgnoresStdin: true, stop: remoteRun{exit: 1}, errLine: "Could not stop the plan on the target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := fixture.SourceDir(t)
			p := preparedProvisioner(t, src, nil)
			p.stopWait = 200 * time.Millisecond
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.interrupt {
				cancel = func() {
					if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
						t.Error(err)
					}
				}
			}
			killed := make(chan struct{})
			var once sync.Once
			comm := &fakeComm{}
			comm.script = func(command string) remoteRun {
				if path := comm.lastUpload(); command == plan.CancelCommand(path) {
					// The stop command ends the plan, whether or not it then reports success.
					once.Do(func() { close(killed) })
					return tc.stop
				}
				// The plan runs until it is stopped; the build is cancelled meanwhile.
				run := remoteRun{stdout: []string{"[9/13] dependencies\n"}, afterOutput: cancel, exit: 143}
				if tc.planIgnoresStdin {
					run.waitFor = killed
				} else {
					run.untilStdinEnds = true
				}
				return run
			}
			ui := &recordingUi{}
			// provision fails the test when the plan's run has not ended.
			err := provision(t, ctx, p, comm, ui)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Provision = %v, want an error wrapping context.Canceled", err)
			}
			if len(comm.uploads) != 1 {
				t.Fatalf("%d uploads, want 1", len(comm.uploads))
			}
			path := comm.uploads[0].path
			want := []string{plan.RunCommand(path, plan.StopOnEOF)}
			if tc.planIgnoresStdin {
				want = append(want, plan.CancelCommand(path))
			}
			if !slices.Equal(comm.commands, want) {
				t.Errorf("commands = %q, want %q", comm.commands, want)
			}
			if !slices.Contains(ui.sayLines(), "Build cancelled: stopping the OpenHands runtime plan on the target") {
				t.Errorf("Say lines %q lack the cancel line", ui.sayLines())
			}
			if tc.say != "" && !slices.Contains(ui.sayLines(), tc.say) {
				t.Errorf("Say lines %q lack %q", ui.sayLines(), tc.say)
			}
			if errs := strings.Join(ui.errorLines(), "\n"); tc.errLine != "" && !strings.Contains(errs, tc.errLine) {
				t.Errorf("Error lines %q lack %q", errs, tc.errLine)
			}
		})
	}
}

// BenchmarkProvisionBundle measures one Provision, bundling included, of a source tree of
// 1,000 small files against a communicator that discards the upload and exits 0 at once.
func BenchmarkProvisionBundle(b *testing.B) {
	src := fixture.SourceDir(b)
	for i := 0; i < 1000; i++ {
		fixture.WriteFile(b, "", filepath.Join(src, "openhands", fmt.Sprintf("pkg%02d", i/50), fmt.Sprintf("mod%04d.py", i)),
			fmt.Sprintf("# module %d\n\ndef f%d(x):\n    return x * %d\n", i, i, i), 0o644)
	}
	p := preparedProvisioner(b, src, nil)
	files, err := plan.ListSource(src)
	if err != nil {
		b.Fatal(err)
	}
	if len(files) < 1000 {
		b.Fatalf("%d source files", len(files))
	}
	ctx := context.Background()
	ui := &recordingUi{}
	var size int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		comm := &fakeComm{discard: true}
		if err := p.Provision(ctx, ui, comm, nil); err != nil {
			b.Fatal(err)
		}
		comm.wait(b)
		size = comm.uploads[0].size
	}
	b.ReportMetric(float64(size), "bundle-bytes")
}

// toolBundle is where a supplied file of the named tool goes in the bundle.
func toolBundle(t *testing.T, name string) string {
	t.Helper()
	for _, tool := range plan.Tools {
		if tool.Name == name {
			return tool.Bundle
		}
	}
	t.Fatalf("no tool %q", name)
	return ""
}

// readFrame reads the secrets frame as the launcher does: the line "secrets N", then N bytes.
func readFrame(r io.Reader) string {
	var line []byte
	b := make([]byte, 1)
	for {
		if _, err := r.Read(b); err != nil || b[0] == '\n' {
			break
		}
		line = append(line, b[0])
	}
	var n int
	if _, err := fmt.Sscanf(string(line), "secrets %d", &n); err != nil {
		return "malformed: " + string(line)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return "short: " + err.Error()
	}
	return string(line) + "\n" + string(body)
}

// TestProvisionSendsSecretsOnStdin: the secrets travel on the run command's standard input,
// first, as the frame; the upload, which waits in /tmp for its run and may be readable there,
// holds none of them: not in its bytes, not in any file of its gzip-compressed payload.
func TestProvisionSendsSecretsOnStdin(t *testing.T) {
	src := fixture.SourceDir(t)
	for _, tc := range []struct {
		name    string
		set     map[string]interface{}
		secrets []string
	}{
		{"no secret", nil, nil},
		{"mirrors", map[string]interface{}{
			"index_url":        "https://ci:pw-index@pypi.internal/simple",
			"extra_index_urls": []string{"https://pypi.internal/public", "https://ci:pw-extra@wheels.internal/simple"},
			"channel_alias":    "https://ci:pw-alias@conda.internal/api",
		}, []string{"pw-index", "pw-extra", "pw-alias"}},
		{"tool URL with a query credential", map[string]interface{}{
			"uv_url":    "https://bucket.internal/uv.tar.gz?X-Amz-Signature=pw-signature",
			"uv_sha256": strings.Repeat("0", 64),
		}, []string{"pw-signature"}},
		{"environment", map[string]interface{}{
			"environment_vars":        []string{"HTTPS_PROXY=http://ci:pw-proxy@proxy.internal:3128"},
			"secret_environment_vars": []string{"API_TOKEN=pw-token"},
		}, []string{"pw-proxy", "pw-token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var frame string
			comm := &fakeComm{script: func(string) remoteRun {
				return remoteRun{frame: func(f string) { frame = f }}
			}}
			p := preparedProvisioner(t, src, tc.set)
			if err := provision(t, context.Background(), p, comm, packersdk.TestUi(t)); err != nil {
				t.Fatalf("Provision: %v", err)
			}
			if len(comm.uploads) != 1 {
				t.Fatalf("%d uploads, want 1", len(comm.uploads))
			}
			header, body, _ := strings.Cut(frame, "\n")
			if want := fmt.Sprintf("secrets %d", len(body)); header != want {
				t.Errorf("standard input starts %q, want %q", header, want)
			}
			if len(tc.secrets) == 0 && body != "" {
				t.Errorf("the frame carries %q without a secret in the options", body)
			}
			up := comm.uploads[0]
			files := readBundle(t, up.data).files
			for _, s := range tc.secrets {
				if !strings.Contains(body, s) {
					t.Errorf("the frame on standard input lacks %s: %q", s, frame)
				}
				if bytes.Contains(up.data, []byte(s)) {
					t.Errorf("the upload to %s holds %s", up.path, s)
				}
				for name, content := range files {
					if bytes.Contains(content, []byte(s)) {
						t.Errorf("%s in the upload holds %s", name, s)
					}
				}
			}
			if _, ok := files[plan.BundleSecrets]; ok {
				t.Errorf("the upload has a %s", plan.BundleSecrets)
			}
		})
	}
}
