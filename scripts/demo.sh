#!/usr/bin/env bash
# The offline demo: build an OpenHands runtime image with the openhands-runtime provisioner on
# the rig's Debian base image, with the stand-ins for micromamba and uv and the fixture
# source tree, then show what the image holds. Run through `make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/rig.sh env)"
export CHECKPOINT_DISABLE=1 # no version check or telemetry from packer

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A plugin folder of the demo's own: the rig's plugins plus the binary just built.
cp -r "$PACKER_PLUGIN_PATH/." "$work/plugins"
export PACKER_PLUGIN_PATH=$work/plugins
"$PACKER" plugins install --path ./packer-plugin-openhands github.com/openhands-runtime/openhands >/dev/null
cp -r internal/rig/testdata/openhands-src "$work/openhands-src"

"$PACKER" build -color=false \
	-var "base_image=$OPENHANDS_RIG_BASE_IMAGE" \
	-var "source_dir=$work/openhands-src" \
	-var "micromamba_path=$PWD/internal/rig/standins/micromamba" \
	-var "uv_path=$PWD/internal/rig/standins/uv" \
	-var "vscode_server_path=$(go run ./internal/rig/vscode-tarball)" \
	example/offline.pkr.hcl

echo
echo "== the image openhands-runtime-demo:latest, as the openhands user:"
docker run --rm --network=none --user openhands openhands-runtime-demo:latest bash -lc '
	set -e
	. /etc/environment
	echo "OH_INTERPRETER_PATH=$OH_INTERPRETER_PATH"
	"$OH_INTERPRETER_PATH" -c "import openhands.core.config, pydantic, litellm; print(\"imports: ok\")"
	echo "distributions: $(/openhands/bin/uv pip list --python "$OH_INTERPRETER_PATH" --format freeze | wc -l)"
	stat -c "owner of /openhands/micromamba: %U" /openhands/micromamba'
