package engine

import (
	"archive/tar"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// fakeEngine is the part of the Docker Engine API that RunScript uses, on 127.0.0.1: it
// records the create request and answers with output and an exit code.
type fakeEngine struct {
	output   string
	exitCode int
	// files are the image's files by path, which the archive endpoint serves.
	files map[string]string
	// images are the engine's records of images by reference, which the inspect endpoint serves.
	images map[string]image.InspectResponse

	mu      sync.Mutex
	created []container.CreateRequest
	calls   []string
}

var apiVersionPrefix = regexp.MustCompile(`^/v[0-9.]+`)

func (f *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := apiVersionPrefix.ReplaceAllString(r.URL.Path, "")
	f.mu.Lock()
	f.calls = append(f.calls, r.Method+" "+path)
	f.mu.Unlock()
	const id = "verifycontainer"
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/images/") && strings.HasSuffix(path, "/json"):
		img, ok := f.images[strings.TrimSuffix(strings.TrimPrefix(path, "/images/"), "/json")]
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message": "No such image"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(img)
	case r.Method == http.MethodPost && path == "/containers/create":
		var req container.CreateRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.created = append(f.created, req)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"Id": %q, "Warnings": []}`, id)
	case r.Method == http.MethodPost && path == "/containers/"+id+"/start":
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet && path == "/containers/"+id+"/logs":
		w.Header().Set("Content-Type", "application/vnd.docker.multiplexed-stream")
		_, _ = stdcopy.NewStdWriter(w, stdcopy.Stdout).Write([]byte(f.output))
	case r.Method == http.MethodGet && path == "/containers/"+id+"/archive":
		content, ok := f.files[r.URL.Query().Get("path")]
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message": "Could not find the file in container"}`)
			return
		}
		stat, _ := json.Marshal(container.PathStat{Name: "file", Size: int64(len(content)), Mode: 0o644})
		w.Header().Set("X-Docker-Container-Path-Stat", base64.StdEncoding.EncodeToString(stat))
		w.Header().Set("Content-Type", "application/x-tar")
		tw := tar.NewWriter(w)
		_ = tw.WriteHeader(&tar.Header{Name: "file", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(content))})
		_, _ = tw.Write([]byte(content))
		_ = tw.Close()
	case r.Method == http.MethodPost && path == "/containers/"+id+"/wait":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"StatusCode": %d}`, f.exitCode)
	case r.Method == http.MethodDelete && path == "/containers/"+id:
		if r.URL.Query().Get("force") != "1" {
			http.Error(w, "not forced", http.StatusConflict)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "the fake engine does not answer "+r.Method+" "+path, http.StatusNotFound)
	}
}

// record is what the engine was asked: the create requests and every call.
func (f *fakeEngine) record() ([]container.CreateRequest, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]container.CreateRequest(nil), f.created...), append([]string(nil), f.calls...)
}

// fakeEngineClient is an engine client of the fake engine.
func fakeEngineClient(t *testing.T, fake *fakeEngine) *Client {
	t.Helper()
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	c, err := client.NewClientWithOpts(client.WithHost("tcp://"+strings.TrimPrefix(srv.URL, "http://")),
		client.WithHTTPClient(srv.Client()), client.WithVersion("1.47"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &Client{Client: c}
}

const imageID = "sha256:1111111111111111111111111111111111111111111111111111111111111111"

// TestClientReadFileRunsNothing reads a file of an image through the engine client
// against a fake Engine API: from a container created without network and never started,
// removed afterwards; a missing file is not found, not an error.
func TestClientReadFileRunsNothing(t *testing.T) {
	fake := &fakeEngine{files: map[string]string{plan.RecordPath: `{"version":1}`}}
	driver := fakeEngineClient(t, fake)
	data, found, err := driver.ReadFile(context.Background(), imageID, plan.RecordPath, 1<<20)
	if err != nil || !found || string(data) != `{"version":1}` {
		t.Errorf("ReadFile = %q, %v, %v; want the file", data, found, err)
	}
	data, found, err = driver.ReadFile(context.Background(), imageID, "/etc/missing", 1<<20)
	if err != nil || found || data != nil {
		t.Errorf("ReadFile of a missing file = %q, %v, %v; want not found", data, found, err)
	}
	created, calls := fake.record()
	for _, req := range created {
		if req.HostConfig == nil || req.HostConfig.NetworkMode != "none" || req.Image != imageID {
			t.Errorf("created %+v: want the image without network", req)
		}
	}
	want := []string{"POST /containers/create", "GET /containers/verifycontainer/archive", "DELETE /containers/verifycontainer"}
	if !reflect.DeepEqual(calls, append(want, want...)) {
		t.Errorf("calls %q, want %q twice: nothing started, the container removed", calls, want)
	}
}

// TestClientRunScriptWithoutNetwork runs the engine client's RunScript against a
// fake Engine API and checks what it asked the engine for: a container with NetworkMode
// "none" and no network endpoints, as root, running the script; and that it streams the
// output, returns the exit code and removes the container.
func TestClientRunScriptWithoutNetwork(t *testing.T) {
	for _, exitCode := range []int{0, 3} {
		t.Run(fmt.Sprintf("exit %d", exitCode), func(t *testing.T) {
			fake := &fakeEngine{output: "check one: ok\ncheck two: ok\n", exitCode: exitCode}
			c := fakeEngineClient(t, fake)
			var out strings.Builder
			code, err := c.RunScript(context.Background(), imageID, "root", "oh_verify", func(line string) { out.WriteString(line + "\n") })
			if err != nil {
				t.Fatal(err)
			}
			if code != exitCode {
				t.Errorf("exit code %d, want %d", code, exitCode)
			}
			created, calls := fake.record()
			if len(created) != 1 {
				t.Fatalf("%d containers created, want 1", len(created))
			}
			req := created[0]
			if req.HostConfig == nil {
				t.Error("the verification container was created without a HostConfig: it gets the default network")
			} else if req.HostConfig.NetworkMode != "none" {
				t.Errorf("the verification container was created with NetworkMode %q, want \"none\"", req.HostConfig.NetworkMode)
			}
			if req.NetworkingConfig != nil && len(req.NetworkingConfig.EndpointsConfig) != 0 {
				t.Errorf("the verification container was attached to networks %v", req.NetworkingConfig.EndpointsConfig)
			}
			if req.Config == nil || req.Image != imageID || req.User != "root" || !reflect.DeepEqual([]string(req.Entrypoint), []string{"/bin/bash", "-c", "oh_verify"}) {
				t.Errorf("created %+v: want the image as root running bash -c the script", req.Config)
			}
			if !strings.Contains(out.String(), "check one: ok") || !strings.Contains(out.String(), "check two: ok") {
				t.Errorf("the script's output was not shown: %q", out.String())
			}
			if last := calls[len(calls)-1]; last != "DELETE /containers/verifycontainer" {
				t.Errorf("calls %q: the container should be removed last", calls)
			}
		})
	}
}

// TestClientImage inspects images through a fake Engine API: what the engine records, with
// the platform as os/architecture/variant; a reference it does not know is an InspectError
// matching ErrImageNotFound that names the reference; another failure does not match it.
func TestClientImage(t *testing.T) {
	record := image.InspectResponse{
		ID: imageID, RepoDigests: []string{"registry/runtime@sha256:" + strings.Repeat("d", 64)},
		Created: "2026-01-02T03:04:05.123456789Z", Os: "linux", Architecture: "arm64", Variant: "v8",
		RootFS: image.RootFS{Type: "layers", Layers: []string{"sha256:" + strings.Repeat("a", 64)}},
	}
	c := fakeEngineClient(t, &fakeEngine{images: map[string]image.InspectResponse{"runtime:latest": record}})
	got, err := c.Image(context.Background(), "runtime:latest")
	want := Image{ID: imageID, RepoDigests: record.RepoDigests, Created: time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC),
		Platform: "linux/arm64/v8", Layers: record.RootFS.Layers}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Image = %+v, %v; want %+v", got, err, want)
	}

	_, err = c.Image(context.Background(), "runtime:missing")
	var inspect *InspectError
	if !errors.Is(err, ErrImageNotFound) || !errors.As(err, &inspect) || inspect.Ref != "runtime:missing" ||
		!strings.HasPrefix(err.Error(), "inspecting image runtime:missing: ") {
		t.Errorf("Image of a missing reference: %v; want an InspectError naming it that matches ErrImageNotFound", err)
	}
	if other := (&InspectError{Ref: "runtime:latest", Err: context.DeadlineExceeded}); errors.Is(other, ErrImageNotFound) {
		t.Errorf("%v matches ErrImageNotFound", other)
	}
}
