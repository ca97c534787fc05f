#!/usr/bin/env bash
# OpenHands runtime install plan, rendered by packer-plugin-openhands test.
# Steps: preflight, system-packages, uv, user, directories, micromamba, python-env, vscode-server, code, dependencies, browser, environment, cleanup, verify.
set -euo pipefail
umask 022
exec 2>&1

# Options. Exported so that steps run as the runtime user see them too.
OH_BUNDLE=$(cd "$(dirname "$0")" && pwd)
export OH_BUNDLE
export OH_PREFIX='/srv/openhands'
export OH_USER='agent'
export OH_UID='2000'
export OH_ENV='openhands'
export OH_PYTHON_VERSION='3.11'
export OH_CODE="$OH_PREFIX/code"
export OH_ENV_BIN="$OH_PREFIX/micromamba/envs/$OH_ENV/bin"
export OH_ENV_PY="$OH_ENV_BIN/python$OH_PYTHON_VERSION"
export OH_KEEP_UID_OWNER=''
export OH_STAMPS="/var/lib/openhands-runtime$OH_PREFIX"
export OH_STEP_COUNT=14
export OH_NETWORK_RETRIES=5
export OH_MIN_FREE_DISK_GB=0
export OH_CONDA_CHANNEL='conda-forge'
export OH_CHANNEL_ALIAS='https://artifactory.internal/artifactory/api/conda'
export OH_INDEX_URL='https://builder:s3cr3t-Golden-pw@pypi.internal/simple'
export OH_EXTRA_INDEX_URLS='https://torch.internal/whl/cpu http://wheels.internal:8080/simple'
export OH_EXTRA_PIP_PACKAGES='notebook>=7 flake8'
export PLAYWRIGHT_BROWSERS_PATH='/opt/playwright-browsers'
export MAMBA_ROOT_PREFIX="$OH_PREFIX/micromamba"
export PYTHONDONTWRITEBYTECODE=1
export OH_MM="$OH_PREFIX/micromamba/bin/micromamba"
export OH_MICROMAMBA_URL=''
export OH_MICROMAMBA_SHA256=''
export OH_UV="$OH_PREFIX/bin/uv"
export OH_UV_URL=''
export OH_UV_SHA256=''
export OH_VSCODE_SERVER="$OH_PREFIX/.openvscode-server"
export OH_VSCODE_SERVER_URL=''
export OH_VSCODE_SERVER_SHA256='8e5c6e5523dffc2dcf615bd995554c84c9feb4e577808a3fb8698a639d3f8d9c'
export HTTPS_PROXY='http://proxy.internal:3128'
export NO_PROXY='localhost,.internal'
export MOTD='it'\''s offline'

# oh_step_failed NAME CODE: the line that tells the plugin which step failed.
oh_step_failed() { oh_say "openhands-runtime: step $1 failed with exit code $2"; }
# Helpers shared by the steps of the plan. Every value comes from the OH_* variables set above.

oh_say() { printf '%s\n' "$*"; }

oh_die() {
	printf 'openhands-runtime: %s\n' "$*" >&2
	exit 1
}

# oh_retry CMD...: run CMD, retrying network work OH_NETWORK_RETRIES times with growing pauses.
oh_retry() {
	local attempt=0 rc
	while :; do
		rc=0
		"$@" || rc=$?
		[ "$rc" -eq 0 ] && return 0
		attempt=$((attempt + 1))
		if [ "$attempt" -gt "$OH_NETWORK_RETRIES" ]; then
			oh_say "command failed with exit code $rc after $attempt attempts: $1"
			return "$rc"
		fi
		oh_say "command failed with exit code $rc (attempt $attempt of $((OH_NETWORK_RETRIES + 1))), retrying in $((attempt * 5))s: $1"
		sleep $((attempt * 5))
	done
}

# oh_download URL DEST: one download attempt with curl or wget. The URL is never printed.
oh_download() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL --retry 0 -o "$2" "$1"
	elif command -v wget >/dev/null 2>&1; then
		wget -q -O "$2" "$1"
	else
		oh_die "neither curl nor wget is installed; enable system_packages or supply the file with *_path"
	fi
}

# oh_fetch_checked URL SHA256 DEST: download and verify; a mismatch names both sums.
oh_fetch_checked() {
	local url=$1 want=$2 dest=$3 got
	oh_download "$url" "$dest.part" || return
	got=$(sha256sum "$dest.part" | cut -d' ' -f1)
	if [ "$got" != "$want" ]; then
		rm -f "$dest.part"
		oh_say "checksum mismatch for $(oh_redact "$url"): expected sha256 $want, got $got"
		return 1
	fi
	mv "$dest.part" "$dest"
}

# oh_redact URL: the URL without its user info, for messages.
oh_redact() { printf '%s' "$1" | sed -E 's#^([a-z]+://)[^/@]*@#\1****@#'; }

# oh_install_binary NAME SUPPLIED URL SHA256 DEST: put an executable at DEST, from the file
# shipped in the bundle when there is one, else from URL (a bare binary or a .tar.gz holding
# an executable called NAME).
oh_install_binary() {
	local name=$1 supplied=$2 url=$3 sum=$4 dest=$5 tmp found
	install -d -m 0755 "$(dirname "$dest")"
	if [ -n "$supplied" ]; then
		install -m 0755 "$supplied" "$dest"
		return
	fi
	[ -n "$url" ] || oh_die "$name: no pinned download for $OH_ARCH; set ${name}_url with ${name}_sha256, or ${name}_path"
	tmp=$(mktemp -d)
	oh_retry oh_fetch_checked "$url" "$sum" "$tmp/download" || { rm -rf "$tmp"; return 1; }
	case $url in
	*.tar.gz | *.tgz)
		tar -xzf "$tmp/download" -C "$tmp"
		found=$(find "$tmp" -type f -name "$name" | head -n 1)
		[ -n "$found" ] || { rm -rf "$tmp"; oh_die "$name: the archive from $(oh_redact "$url") holds no file called $name"; }
		install -m 0755 "$found" "$dest"
		;;
	*) install -m 0755 "$tmp/download" "$dest" ;;
	esac
	rm -rf "$tmp"
}

# oh_install_tree NAME MARKER SUPPLIED URL SHA256 DEST: unpack a release tarball (the file
# shipped in the bundle when there is one, else the checked download from URL) and put its
# directory that holds MARKER at DEST, replacing what was there.
oh_install_tree() {
	local name=$1 marker=$2 supplied=$3 url=$4 sum=$5 dest=$6 tmp archive found
	install -d -m 0755 "$(dirname "$dest")"
	# Beside DEST, so the final move is a rename.
	tmp=$(mktemp -d "$(dirname "$dest")/.openhands-$name.XXXXXX")
	archive=$supplied
	if [ -z "$archive" ]; then
		[ -n "$url" ] || { rm -rf "$tmp"; oh_die "$name: no pinned download for $OH_ARCH; set ${name}_url with ${name}_sha256, or ${name}_path"; }
		[ -n "$sum" ] || { rm -rf "$tmp"; oh_die "$name: no checksum for $(oh_redact "$url"); set ${name}_sha256, or upload the tarball with ${name}_path"; }
		oh_retry oh_fetch_checked "$url" "$sum" "$tmp/download" || { rm -rf "$tmp"; return 1; }
		archive=$tmp/download
	fi
	install -d "$tmp/tree"
	tar -xzf "$archive" -C "$tmp/tree" || { rm -rf "$tmp"; oh_die "$name: cannot unpack the tarball"; }
	found=$(find "$tmp/tree" -path "*/$marker" -type f | head -n 1)
	[ -n "$found" ] || { rm -rf "$tmp"; oh_die "$name: the tarball holds no $marker"; }
	rm -rf "$dest"
	mv "${found%/"$marker"}" "$dest"
	rm -rf "$tmp"
}

# oh_stamp_matches NAME VALUE / oh_stamp_write NAME VALUE: the record of a finished step's
# inputs, which lets a second run skip it.
oh_stamp_matches() { [ "$(cat "$OH_STAMPS/$1" 2>/dev/null)" = "$2" ]; }
oh_stamp_write() {
	install -d -m 0755 "$OH_STAMPS"
	printf '%s\n' "$2" >"$OH_STAMPS/$1"
}

# oh_set_line FILE KEY LINE: make LINE the only line of FILE that starts with KEY=.
oh_set_line() {
	local file=$1 key=$2 line=$3 tmp
	touch "$file"
	tmp=$(mktemp)
	grep -v "^$key=" "$file" >"$tmp" || true
	printf '%s\n' "$line" >>"$tmp"
	cat "$tmp" >"$file"
	rm -f "$tmp"
}

# oh_set_block FILE: replace (or add) the block between the plan's markers with stdin. Pure
# bash: minimal images (the amazonlinux:2023 container) may lack awk.
oh_set_block() {
	local file=$1 tmp line skip='' begin='# >>> openhands runtime >>>' end='# <<< openhands runtime <<<'
	touch "$file"
	tmp=$(mktemp)
	while IFS= read -r line || [ -n "$line" ]; do
		[ "$line" != "$begin" ] || skip=1
		[ -n "$skip" ] || printf '%s\n' "$line"
		[ "$line" != "$end" ] || skip=''
	done <"$file" >"$tmp"
	{
		printf '%s\n' "$begin"
		cat
		printf '%s\n' "$end"
	} >>"$tmp"
	cat "$tmp" >"$file"
	rm -f "$tmp"
}

# oh_missing_packages NAME...: the packages not installed. "a|b" is satisfied by either and
# installs the first the repositories offer; "?name" is skipped with a notice when the
# repositories lack it. One package-database query for all names: a second run's check.
oh_missing_packages() {
	local spec alt alts found installed names='' nl='
'
	# Pure parameter expansion: a subshell per package costs more than the query itself.
	for spec in "$@"; do
		alts=${spec#\?}
		names="$names ${alts//|/ }"
	done
	# shellcheck disable=SC2086 # one word per package name
	installed=$nl$(oh_pkg_installed_names $names)$nl
	for spec in "$@"; do
		found=
		alts=${spec#\?}
		for alt in ${alts//|/ }; do
			case $installed in
			*"$nl$alt$nl"*)
				found=1
				break
				;;
			esac
		done
		[ -n "$found" ] || printf '%s\n' "$spec"
	done
}

# oh_pick_available SPEC: the package name to install for a missing SPEC, or nothing.
oh_pick_available() {
	local alt
	for alt in $(printf '%s' "${1#\?}" | tr '|' ' '); do
		if oh_pkg_available "$alt"; then
			printf '%s\n' "$alt"
			return
		fi
	done
	case $1 in
	\?*) oh_say "notice: ${1#\?} is not in this platform's repositories; skipped" >&2 ;;
	*) printf '%s\n' "${1%%|*}" ;;
	esac
}

# oh_in_container: whether the plan is making a container image: a layer of the builder's
# Dockerfile (--steps), or a container that Docker or Podman runs (they mark it).
oh_in_container() { [ -n "$OH_ONLY_STEPS" ] || [ -f /.dockerenv ] || [ -f /run/.containerenv ]; }

# oh_free_id ID: in a container image, remove the base image's user and group that hold ID
# (pn in nikolaik/python-nodejs, ubuntu in ubuntu:24.04), so the runtime user gets the id
# OpenHands' launcher passes (--user-id 1000). Never root, the runtime user, the login user
# that runs the plan through sudo, or anything when keep_uid_owner is set.
oh_free_id() {
	local id=$1 owner group
	if [ -n "$OH_KEEP_UID_OWNER" ] || ! oh_in_container; then
		return 0
	fi
	owner=$(getent passwd "$id" | cut -d: -f1)
	if [ -n "$owner" ] && [ "$owner" != root ] && [ "$owner" != "$OH_USER" ] && [ "$owner" != "${SUDO_USER:-}" ]; then
		userdel "$owner"
		oh_say "removed user $owner of the base image, which held uid $id (option keep_uid_owner keeps it)"
	fi
	group=$(getent group "$id" | cut -d: -f1)
	# A group still some user's primary group stays (the login user's own).
	if [ -n "$group" ] && [ "$group" != root ] && [ "$group" != "$OH_USER" ] &&
		! getent passwd | cut -d: -f4 | grep -qx "$id"; then
		groupdel "$group"
		oh_say "removed group $group of the base image, which held gid $id"
	fi
}

# oh_pick_id: the UID/GID for the runtime user: OH_UID when set (it must be free), else 1000
# when free as both, else the next id free as both. Login users are never touched.
oh_pick_id() {
	local id=${OH_UID:-}
	oh_free_id "${id:-1000}" >&2
	if [ -n "$id" ]; then
		if getent passwd "$id" >/dev/null; then
			oh_die "uid $id (option uid) is taken by user $(getent passwd "$id" | cut -d: -f1); choose a free uid or leave uid unset"
		fi
		printf '%s\n' "$id"
		return
	fi
	id=1000
	while getent passwd "$id" >/dev/null || getent group "$id" >/dev/null; do
		id=$((id + 1))
	done
	printf '%s\n' "$id"
}

# oh_check_disk: refuse to start when the prefix's filesystem is too small.
oh_check_disk() {
	local dir=$OH_PREFIX avail need
	[ "$OH_MIN_FREE_DISK_GB" -gt 0 ] || return 0
	while [ ! -d "$dir" ]; do dir=$(dirname "$dir"); done
	avail=$(df -Pk "$dir" | {
		read -r _
		read -r _ _ _ free _
		printf '%s' "$free"
	})
	need=$((OH_MIN_FREE_DISK_GB * 1024 * 1024))
	if [ "$avail" -lt "$need" ]; then
		oh_die "only $((avail / 1024 / 1024)) GiB free on the filesystem of $dir, the runtime needs $OH_MIN_FREE_DISK_GB GiB (option min_free_disk_gb)"
	fi
	oh_say "free disk: $((avail / 1024 / 1024)) GiB on the filesystem of $dir"
}

# oh_as USER FUNCTION: run a step function as root or as the runtime user, in a subshell
# with strict error handling. The runtime user gets the functions on its command line and
# the options through the exported environment, which other users cannot read.
oh_as() {
	if [ "$1" = root ] || [ "$(id -un)" = "$OH_USER" ]; then
		(
			set -euo pipefail
			"$2"
		)
	else
		oh_as_user bash -c "set -euo pipefail; $(declare -f); $2"
	fi
}

# oh_as_user CMD...: run CMD as the runtime user, keeping the exported environment.
oh_as_user() {
	if [ "$(id -un)" = "$OH_USER" ]; then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		runuser -u "$OH_USER" -- "$@"
	else
		# Minimal images may lack util-linux's runuser; sudo is one of the plan's packages.
		sudo -E -H -u "$OH_USER" -- "$@"
	fi
}

# OH_CHANGED lists the skippable steps that ran in this run: cleanup has work only then.
OH_CHANGED=

# OH_ONLY_STEPS, set by `plan.sh --steps a,b` (an image layer of the builder's Dockerfile),
# runs just those steps, unconditionally: the image's layer cache decides what is rebuilt.
OH_ONLY_STEPS=

# oh_run_step INDEX NAME USER STAMP INVALIDATES: announce, skip when already done, run, time.
oh_run_step() {
	local index=$1 name=$2 user=$3 stamp=$4 invalidates=$5 fn started rc=0 dropped
	fn=oh_step_${name//-/_}
	if [ -n "$OH_ONLY_STEPS" ]; then
		case ",$OH_ONLY_STEPS," in
		*",$name,"*) stamp='' ;;
		*) return 0 ;;
		esac
	fi
	oh_say "[$index/$OH_STEP_COUNT] $name"
	if [ -z "$OH_ONLY_STEPS" ] && declare -F "${fn}_check" >/dev/null &&
		{ [ -z "$stamp" ] || oh_stamp_matches "$name" "$stamp"; } &&
		oh_as "$user" "${fn}_check" >/dev/null 2>&1; then
		oh_say "[$index/$OH_STEP_COUNT] $name: skipped (already done)"
		return 0
	fi
	for dropped in $invalidates; do
		rm -f "$OH_STAMPS/$dropped"
	done
	started=$SECONDS
	# Not `oh_as ... || rc=$?`: bash ignores errexit in every command of an || list, subshells
	# included, so a root step would go on after a failing command and report its last status.
	set +e
	oh_as "$user" "${fn}_run"
	rc=$?
	set -e
	if [ "$rc" -ne 0 ]; then
		oh_step_failed "$name" "$rc"
		exit "$rc"
	fi
	[ -z "$stamp" ] || oh_stamp_write "$name" "$stamp"
	if declare -F "${fn}_check" >/dev/null; then
		OH_CHANGED="$OH_CHANGED $name"
	fi
	oh_say "[$index/$OH_STEP_COUNT] $name: done in $((SECONDS - started))s"
}

# oh_check_as_user FUNCTION: run a verification check as the runtime user, without errexit
# (a check's status is that of its last command).
oh_check_as_user() {
	if [ "$(id -un)" = "$OH_USER" ]; then
		"$1"
	else
		oh_as_user bash -c "$(declare -f); $1"
	fi
}

# oh_one_line TEXT: the last non-empty line of TEXT, short enough for a report.
oh_one_line() { printf '%s\n' "$1" | sed '/^[[:space:]]*$/d' | tail -n 1 | cut -c1-300; }

# oh_probe_result INDEX OUTPUT: the result of Python check INDEX in the output of the program
# that ran them all; without one, the program's last line says why it stopped.
oh_probe_result() {
	local line status index detail
	while IFS= read -r line; do
		IFS='	' read -r status index detail <<<"$line"
		if [ "$index" = "$1" ] && { [ "$status" = ok ] || [ "$status" = FAILED ]; }; then
			printf '%s\n' "$detail"
			[ "$status" = ok ]
			return
		fi
	done <<<"$2"
	printf 'no result from %s: %s\n' "$OH_ENV_PY" "$(oh_one_line "$2")"
	return 1
}


# oh_detect_platform: set the platform variables from /etc/os-release, or refuse.
# shellcheck disable=SC1091 # the target's own file
oh_detect_platform() {
	local id version_id pretty
	[ -r /etc/os-release ] || { oh_say "openhands-runtime: /etc/os-release is missing; cannot tell the platform"; return 1; }
	id=$(. /etc/os-release && printf '%s' "${ID:-}")
	version_id=$(. /etc/os-release && printf '%s' "${VERSION_ID:-}")
	pretty=$(. /etc/os-release && printf '%s' "${PRETTY_NAME:-}")
	case "$id:$version_id" in
	ubuntu:24.04) OH_PLATFORM_NAME='Ubuntu 24.04' OH_FAMILY=apt OH_ADMIN_GROUP=sudo OH_BASHRC=/etc/bash.bashrc ;;
	*)
		oh_say "openhands-runtime: unsupported platform: /etc/os-release has ID=\"$id\" VERSION_ID=\"$version_id\"${pretty:+ ($pretty)}; supported: Ubuntu 24.04"
		return 1
		;;
	esac
	OH_ARCH=$(uname -m)
	case $OH_ARCH in
	x86_64 | aarch64) ;;
	*)
		oh_say "openhands-runtime: unsupported architecture $OH_ARCH; supported: x86_64, aarch64"
		return 1
		;;
	esac
	case $OH_FAMILY in
	apt)
		OH_SYSTEM_PACKAGES='wget curl ca-certificates sudo git jq tmux build-essential ripgrep ffmpeg coreutils util-linux procps findutils grep sed libatomic1 libgl1|libgl1-mesa-glx libasound2-plugins ffmpeg'
		OH_BROWSER_LIBRARIES=''
		;;
	esac
	if [ -z "$OH_MICROMAMBA_URL" ]; then
		case $OH_ARCH in
		aarch64) OH_MICROMAMBA_URL='https://github.com/mamba-org/micromamba-releases/releases/download/2.9.0-0/micromamba-linux-aarch64' OH_MICROMAMBA_SHA256=${OH_MICROMAMBA_SHA256:-9f93b974adcb4d166996af969b6cd371287d1a3e52733704727884d9b74cb7a7} ;;
		x86_64) OH_MICROMAMBA_URL='https://github.com/mamba-org/micromamba-releases/releases/download/2.9.0-0/micromamba-linux-64' OH_MICROMAMBA_SHA256=${OH_MICROMAMBA_SHA256:-366cd9cd8be14df1ab8ed50352a82111082a36686b2d389fdb79a92c3fafb3e3} ;;
		esac
		export OH_MICROMAMBA_URL OH_MICROMAMBA_SHA256
	fi
	if [ -z "$OH_UV_URL" ]; then
		case $OH_ARCH in
		aarch64) OH_UV_URL='https://github.com/astral-sh/uv/releases/download/0.12.16/uv-aarch64-unknown-linux-gnu.tar.gz' OH_UV_SHA256=${OH_UV_SHA256:-36d913ee9c647481d64f1a0a0485f85ff2feaee605c341fc22e73398f9212c26} ;;
		x86_64) OH_UV_URL='https://github.com/astral-sh/uv/releases/download/0.12.16/uv-x86_64-unknown-linux-gnu.tar.gz' OH_UV_SHA256=${OH_UV_SHA256:-8e5c6e5523dffc2dcf615bd995554c84c9feb4e577808a3fb8698a639d3f8d9c} ;;
		esac
		export OH_UV_URL OH_UV_SHA256
	fi
	if [ -z "$OH_VSCODE_SERVER_URL" ]; then
		case $OH_ARCH in
		aarch64) OH_VSCODE_SERVER_URL='https://github.com/gitpod-io/openvscode-server/releases/download/openvscode-server-v1.98.2/openvscode-server-v1.98.2-linux-arm64.tar.gz' OH_VSCODE_SERVER_SHA256=${OH_VSCODE_SERVER_SHA256:-} ;;
		x86_64) OH_VSCODE_SERVER_URL='https://github.com/gitpod-io/openvscode-server/releases/download/openvscode-server-v1.98.2/openvscode-server-v1.98.2-linux-x64.tar.gz' OH_VSCODE_SERVER_SHA256=${OH_VSCODE_SERVER_SHA256:-} ;;
		esac
		export OH_VSCODE_SERVER_URL OH_VSCODE_SERVER_SHA256
	fi
	export OH_PLATFORM_NAME OH_FAMILY OH_ADMIN_GROUP OH_BASHRC OH_ARCH OH_SYSTEM_PACKAGES OH_BROWSER_LIBRARIES
}

# Package manager functions.
oh_pkg_installed_names() {
	# Unknown names make dpkg-query exit 1 after it listed the known ones.
	{ dpkg-query -W -f='${db:Status-Status} ${Package}\n' "$@" 2>/dev/null || true; } | while read -r status name; do
		[ "$status" != installed ] || printf '%s\n' "$name"
	done
}
oh_pkg_available() { apt-cache show "$1" >/dev/null 2>&1; }
oh_pkg_refresh() { oh_retry apt-get update -qq; }
oh_pkg_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"; }
oh_pkg_clean() {
	apt-get clean
	# Not a glob: the system-packages step runs with set -f (package specs are words).
	find /var/lib/apt/lists -mindepth 1 -maxdepth 1 -exec rm -rf {} +
}
oh_verify() {
	local failed='' output rc probe=''
	probe=$(oh_as_user "$OH_ENV_PY" - 2>&1 <<'OH_PYTHON_CHECKS'
import importlib, os, sys

class CheckFailed(Exception):
    pass

def report(index, check):
    try:
        status, detail = "ok", check()
    except CheckFailed as e:
        status, detail = "FAILED", str(e)
    except BaseException as e:
        status, detail = "FAILED", "%s: %s" % (type(e).__name__, e)
    print("%s\t%d\t%s" % (status, index, " ".join(str(detail).split())), flush=True)

def check_1():
    m = importlib.import_module("openhands")
    return getattr(m, "__version__", "imported")

report(1, check_1)

def check_2():
    m = importlib.import_module("playwright")
    return getattr(m, "__version__", "imported")

report(2, check_2)

def check_3():
    import openhands
    location = os.path.dirname(os.path.abspath(openhands.__file__))
    want = os.path.join(os.environ["OH_CODE"], "openhands")
    if location != want:
        raise CheckFailed("openhands from %s, want %s" % (location, want))
    return "openhands from " + location

report(3, check_3)

def check_4():
    import importlib.metadata
    names = {(d.metadata["Name"] or "").lower().replace("_", "-") for d in importlib.metadata.distributions()}
    names.discard("")
    detail = "%d distributions (at least 250 wanted)" % len(names)
    if len(names) < 250:
        raise CheckFailed(detail)
    return detail

report(4, check_4)

def check_9():
    m = importlib.import_module("kernel_gateway")
    return "kernel_gateway " + getattr(m, "__version__", "imported")

report(9, check_9)
OH_PYTHON_CHECKS
	) || true
	oh_check_1() {
		oh_probe_result 1 "$probe"
	}
	rc=0
	output=$(oh_check_1 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check import openhands: ok ($(oh_one_line "$output"))"
	else
		oh_say "check import openhands: FAILED ($(oh_one_line "$output"))"
		failed="$failed, import openhands"
	fi
	oh_check_2() {
		oh_probe_result 2 "$probe"
	}
	rc=0
	output=$(oh_check_2 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check import playwright: ok ($(oh_one_line "$output"))"
	else
		oh_say "check import playwright: FAILED ($(oh_one_line "$output"))"
		failed="$failed, import playwright"
	fi
	oh_check_3() {
		oh_probe_result 3 "$probe"
	}
	rc=0
	output=$(oh_check_3 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check editable install: ok ($(oh_one_line "$output"))"
	else
		oh_say "check editable install: FAILED ($(oh_one_line "$output"))"
		failed="$failed, editable install"
	fi
	oh_check_4() {
		oh_probe_result 4 "$probe"
	}
	rc=0
	output=$(oh_check_4 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check package count: ok ($(oh_one_line "$output"))"
	else
		oh_say "check package count: FAILED ($(oh_one_line "$output"))"
		failed="$failed, package count"
	fi
	oh_check_5() {
		stray=$(find "$OH_PREFIX/micromamba" ! -user "$OH_USER" -print -quit 2>&1)
		if [ -n "$stray" ]; then echo "not owned by $OH_USER: $stray"; exit 1; fi
		echo "$OH_PREFIX/micromamba owned by $OH_USER"
	}
	rc=0
	output=$(oh_check_5 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check micromamba ownership: ok ($(oh_one_line "$output"))"
	else
		oh_say "check micromamba ownership: FAILED ($(oh_one_line "$output"))"
		failed="$failed, micromamba ownership"
	fi
	oh_check_6() {
		interpreter=$(sed -n 's/^OH_INTERPRETER_PATH=//p' /etc/environment | tail -n 1)
		echo "OH_INTERPRETER_PATH=$interpreter"
		[ -n "$interpreter" ] && [ -x "$interpreter" ]
	}
	rc=0
	output=$(oh_check_6 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check interpreter path: ok ($(oh_one_line "$output"))"
	else
		oh_say "check interpreter path: FAILED ($(oh_one_line "$output"))"
		failed="$failed, interpreter path"
	fi
	oh_check_7() {
		found=$(find "$PLAYWRIGHT_BROWSERS_PATH" -mindepth 1 -maxdepth 1 -name 'chromium-*' -print -quit 2>/dev/null)
		echo "${found:-no chromium-* under $PLAYWRIGHT_BROWSERS_PATH}"
		[ -n "$found" ]
	}
	rc=0
	output=$(oh_check_7 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check chromium: ok ($(oh_one_line "$output"))"
	else
		oh_say "check chromium: FAILED ($(oh_one_line "$output"))"
		failed="$failed, chromium"
	fi
	oh_check_8() {
		cd "$OH_CODE" || exit 1
		# Without bytecode: the check must leave no root-owned __pycache__ in the code directory.
		out=$(env -i HOME=/root 'LANG=C.UTF-8' 'LC_ALL=C.UTF-8' 'EDITOR=code' 'VISUAL=code' 'GIT_EDITOR=code --wait' 'OPENVSCODE_SERVER_ROOT=/srv/openhands/.openvscode-server' 'POETRY_VIRTUALENVS_PATH=/srv/openhands/poetry' 'MAMBA_ROOT_PREFIX=/srv/openhands/micromamba' 'OH_INTERPRETER_PATH=/srv/openhands/micromamba/envs/openhands/bin/python' 'PLAYWRIGHT_BROWSERS_PATH=/opt/playwright-browsers' 'PATH=/srv/openhands/bin:/srv/openhands/micromamba/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' PYTHONDONTWRITEBYTECODE=1 '/srv/openhands/micromamba/bin/micromamba' run -n 'openhands' poetry run python -u -m openhands.runtime.action_execution_server --help 2>&1) || { printf '%s\n' "$out" | tail -n 5; exit 1; }
		echo "the launcher's command with --help exits 0 as root with only the launch environment"
	}
	rc=0
	output=$(oh_check_8 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check launcher: ok ($(oh_one_line "$output"))"
	else
		oh_say "check launcher: FAILED ($(oh_one_line "$output"))"
		failed="$failed, launcher"
	fi
	oh_check_9() {
		oh_probe_result 9 "$probe"
	}
	rc=0
	output=$(oh_check_9 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check jupyter kernel gateway: ok ($(oh_one_line "$output"))"
	else
		oh_say "check jupyter kernel gateway: FAILED ($(oh_one_line "$output"))"
		failed="$failed, jupyter kernel gateway"
	fi
	oh_check_10() {
		stray=$(find "$OH_VSCODE_SERVER" ! -user "$OH_USER" -print -quit 2>&1)
		if [ -n "$stray" ]; then echo "not owned by $OH_USER: $stray"; exit 1; fi
		version=$("$OH_VSCODE_SERVER/bin/openvscode-server" --version 2>&1) || { printf '%s\n' "$version"; exit 1; }
		echo "openvscode-server $(printf '%s\n' "$version" | head -n 1), owned by $OH_USER"
	}
	rc=0
	output=$(oh_check_as_user oh_check_10 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check openvscode-server: ok ($(oh_one_line "$output"))"
	else
		oh_say "check openvscode-server: FAILED ($(oh_one_line "$output"))"
		failed="$failed, openvscode-server"
	fi
	oh_check_11() {
		tmux -V >/dev/null && git --version >/dev/null && sudo -n true && echo "tmux, git, sudo -n"
	}
	rc=0
	output=$(oh_check_as_user oh_check_11 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check runtime user tools: ok ($(oh_one_line "$output"))"
	else
		oh_say "check runtime user tools: FAILED ($(oh_one_line "$output"))"
		failed="$failed, runtime user tools"
	fi
	oh_check_12() {
		free_port() { "$OH_ENV_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
		port=$(free_port) && vscode_port=$(free_port) && cd "$OH_CODE" || exit 1
		work=$(mktemp -d) log=$(mktemp)
		chown "$OH_USER:$OH_USER" "$work"
		# A session of its own, so the server and the plugins it starts stop together.
		setsid env -i HOME=/root 'LANG=C.UTF-8' 'LC_ALL=C.UTF-8' 'EDITOR=code' 'VISUAL=code' 'GIT_EDITOR=code --wait' 'OPENVSCODE_SERVER_ROOT=/srv/openhands/.openvscode-server' 'POETRY_VIRTUALENVS_PATH=/srv/openhands/poetry' 'MAMBA_ROOT_PREFIX=/srv/openhands/micromamba' 'OH_INTERPRETER_PATH=/srv/openhands/micromamba/envs/openhands/bin/python' 'PLAYWRIGHT_BROWSERS_PATH=/opt/playwright-browsers' 'PATH=/srv/openhands/bin:/srv/openhands/micromamba/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' VSCODE_PORT="$vscode_port" '/srv/openhands/micromamba/bin/micromamba' run -n 'openhands' poetry run python -u -m openhands.runtime.action_execution_server "$port" --working-dir "$work" --plugins agent_skills jupyter vscode --username "$OH_USER" --user-id "$(id -u "$OH_USER")" >"$log" 2>&1 &
		pid=$!
		deadline=$((SECONDS + 120)) alive=''
		while [ "$SECONDS" -lt "$deadline" ] && kill -0 "$pid" 2>/dev/null; do
			if "$OH_ENV_PY" -c 'import sys, urllib.request; sys.exit(urllib.request.urlopen("http://127.0.0.1:%s/alive" % sys.argv[1], timeout=2).status != 200)' "$port" 2>/dev/null; then
				alive=1
				break
			fi
			sleep 1
		done
		kill -TERM -- -"$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		output=$(tail -n 5 "$log")
		rm -rf "$work" "$log"
		if [ -z "$alive" ]; then printf '%s\n' "$output"; echo "GET /alive did not answer 200 within 120s"; exit 1; fi
		echo "GET /alive answered 200 on port $port (plugins agent_skills jupyter vscode)"
	}
	rc=0
	output=$(oh_check_12 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check server alive: ok ($(oh_one_line "$output"))"
	else
		oh_say "check server alive: FAILED ($(oh_one_line "$output"))"
		failed="$failed, server alive"
	fi
	oh_check_13() {
		test -x "$OH_PREFIX/bin/uv"
	}
	rc=0
	output=$(oh_check_as_user oh_check_13 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check command 1: ok ($(oh_one_line "$output"))"
	else
		oh_say "check command 1: FAILED ($(oh_one_line "$output"))"
		failed="$failed, command 1"
	fi
	oh_check_14() {
		echo "it's $(id -un)"
	}
	rc=0
	output=$(oh_check_as_user oh_check_14 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check command 2: ok ($(oh_one_line "$output"))"
	else
		oh_say "check command 2: FAILED ($(oh_one_line "$output"))"
		failed="$failed, command 2"
	fi
	if [ -n "$failed" ]; then
		oh_say "verification failed: ${failed#, }"
		return 1
	fi
	oh_say "verification passed: 14 checks"
}

# Steps.
oh_step_preflight_run() {
	oh_say "platform: $OH_PLATFORM_NAME ($OH_ARCH), package manager $OH_FAMILY"
	oh_check_disk
}
oh_step_system_packages_check() {
	set -f # package specs such as ?ripgrep are words, not patterns
	# shellcheck disable=SC2086 # one word per package
	for spec in $(oh_missing_packages $OH_SYSTEM_PACKAGES); do
		case $spec in
		\?*) grep -qxF "${spec#\?}" "$OH_STAMPS/unavailable-packages" 2>/dev/null || exit 1 ;;
		*) exit 1 ;;
		esac
	done
}
oh_step_system_packages_run() {
	set -f # package specs such as ?ripgrep are words, not patterns
	# shellcheck disable=SC2086 # one word per package
	missing=$(oh_missing_packages $OH_SYSTEM_PACKAGES)
	oh_say "missing: $(printf '%s' "$missing" | tr '\n' ' ')"
	oh_pkg_refresh
	wanted="" unavailable=""
	for spec in $missing; do
		pick=$(oh_pick_available "$spec")
		# Only an optional package the repositories lack picks nothing.
		[ -n "$pick" ] || unavailable="$unavailable${spec#\?}
	"
		wanted="$wanted $pick"
	done
	install -d -m 0755 "$OH_STAMPS"
	printf '%s' "$unavailable" >"$OH_STAMPS/unavailable-packages"
	if [ -n "${wanted// /}" ]; then
		# shellcheck disable=SC2086 # one word per package
		oh_retry oh_pkg_install $wanted
	fi
	oh_pkg_clean
}
oh_step_uv_check() {
	[ -x "$OH_UV" ]
}
oh_step_uv_run() {
	oh_install_binary uv "$OH_BUNDLE/bin/uv" "$OH_UV_URL" "$OH_UV_SHA256" "$OH_UV"
}
oh_step_user_check() {
	id -u "$OH_USER" >/dev/null 2>&1 && id -nG "$OH_USER" | tr ' ' '\n' | grep -qx "$OH_ADMIN_GROUP" && [ -f "/etc/sudoers.d/$OH_USER" ]
}
oh_step_user_run() {
	if ! id -u "$OH_USER" >/dev/null 2>&1; then
		id_=$(oh_pick_id)
		getent group "$OH_USER" >/dev/null || groupadd -g "$id_" "$OH_USER"
		useradd -m -d "/home/$OH_USER" -s /bin/bash -u "$id_" -g "$OH_USER" "$OH_USER"
		oh_say "created user $OH_USER with uid $(id -u "$OH_USER") and gid $(id -g "$OH_USER")"
	fi
	usermod -aG "$OH_ADMIN_GROUP" "$OH_USER"
	tmp=$(mktemp)
	printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$OH_USER" >"$tmp"
	visudo -cf "$tmp" >/dev/null || { rm -f "$tmp"; oh_die "the sudoers drop-in for $OH_USER does not pass visudo -c"; }
	install -d -m 0750 /etc/sudoers.d
	install -m 0440 "$tmp" "/etc/sudoers.d/$OH_USER"
	rm -f "$tmp"
}
oh_step_directories_run() {
	install -d -o "$OH_USER" -g "$OH_USER" "$OH_PREFIX" "$OH_PREFIX/bin" "$OH_PREFIX/logs" "$OH_CODE" "$OH_PREFIX/workspace" "$OH_PREFIX/poetry"
	chmod g+rws "$OH_PREFIX/workspace"
	# uv was installed before the user existed.
	chown -R "$OH_USER:$OH_USER" "$OH_PREFIX/bin"
}
oh_step_micromamba_check() {
	[ -x "$OH_MM" ]
}
oh_step_micromamba_run() {
	oh_install_binary micromamba "$OH_BUNDLE/bin/micromamba" "$OH_MICROMAMBA_URL" "$OH_MICROMAMBA_SHA256" "$OH_MM"
	# "defaults" is absent from a fresh configuration, which micromamba may report as an error
	"$OH_MM" config remove channels defaults >/dev/null 2>&1 || true
	if [ -n "${OH_CHANNEL_ALIAS:-}" ]; then
		"$OH_MM" config set channel_alias "$OH_CHANNEL_ALIAS"
	fi
}
oh_step_python_env_check() {
	[ -x "$OH_ENV_PY" ]
}
oh_step_python_env_run() {
	"$OH_MM" create -n "$OH_ENV" -y
	# Poetry is installed for tools that expect it, never used to install: it cannot parse
	# the Amazon Linux 2023 kernel release.
	oh_retry "$OH_MM" install -n "$OH_ENV" -c "$OH_CONDA_CHANNEL" poetry "python=$OH_PYTHON_VERSION" -y
	# The env is created as root but the dependency install runs as the runtime user.
	chown -R "$OH_USER:$OH_USER" "$OH_PREFIX/micromamba"
}
oh_step_vscode_server_check() {
	[ -x "$OH_VSCODE_SERVER/bin/openvscode-server" ] && [ -x "$OH_VSCODE_SERVER/bin/remote-cli/code" ]
}
oh_step_vscode_server_run() {
	oh_install_tree vscode_server bin/openvscode-server "" "$OH_VSCODE_SERVER_URL" "$OH_VSCODE_SERVER_SHA256" "$OH_VSCODE_SERVER"
	cp "$OH_VSCODE_SERVER/bin/remote-cli/openvscode-server" "$OH_VSCODE_SERVER/bin/remote-cli/code"
	chown -R "$OH_USER:$OH_USER" "$OH_VSCODE_SERVER"
}
oh_step_code_check() {
	[ -f "$OH_CODE/pyproject.toml" ]
}
oh_step_code_run() {
	for entry in "$OH_BUNDLE/code"/* "$OH_BUNDLE/code"/.[!.]*; do
		[ -e "$entry" ] || continue
		rm -rf "${OH_CODE:?}/$(basename "$entry")"
		cp -R "$entry" "$OH_CODE/"
	done
	# pyproject.toml's packages include third_party, which the runtime does not ship.
	mkdir -p "$OH_CODE/third_party"
	touch "$OH_CODE/third_party/__init__.py"
	printf '%s\n' '#!/usr/bin/env python3' 'import os' 'import sys' \
		'if os.environ.get("SKIP_VSCODE_BUILD"):' '    print("Skipping VSCode build")' '    sys.exit(0)' \
		>"$OH_CODE/build_vscode.py"
	chown -R "$OH_USER:$OH_USER" "$OH_CODE"
}
oh_step_dependencies_check() {
	[ -x "$OH_ENV_PY" ]
}
oh_step_dependencies_run() {
	cd "$OH_CODE"
	export SKIP_VSCODE_BUILD='1'
	set -- --python "$OH_ENV_PY" --no-cache
	if [ -n "${OH_INDEX_URL:-}" ]; then set -- "$@" --index-url "$OH_INDEX_URL"; fi
	for url in ${OH_EXTRA_INDEX_URLS:-}; do set -- "$@" --extra-index-url "$url"; done
	# uv, not pip: pip install -e . skips the dependencies of a poetry-core project.
	# shellcheck disable=SC2086 # one word per package
	oh_retry "$OH_MM" run -n "$OH_ENV" "$OH_UV" pip install "$@" -e . $OH_EXTRA_PIP_PACKAGES
}
oh_step_browser_check() {
	[ -n "$(find "$PLAYWRIGHT_BROWSERS_PATH" -mindepth 1 -maxdepth 1 -name 'chromium-*' -print -quit 2>/dev/null)" ]
}
oh_step_browser_run() {
	install -d -m 0755 "$PLAYWRIGHT_BROWSERS_PATH"
	oh_retry "$OH_MM" run -n "$OH_ENV" python -m playwright install --with-deps chromium
	chmod -R a+rX "$PLAYWRIGHT_BROWSERS_PATH"
	for home in /root "/home/$OH_USER"; do
		install -d "$home/.cache"
		[ -L "$home/.cache/ms-playwright" ] || rm -rf "$home/.cache/ms-playwright"
		ln -sfn "$PLAYWRIGHT_BROWSERS_PATH" "$home/.cache/ms-playwright"
	done
	chown "$OH_USER:$OH_USER" "/home/$OH_USER/.cache"
	chown -h "$OH_USER:$OH_USER" "/home/$OH_USER/.cache/ms-playwright"
}
oh_step_environment_check() {
	grep -qxF 'LANG=C.UTF-8' /etc/environment
	grep -qxF 'LC_ALL=C.UTF-8' /etc/environment
	grep -qxF 'EDITOR=code' /etc/environment
	grep -qxF 'VISUAL=code' /etc/environment
	grep -qxF 'GIT_EDITOR="code --wait"' /etc/environment
	grep -qxF 'OPENVSCODE_SERVER_ROOT=/srv/openhands/.openvscode-server' /etc/environment
	grep -qxF 'POETRY_VIRTUALENVS_PATH=/srv/openhands/poetry' /etc/environment
	grep -qxF 'MAMBA_ROOT_PREFIX=/srv/openhands/micromamba' /etc/environment
	grep -qxF 'OH_INTERPRETER_PATH=/srv/openhands/micromamba/envs/openhands/bin/python' /etc/environment
	grep -qxF 'PLAYWRIGHT_BROWSERS_PATH=/opt/playwright-browsers' /etc/environment
	grep -qxF 'PATH=/srv/openhands/bin:/srv/openhands/micromamba/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' /etc/environment
	grep -qF '# poetry, as installed by packer-plugin-openhands' "$OH_ENV_BIN/poetry"
	for rc in "$OH_BASHRC" /root/.bashrc "/home/$OH_USER/.bashrc"; do
		grep -qxF '# >>> openhands runtime >>>' "$rc"
	done
}
oh_step_environment_run() {
	oh_set_line /etc/environment LANG 'LANG=C.UTF-8'
	oh_set_line /etc/environment LC_ALL 'LC_ALL=C.UTF-8'
	oh_set_line /etc/environment EDITOR 'EDITOR=code'
	oh_set_line /etc/environment VISUAL 'VISUAL=code'
	oh_set_line /etc/environment GIT_EDITOR 'GIT_EDITOR="code --wait"'
	oh_set_line /etc/environment OPENVSCODE_SERVER_ROOT 'OPENVSCODE_SERVER_ROOT=/srv/openhands/.openvscode-server'
	oh_set_line /etc/environment POETRY_VIRTUALENVS_PATH 'POETRY_VIRTUALENVS_PATH=/srv/openhands/poetry'
	oh_set_line /etc/environment MAMBA_ROOT_PREFIX 'MAMBA_ROOT_PREFIX=/srv/openhands/micromamba'
	oh_set_line /etc/environment OH_INTERPRETER_PATH 'OH_INTERPRETER_PATH=/srv/openhands/micromamba/envs/openhands/bin/python'
	oh_set_line /etc/environment PLAYWRIGHT_BROWSERS_PATH 'PLAYWRIGHT_BROWSERS_PATH=/opt/playwright-browsers'
	oh_set_line /etc/environment PATH 'PATH=/srv/openhands/bin:/srv/openhands/micromamba/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
	for rc in "$OH_BASHRC" /root/.bashrc "/home/$OH_USER/.bashrc"; do
		oh_set_block "$rc" <<-'BLOCK'
		export LANG='C.UTF-8'
		export LC_ALL='C.UTF-8'
		export EDITOR='code'
		export VISUAL='code'
		export GIT_EDITOR='code --wait'
		export OPENVSCODE_SERVER_ROOT='/srv/openhands/.openvscode-server'
		export POETRY_VIRTUALENVS_PATH='/srv/openhands/poetry'
		export MAMBA_ROOT_PREFIX='/srv/openhands/micromamba'
		export OH_INTERPRETER_PATH='/srv/openhands/micromamba/envs/openhands/bin/python'
		export PLAYWRIGHT_BROWSERS_PATH='/opt/playwright-browsers'
		export PATH='/srv/openhands/bin:/srv/openhands/micromamba/bin':"$PATH"
		eval "$('/srv/openhands/micromamba/bin/micromamba' shell hook -s bash)"
		micromamba activate 'openhands' 2>/dev/null || true
		BLOCK
	done
	chown "$OH_USER:$OH_USER" "/home/$OH_USER/.bashrc"
	cat >"$OH_ENV_BIN/poetry.tmp" <<-'POETRY'
		#!/bin/sh
		# poetry, as installed by packer-plugin-openhands: "poetry run CMD..." runs CMD in this
		# environment without starting Poetry (which cannot parse some kernel releases, such as
		# Amazon Linux 2023's); any other subcommand runs the real Poetry.
		bin=$(cd "$(dirname "$0")" && pwd)
		if [ "${1:-}" = run ]; then
			shift
			[ "${1:-}" != -- ] || shift
			[ "$#" -gt 0 ] || { echo "poetry run: no command given" >&2; exit 1; }
			PATH="$bin:$PATH"
			export PATH
			exec "$@"
		fi
		exec "$bin/python" -m poetry "$@"
		POETRY
	chmod 0755 "$OH_ENV_BIN/poetry.tmp"
	chown "$OH_USER:$OH_USER" "$OH_ENV_BIN/poetry.tmp"
	mv -f "$OH_ENV_BIN/poetry.tmp" "$OH_ENV_BIN/poetry"
	oh_as_user "$OH_MM" config set changeps1 False >/dev/null
}
oh_step_cleanup_check() {
	[ -z "$OH_CHANGED" ]
}
oh_step_cleanup_run() {
	"$OH_MM" clean --all -y >/dev/null
	# Only when something slipped: a recursive chown of a full env takes a while.
	if [ -n "$(find "$OH_PREFIX/micromamba" ! -user "$OH_USER" -print -quit)" ]; then
		chown -R "$OH_USER:$OH_USER" "$OH_PREFIX/micromamba"
	fi
}
oh_step_verify_run() {
	oh_verify
}

oh_main() {
	cd /
	if [ "${1:-}" = --steps ]; then
		OH_ONLY_STEPS=${2:?--steps needs a comma-separated list}
	fi
	oh_detect_platform || { oh_step_failed preflight 1; exit 1; }
	oh_run_step 1 preflight root '' ''
	oh_run_step 2 system-packages root '' ''
	oh_run_step 3 uv root '94a5f6da4c9e3b626c413879d40dabd3' ''
	oh_run_step 4 user root '' ''
	oh_run_step 5 directories root '' ''
	oh_run_step 6 micromamba root '90d0cffd27ab714e9e3cb8c75ca54f23' ''
	oh_run_step 7 python-env root 'ead58462613011646fc3ca7406ec64d3' 'dependencies browser'
	oh_run_step 8 vscode-server root '262d404f0af79bb5876da838e6b6d5df' ''
	oh_run_step 9 code root '8afa54d700bbcb871c3fe42640eb14e3' ''
	oh_run_step 10 dependencies user '594fac706725852561ba27477bb548cb' ''
	oh_run_step 11 browser root '' ''
	oh_run_step 12 environment root '0ee8786b7d136f2a81e572f3541beed6' ''
	oh_run_step 13 cleanup root '' ''
	oh_run_step 14 verify root '' ''
	oh_say "openhands-runtime: plan finished in ${SECONDS}s"
}

oh_main "$@"
