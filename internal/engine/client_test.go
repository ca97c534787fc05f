package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/docker/docker/client"
)

// TestClientTag tags through a fake Engine API: the request names the image, repository and
// tag, and a refusal says which image and reference it was about.
func TestClientTag(t *testing.T) {
	const image = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	tests := []struct {
		name, ref, wantQuery string
		status               int
		wantErr              string
	}{
		{name: "tagged", ref: "127.0.0.1:5000/agents/runtime:v1", wantQuery: "repo=127.0.0.1%3A5000%2Fagents%2Fruntime&tag=v1", status: http.StatusCreated},
		{name: "refused", ref: "runtime:v1", wantQuery: "repo=docker.io%2Flibrary%2Fruntime&tag=v1", status: http.StatusNotFound,
			wantErr: "tagging " + image + " as runtime:v1: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Method + " " + r.URL.Path[strings.Index(r.URL.Path, "/images/"):] + "?" + r.URL.RawQuery
				if tt.status >= 400 {
					http.Error(w, `{"message":"No such image"}`, tt.status)
					return
				}
				w.WriteHeader(tt.status)
			}))
			t.Cleanup(srv.Close)
			c, err := client.NewClientWithOpts(client.WithHost("tcp://"+strings.TrimPrefix(srv.URL, "http://")),
				client.WithHTTPClient(srv.Client()), client.WithVersion("1.47"))
			if err != nil {
				t.Fatal(err)
			}
			err = (&Client{c}).Tag(context.Background(), image, tt.ref)
			if want := "POST /images/" + image + "/tag?" + tt.wantQuery; got != want {
				t.Errorf("the engine was asked %q, want %q", got, want)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Tag: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)):
				t.Errorf("Tag: %v, want an error starting %q", err, tt.wantErr)
			}
		})
	}
}
