// Package imagepush pushes an image of the local Docker engine to any OCI registry without
// the engine's own push: Pusher reads the engine's export (`docker save`), compresses the
// layers on every core (compress.go: pgzip or zstd, deterministic) and uploads each with
// go-containerregistry while it is compressed (export.go, layer.go); the blob cache
// (blobcache.go) remembers each layer's blob, so that an unchanged layer is found in the
// registry, or mounted from another repository of it (mount.go), without exporting it
// again. The manifest is left to the caller to put under its tags, after the blobs; NewIndex
// makes a multi-platform index of pushed manifests and PushReferrer attaches a document
// (an SBOM, a provenance) to one. Nothing here knows a registry's API beyond the
// distribution API: the caller logs in and gives RemoteOptions.
//
// ExportLacksLayerError is the failure a caller branches on: an export that cannot be pushed
// this way (Retryable says not to try again).
package imagepush
