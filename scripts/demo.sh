#!/usr/bin/env bash
# The demo: build an OpenHands runtime image with the openhands-runtime provisioner on the
# rig's Debian 13 base image, installing the fixture checkout's real dependencies (about 390
# distributions from PyPI, through the rig's local package index) with the real uv, then show
# what the image holds. micromamba and openvscode-server stay stand-ins: conda-forge and
# GitHub releases cannot be reached here; the stand-in micromamba gives the environment the
# base image's Python 3.13, and is told to leave out the stub modules it writes for Poetry's
# dependencies (real ones come from conda-forge). Playwright's browser host cannot be reached either, so the
# browser step is off. Run through `make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/rig.sh demo
eval "$(bash scripts/rig.sh env)"
export CHECKPOINT_DISABLE=1 # no version check or telemetry from packer

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A plugin folder of the demo's own: the rig's plugins plus the binary just built.
cp -r "$PACKER_PLUGIN_PATH/." "$work/plugins"
export PACKER_PLUGIN_PATH=$work/plugins
"$PACKER" plugins install --path ./packer-plugin-openhands github.com/openhands-runtime/openhands >/dev/null
# The fixture's poetry.lock pins the uv stand-in's wheels: without it the real uv resolves
# pyproject.toml against the index (use_lock defaults to false when there is no lock).
cp -r acctest/rig/testdata/openhands-src "$work/openhands-src"
rm "$work/openhands-src/poetry.lock"

# The container shares the host's network for one reason: the index on 127.0.0.1. Anything
# else goes to a proxy on a closed loopback port, so nothing leaves the machine.
"$PACKER" build -color=false \
	-var "base_image=$OPENHANDS_RIG_TRIXIE_IMAGE" \
	-var "source_dir=$work/openhands-src" \
	-var "micromamba_path=$PWD/acctest/rig/standins/micromamba" \
	-var "uv_path=$OPENHANDS_RIG_UV" \
	-var "vscode_server_path=$(go run ./acctest/rig/vscode-tarball)" \
	-var "index_url=$OPENHANDS_RIG_INDEX_URL" \
	-var "container_network=host" \
	-var "python_version=3.13" \
	-var "install_browser=false" \
	-var 'environment_vars=["MICROMAMBA_STANDIN_SITE_DEPS=none", "http_proxy=http://127.0.0.1:9", "https_proxy=http://127.0.0.1:9", "no_proxy=127.0.0.1,localhost"]' \
	example/offline.pkr.hcl

echo
echo "== the image openhands-runtime-demo:latest, as the openhands user:"
docker run --rm --network=none --user openhands openhands-runtime-demo:latest bash -lc '
	set -e
	. /etc/environment
	echo "OH_INTERPRETER_PATH=$OH_INTERPRETER_PATH"
	"$OH_INTERPRETER_PATH" -c "import openhands.core.config, pydantic, litellm; print(\"imports: ok (litellm \" + __import__(\"importlib.metadata\").metadata.version(\"litellm\") + \")\")"
	echo "distributions: $(/openhands/bin/uv pip list --python "$OH_INTERPRETER_PATH" --format freeze | wc -l)"
	stat -c "owner of /openhands/micromamba: %U" /openhands/micromamba'
