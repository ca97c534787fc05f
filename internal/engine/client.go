package engine

import (
	"context"
	"fmt"
	"os"

	"github.com/docker/docker/client"
)

// Client is the Docker Engine API client of every component; each keeps its own small
// driver interface over it.
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

// Tag names the image ref.
func (c *Client) Tag(ctx context.Context, imageID, ref string) error {
	if err := c.ImageTag(ctx, imageID, ref); err != nil {
		return fmt.Errorf("tagging %s as %s: %w", imageID, ref, err)
	}
	return nil
}
