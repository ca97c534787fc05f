package imagepush

import (
	"errors"
	"fmt"
)

// ExportLacksLayerError is an export of the image without one of its uncompressed layers:
// an engine with the containerd image store exports compressed layers, named by their
// compressed digests, which the pusher cannot use. Pushing again gives the same; the
// engine's own push can push the image.
type ExportLacksLayerError struct {
	// DiffID is the layer's uncompressed digest.
	DiffID string
}

func (e *ExportLacksLayerError) Error() string {
	return fmt.Sprintf("the engine's export of the image lacks its uncompressed layer %s (an engine with the containerd image store exports compressed ones): nothing was tagged", e.DiffID)
}

// Retryable says whether a push that failed with err may succeed when tried again: not when
// the export cannot give what the push needs.
func Retryable(err error) bool {
	var lacks *ExportLacksLayerError
	return !errors.As(err, &lacks)
}
