package imagepush

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/registry"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestRegistryCallsBounded: a registry on loopback that answers the version check but
// then takes a request and never answers fails a registry call once registryResponseTimeout passes,
// instead of holding the push for ever. Without the transport's response-header timeout the
// call would wait until the test's own deadline.
func TestRegistryCallsBounded(t *testing.T) {
	// The version check answers; every other request is read and never answered.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}))
	t.Cleanup(srv.Close)
	old := registryTransport
	registryTransport = newRegistryTransport(300 * time.Millisecond)
	t.Cleanup(func() { registryTransport = old })

	ref, err := name.NewDigest(strings.TrimPrefix(srv.URL, "http://")+"/agents/runtime@sha256:"+strings.Repeat("0", 64), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	_, err = remote.Head(ref, append(RemoteOptions(registry.AuthConfig{Username: "AWS", Password: "pw"}), remote.WithContext(ctx),
		remote.WithRetryBackoff(remote.Backoff{Steps: 1}))...) // one attempt: the subject is the transport's bound, not the retries
	if err == nil || !strings.Contains(err.Error(), "timeout awaiting response headers") {
		t.Fatalf("Head against a silent registry: %v, want the response-header timeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the call took %s, want about the response timeout", d)
	}
}

// TestRegistryTransportTimeout: the transport every registry call uses carries the bound.
func TestRegistryTransportTimeout(t *testing.T) {
	tr, ok := registryTransport.(*http.Transport)
	if !ok || tr.ResponseHeaderTimeout != registryResponseTimeout || registryResponseTimeout <= 0 {
		t.Fatalf("registryTransport %T without the response-header timeout %s", registryTransport, registryResponseTimeout)
	}
}
