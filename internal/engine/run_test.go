package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// TestScriptContainerHasNoNetwork checks the configuration a script runs in (the ECR
// post-processor's verification, the builder's inventory): the script as root's entrypoint,
// no network, nothing published or mounted.
func TestScriptContainerHasNoNetwork(t *testing.T) {
	config, host := ScriptContainer("sha256:0123", "root", "echo checks")
	if host.NetworkMode != "none" || !host.NetworkMode.IsNone() {
		t.Errorf("NetworkMode %q, want \"none\"", host.NetworkMode)
	}
	if len(host.PortBindings) != 0 || host.PublishAllPorts || len(host.ExtraHosts) != 0 || len(host.DNS) != 0 || len(host.Links) != 0 {
		t.Errorf("network settings on a container without network: %+v", host)
	}
	if host.Privileged || len(host.Binds) != 0 || len(host.Mounts) != 0 || len(host.CapAdd) != 0 {
		t.Errorf("privileges or mounts: %+v", host)
	}
	if len(config.ExposedPorts) != 0 {
		t.Errorf("exposed ports %v", config.ExposedPorts)
	}
	if config.Image != "sha256:0123" || config.User != "root" || !reflect.DeepEqual([]string(config.Entrypoint), []string{"/bin/bash", "-c", "echo checks"}) || len(config.Cmd) != 0 {
		t.Errorf("config %+v: want the image, as root, bash -c the script, no command", config)
	}
}

// TestFileFromArchive reads the file of an archive as the Engine API gives a container's path
// (ReadFile), and refuses what is no regular file or too large.
func TestFileFromArchive(t *testing.T) {
	archive := func(hdr *tar.Header, content string) *bytes.Buffer {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		if hdr != nil {
			hdr.Size = int64(len(content))
			if err := tw.WriteHeader(hdr); err != nil {
				t.Fatal(err)
			}
			if _, err := tw.Write([]byte(content)); err != nil {
				t.Fatal(err)
			}
		}
		tw.Close()
		return &b
	}
	tests := []struct {
		name    string
		archive *bytes.Buffer
		want    string
		wantErr string
	}{
		{"a file", archive(&tar.Header{Name: "build-options.json", Typeflag: tar.TypeReg, Mode: 0o644}, `{"version":1}`), `{"version":1}`, ""},
		{"an empty file", archive(&tar.Header{Name: "empty", Typeflag: tar.TypeReg, Mode: 0o644}, ""), "", ""},
		{"a directory", archive(&tar.Header{Name: "build-options.json/", Typeflag: tar.TypeDir, Mode: 0o755}, ""), "", "build-options.json/ is not a regular file"},
		{"a symlink", archive(&tar.Header{Name: "build-options.json", Typeflag: tar.TypeSymlink, Linkname: "/etc/shadow"}, ""), "", "build-options.json is not a regular file"},
		{"too large", archive(&tar.Header{Name: "big", Typeflag: tar.TypeReg, Mode: 0o644}, strings.Repeat("x", 65)), "", "big has 65 bytes, more than the 64 expected"},
		{"no file", archive(nil, ""), "", "the engine's archive holds no file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fileFromArchive(tt.archive, 64)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// fakeScriptEngine answers the Engine API calls RunScript makes: create, start, the logs
// (written by logs, multiplexed as the engine does for a container without a TTY), wait and
// remove. It records whether the container was removed.
func fakeScriptEngine(t *testing.T, logs func(w io.Writer, r *http.Request)) (*Client, *atomic.Bool) {
	t.Helper()
	var removed atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(p, "/containers/create"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"Id":"c1","Warnings":[]}`)
		case strings.HasSuffix(p, "/containers/c1/start"):
			w.WriteHeader(http.StatusNoContent)
		case strings.HasSuffix(p, "/containers/c1/logs"):
			w.Header().Set("Content-Type", "application/vnd.docker.multiplexed-stream")
			w.WriteHeader(http.StatusOK)
			logs(stdcopy.NewStdWriter(flushingWriter{w}, stdcopy.Stdout), r)
		case strings.HasSuffix(p, "/containers/c1/wait"):
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"StatusCode":0}`)
		case r.Method == http.MethodDelete && strings.HasSuffix(p, "/containers/c1"):
			removed.Store(true)
			w.WriteHeader(http.StatusNoContent)
		default:
			http.Error(w, "unexpected "+r.Method+" "+p, http.StatusNotImplemented)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := client.NewClientWithOpts(client.WithHost("tcp://"+strings.TrimPrefix(srv.URL, "http://")),
		client.WithHTTPClient(srv.Client()), client.WithVersion("1.47"))
	if err != nil {
		t.Fatal(err)
	}
	return &Client{c}, &removed
}

// flushingWriter sends each write to the client at once, as the engine streams logs.
type flushingWriter struct{ w http.ResponseWriter }

func (f flushingWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	f.w.(http.Flusher).Flush()
	return n, err
}

// TestRunScriptBounded: a script whose output never ends is stopped at ScriptTimeout with an
// error that says so, and its container is removed; a line longer than plan.MaxOutputLine
// fails the run instead of silently dropping the output after it (the checks' verdicts).
func TestRunScriptBounded(t *testing.T) {
	t.Run("stalled output", func(t *testing.T) {
		old := ScriptTimeout
		ScriptTimeout = 300 * time.Millisecond
		t.Cleanup(func() { ScriptTimeout = old })
		c, removed := fakeScriptEngine(t, func(w io.Writer, r *http.Request) {
			io.WriteString(w, "check started\n")
			<-r.Context().Done() // a check that waits forever
		})
		var lines []string
		start := time.Now()
		_, err := c.RunScript(context.Background(), "sha256:0123", "root", "sleep infinity", func(l string) { lines = append(lines, l) })
		if err == nil || !strings.Contains(err.Error(), "did not finish within") {
			t.Fatalf("RunScript: %v, want a timeout error", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("RunScript returned after %s, want about %s", d, ScriptTimeout)
		}
		if !reflect.DeepEqual(lines, []string{"check started"}) {
			t.Errorf("lines %q, want the line written before the stall", lines)
		}
		if !removed.Load() {
			t.Error("the stalled container was not removed")
		}
	})
	t.Run("over-long line", func(t *testing.T) {
		c, _ := fakeScriptEngine(t, func(w io.Writer, _ *http.Request) {
			io.WriteString(w, "first\n"+strings.Repeat("x", plan.MaxOutputLine+1)+"\ncheck chromium: FAILED\n")
		})
		var lines []string
		_, err := c.RunScript(context.Background(), "sha256:0123", "root", "checks", func(l string) { lines = append(lines, l) })
		if err == nil || !strings.Contains(err.Error(), "longer than") {
			t.Fatalf("RunScript: %v, want an error naming the over-long line", err)
		}
		if !reflect.DeepEqual(lines, []string{"first"}) {
			t.Errorf("lines %d, want only the line before the long one", len(lines))
		}
	})
	t.Run("ordinary run", func(t *testing.T) {
		c, removed := fakeScriptEngine(t, func(w io.Writer, _ *http.Request) { io.WriteString(w, "a\nb\n") })
		var lines []string
		code, err := c.RunScript(context.Background(), "sha256:0123", "root", "checks", func(l string) { lines = append(lines, l) })
		if err != nil || code != 0 || !reflect.DeepEqual(lines, []string{"a", "b"}) || !removed.Load() {
			t.Errorf("RunScript = %d, %v, lines %q, removed %v; want 0, nil, [a b], true", code, err, lines, removed.Load())
		}
	})
}
