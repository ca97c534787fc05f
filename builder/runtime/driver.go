package runtimebuilder

import (
	"context"
	"errors"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/engine"
)

// localImageID is the id of a local image, or "" when the engine has none by that name.
func localImageID(ctx context.Context, driver engine.Driver, ref string) (string, error) {
	img, err := driver.Image(ctx, ref)
	if errors.Is(err, engine.ErrImageNotFound) {
		return "", nil
	}
	return img.ID, err
}
