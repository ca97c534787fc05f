// Package engine is the plugin's one driver of the Docker engine (Driver, and Client on the
// Engine API), used by the builder and the post-processor: local images, builds, pulls,
// pushes, the network-less container that runs a script in an image (run.go: the ECR
// verification and the builder's inventory), the reading of the engine's JSON message
// streams (messages.go, with BuildKit's progress records in buildkit.go), and the tag
// syntax (names.go).
package engine
