// Command packer-plugin-openhands is the Packer plugin that builds OpenHands runtime
// environments: the openhands-runtime builder (Docker images) and provisioner (AMIs and any
// host) and the openhands-ecr post-processor. See docs/ARCHITECTURE.md.
package main
