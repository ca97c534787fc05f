package engine

import (
	"fmt"
	"os"

	"github.com/docker/docker/client"
)

// Client is the Driver on the Docker Engine API, the one client of every component.
type Client struct {
	*client.Client
}

// NewClient connects as the docker CLI does: DOCKER_HOST and the other DOCKER_* variables
// are honoured and the API version is negotiated, so Engine 20.10 and current engines work.
func NewClient() (*Client, error) {
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("connecting to the Docker engine (DOCKER_HOST=%q): %w", os.Getenv("DOCKER_HOST"), err)
	}
	return &Client{c}, nil
}
