// Package rig is the test rig of the acceptance tests: the Docker engine, Packer and the
// plugins, the base images, the local PyPI mirror, the stand-ins for micromamba, uv, Poetry
// and openvscode-server, the OpenHands fixture checkout, and the helpers that run `packer
// build` and look into what it made. scripts/rig.sh prepares it.
package rig
