package rig

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/acctest"
)

// PackerRun is a `packer build` started as a terminal starts it: in a process group of its
// own, which the plugins it starts join, so Interrupt reaches them all as Ctrl-C does.
type PackerRun struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
	// interrupted is when Interrupt sent SIGINT.
	interrupted time.Time
	// logfile is the Packer log (PACKER_LOG=1), as acctest.TestPlugin keeps it.
	logfile string
}

// syncBuffer is the build's output, read while packer writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// StartPacker writes template to a file and starts `packer build` on it, with args (such as
// -on-error=abort) before the file; the run is ended when the test ends, in case the test
// stops early.
func StartPacker(t *testing.T, packer, template string, args ...string) *PackerRun {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "build.pkr.hcl")
	if err := os.WriteFile(path, []byte(template), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &PackerRun{out: &syncBuffer{}, done: make(chan struct{}), logfile: filepath.Join(dir, "packer.log")}
	r.cmd = exec.Command(packer, append(append([]string{"build", "-color=false"}, args...), path)...)
	r.cmd.Env = append(os.Environ(), "PACKER_LOG=1", "PACKER_LOG_PATH="+r.logfile)
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.err = r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
			<-r.done
		}
	})
	return r
}

// Output is what the build printed so far.
func (r *PackerRun) Output() string { return r.out.String() }

// Log is the Packer log (PACKER_LOG=1) so far.
func (r *PackerRun) Log(t *testing.T) string {
	t.Helper()
	return ReadLog(t, r.logfile)
}

// WaitFor waits until cond holds (polled every 200 ms) and fails the test if the build ends
// or the timeout passes first.
func (r *PackerRun) WaitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		select {
		case <-r.done:
			t.Fatalf("the build ended before %s:\n%s", what, r.Output())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %s:\n%s", what, timeout, r.Output())
		}
	}
}

// Interrupt sends SIGINT to the build's process group, as a terminal's Ctrl-C does.
func (r *PackerRun) Interrupt(t *testing.T) {
	t.Helper()
	r.interrupted = time.Now()
	if err := syscall.Kill(-r.cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
}

// Interrupted is when Interrupt was called.
func (r *PackerRun) Interrupted() time.Time { return r.interrupted }

// Wait waits for the build to end and returns its exit code, failing the test after timeout.
func (r *PackerRun) Wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(timeout):
		t.Fatalf("the build did not end within %s:\n%s", timeout, r.Output())
	}
	if r.cmd.ProcessState == nil {
		t.Fatalf("packer build: %v", r.err)
	}
	return r.cmd.ProcessState.ExitCode()
}

// RequireLines fails the test for each wanted text the output lacks.
func (r *PackerRun) RequireLines(t *testing.T, want ...string) {
	t.Helper()
	out := r.Output()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("the build's output lacks %q:\n%s", w, out)
		}
	}
}

// Rerun is acctest.TestPlugin of the build that follows a fault (space freed, the build
// interrupted before): check is its Check; the log's "recovered in" line is the time to
// recover, which make reliability reports.
func Rerun(t *testing.T, name, template string, check func(*exec.Cmd, string) error) {
	t.Helper()
	start := time.Now()
	acctest.TestPlugin(t, &acctest.PluginTestCase{Name: name, Template: template, Check: check})
	if !t.Failed() {
		t.Logf("recovered in %s: the re-run completed", Elapsed(start))
	}
}

// Elapsed formats a duration since start for a test log.
func Elapsed(start time.Time) string {
	return fmt.Sprint(time.Since(start).Round(100 * time.Millisecond))
}

// WaitContainerGone fails the test when the container id still exists (running or not)
// timeout after since, and logs how long it took to go.
func WaitContainerGone(t *testing.T, id string, since time.Time, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; time.Sleep(500 * time.Millisecond) {
		out, err := exec.Command("docker", "ps", "-aq", "--filter", "id="+id).Output()
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(string(out)) == "" {
			t.Logf("the build container went %s after the interrupt", Elapsed(since))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the build container %s is left after the interrupt", id)
		}
	}
}
