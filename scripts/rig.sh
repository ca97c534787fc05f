#!/usr/bin/env bash
# The offline test rig: a Docker engine, packer, the docker and amazon plugins, and a
# Debian base image made without any registry. Each piece is reused when it is already there,
# so a warm machine is ready in seconds and a fresh one (Go only) builds everything once.
#
# usage: scripts/rig.sh [all|docker|packer|plugins|base-image|arm64-image|tools|env]
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
# Fewer packages than the amd64 image (everything runs emulated): what the plan's checks use;
# tests on it set system_packages = false.
ARM64_REVISION=1
ARM64_IMAGE=${OPENHANDS_RIG_ARM64_IMAGE:-openhands-rig/debian-arm64:bookworm-r$ARM64_REVISION}
ARM64_PACKAGES=python3,sudo,passwd,curl,ca-certificates,git,tmux,procps,findutils,util-linux,grep,sed,coreutils

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

# bootstrap_rootfs TARBALL ARCH PACKAGES DURATION: a Debian bookworm minbase root of ARCH
# with PACKAGES, made by debootstrap (under emulation for a foreign ARCH) and kept as TARBALL;
# nothing to do when TARBALL exists. DURATION is said while it runs.
bootstrap_rootfs() {
	local tarball=$1 arch=$2 packages=$3 logfile=$CACHE/debootstrap-$2.log root
	[ -s "$tarball" ] && return 0
	command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
	need_root "debootstrap"
	root=$(mktemp -d)
	log "debootstrap bookworm $arch into $root ($4)"
	debootstrap --arch="$arch" --variant=minbase --include="$packages" bookworm "$root" http://deb.debian.org/debian >"$logfile" 2>&1 ||
		{ tail -n 20 "$logfile" >&2; exit 1; }
	chroot "$root" apt-get clean
	rm -rf "$root"/var/lib/apt/lists/*
	tar -C "$root" -cf "$tarball.tmp" .
	mv "$tarball.tmp" "$tarball"
	rm -rf "$root"
}

ensure_base_image() {
	ensure_docker
	if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
		return
	fi
	local tarball=$CACHE/debian-bookworm-rootfs-r$BASE_REVISION.tar
	bootstrap_rootfs "$tarball" amd64 "$BASE_PACKAGES" "a few minutes"
	docker import --change 'CMD ["/bin/bash"]' "$tarball" "$BASE_IMAGE" >/dev/null
	log "base image $BASE_IMAGE ready"
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
	local tarball=$CACHE/debian-bookworm-arm64-rootfs-r$ARM64_REVISION.tar
	bootstrap_rootfs "$tarball" arm64 "$ARM64_PACKAGES" "emulated: several minutes"
	local archive
	archive=$(mktemp)
	(cd "$(dirname "$0")/.." && go run ./internal/rig/loadimage -rootfs "$tarball" -arch arm64 -tag "$ARM64_IMAGE" -o "$archive")
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

case ${1:-all} in
all)
	ensure_tools
	ensure_docker
	ensure_plugins
	ensure_base_image
	ensure_arm64_image || log "no arm64 userland here: the arm64 tests will skip, saying why"
	;;
tools) ensure_tools ;;
bench-tools) command -v gnuplot >/dev/null 2>&1 || apt_install gnuplot-nox ;;
docker) ensure_docker ;;
packer) ensure_packer ;;
plugins) ensure_plugins ;;
base-image) ensure_base_image ;;
arm64-image) ensure_arm64_image ;;
env) print_env ;;
*)
	log "unknown target '$1' (want all, docker, packer, plugins, base-image, tools or env)"
	exit 2
	;;
esac
