package imagepush

import (
	"net/http"
	"time"

	"github.com/docker/docker/api/types/registry"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// RemoteOptions are what every call to the registry goes with: the login as
// go-containerregistry takes it, and registryTransport.
func RemoteOptions(auth registry.AuthConfig) []remote.Option {
	return []remote.Option{
		remote.WithAuth(authn.FromConfig(authn.AuthConfig{Username: auth.Username, Password: auth.Password})),
		remote.WithTransport(registryTransport),
	}
}

// registryResponseTimeout bounds the wait for a registry's answer once a request is sent:
// a registry (or a proxy before it) that takes a request and never answers would otherwise
// hold the push for ever, since retries only follow an answer or an error.
var registryResponseTimeout = 2 * time.Minute

// registryTransport is the transport of every registry call (newRegistryTransport).
var registryTransport http.RoundTripper = newRegistryTransport(registryResponseTimeout)

// newRegistryTransport is go-containerregistry's default transport with a bound on the
// wait for a response's headers.
func newRegistryTransport(responseTimeout time.Duration) *http.Transport {
	t := remote.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = responseTimeout
	return t
}
