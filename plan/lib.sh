# Helpers shared by the steps of the plan. Every value comes from the OH_* variables set above.

oh_say() { printf '%s\n' "$*"; }

oh_die() {
	printf 'openhands-runtime: %s\n' "$*" >&2
	exit 1
}

# OH_EXIT_NO_RETRY: the exit code of network work that would fail the same way again (a
# download whose checksum does not match): oh_retry returns it at once.
OH_EXIT_NO_RETRY=90

# oh_retry CMD...: run CMD, retrying network work OH_NETWORK_RETRIES times. Pauses double from
# 5s (at most 80s), each with up to half again of random jitter, so that machines retrying one
# mirror together do not come back together.
oh_retry() {
	local attempt=0 rc pause
	while :; do
		rc=0
		"$@" || rc=$?
		[ "$rc" -eq 0 ] && return 0
		if [ "$rc" -eq "$OH_EXIT_NO_RETRY" ]; then
			oh_say "command failed, not retried (another attempt would fail the same way): $1"
			return "$rc"
		fi
		attempt=$((attempt + 1))
		if [ "$attempt" -gt "$OH_NETWORK_RETRIES" ]; then
			oh_say "command failed with exit code $rc after $attempt attempts: $1"
			return "$rc"
		fi
		pause=$((5 << (attempt - 1)))
		[ "$pause" -le 80 ] || pause=80
		pause=$((pause + RANDOM % (pause / 2 + 1)))
		oh_say "command failed with exit code $rc (attempt $attempt of $((OH_NETWORK_RETRIES + 1))), retrying in ${pause}s: $1"
		sleep "$pause"
	done
}

# oh_download URL DEST: one download attempt with curl or wget, bounded: connecting may take
# OH_DOWNLOAD_CONNECT_TIMEOUT seconds, and OH_DOWNLOAD_STALL_TIMEOUT seconds without a byte
# fail the attempt (a mirror that accepts and never answers). The URL is never printed with
# its credentials, and reaches them on stdin, not on their command line (where ps would show
# its credentials).
oh_download() {
	local rc=0
	if command -v curl >/dev/null 2>&1; then
		printf 'url = "%s"\n' "$1" | curl -fsSL --retry 0 --connect-timeout "$OH_DOWNLOAD_CONNECT_TIMEOUT" \
			--speed-limit 1 --speed-time "$OH_DOWNLOAD_STALL_TIMEOUT" -o "$2" -K - || rc=$?
		# 28: curl's time-out, of the connection or of the transfer.
		[ "$rc" -ne 28 ] || oh_say "download of $(oh_redact "$1") timed out: no connection within ${OH_DOWNLOAD_CONNECT_TIMEOUT}s or no data for ${OH_DOWNLOAD_STALL_TIMEOUT}s (download_connect_timeout, download_stall_timeout)"
	elif command -v wget >/dev/null 2>&1; then
		printf '%s\n' "$1" | wget -q --tries=1 --connect-timeout="$OH_DOWNLOAD_CONNECT_TIMEOUT" \
			--read-timeout="$OH_DOWNLOAD_STALL_TIMEOUT" -O "$2" -i - || rc=$?
		# 4: wget's network failure, time-outs included.
		[ "$rc" -ne 4 ] || oh_say "download of $(oh_redact "$1") failed: network error, or no connection within ${OH_DOWNLOAD_CONNECT_TIMEOUT}s or no data for ${OH_DOWNLOAD_STALL_TIMEOUT}s (download_connect_timeout, download_stall_timeout)"
	else
		oh_die "neither curl nor wget is installed; enable system_packages or supply the file with *_path"
	fi
	return "$rc"
}

# oh_fetch_checked URL SHA256 DEST [NAME OPTION]: download and verify. A mismatch is not
# retried (the same bytes would come again); it names the option the sum came from (OPTION;
# empty for the plugin's pinned sum of tool NAME) and the architecture, since a sum of another
# architecture's file is the usual cause.
oh_fetch_checked() {
	local url=$1 want=$2 dest=$3 name=${4:-download} option=${5:-} got
	oh_download "$url" "$dest.part" || return
	got=$(sha256sum "$dest.part" | cut -d' ' -f1)
	if [ "$got" = "$want" ]; then
		mv "$dest.part" "$dest"
		return 0
	fi
	rm -f "$dest.part"
	if [ -n "$option" ]; then
		oh_say "openhands-runtime: $option: checksum mismatch for $(oh_redact "$url") on $OH_ARCH: expected sha256 $want, got $got; not retried. Set $option to the SHA-256 of the $OH_ARCH file (sha256sum of a copy you trust), or check the proxy or mirror in between"
	else
		oh_say "openhands-runtime: $name: checksum mismatch for $(oh_redact "$url") on $OH_ARCH: expected sha256 $want (the plugin's pinned sum), got $got; not retried. A proxy or mirror in between served another file: fix it, or set ${name}_url with ${name}_sha256, or ${name}_path"
	fi
	return "$OH_EXIT_NO_RETRY"
}

# oh_is_gzip FILE: whether FILE starts with gzip's magic bytes (a release .tar.gz).
oh_is_gzip() { [ "$(head -c 2 "$1" | od -An -tx1 | tr -d ' \n')" = 1f8b ]; }

# oh_scrub_userinfo URL DIR...: take URL's user info (its credentials) out of every file under
# the DIRs, where micromamba records a channel's URL (conda-meta, the package cache). The user
# info reaches grep and sed through pipes, never a command line or a file; a file's owner and
# mode are kept. Fails naming the DIRs when a file still holds it.
oh_scrub_userinfo() {
	local userinfo=${1#*://} script file tmp
	shift
	userinfo=${userinfo%%/*}
	[[ $userinfo == *@* ]] || return 0
	userinfo=${userinfo%@*}@
	script="s/$(printf '%s' "$userinfo" | sed 's/[]\/$*.^[]/\\&/g')//g"
	while IFS= read -r -d '' file; do
		tmp=$(mktemp)
		sed -f <(printf '%s\n' "$script") "$file" >"$tmp" && cat "$tmp" >"$file"
		rm -f "$tmp"
	done < <(grep -rlZF -f <(printf '%s\n' "$userinfo") -- "$@" 2>/dev/null)
	if grep -rqF -f <(printf '%s\n' "$userinfo") -- "$@" 2>/dev/null; then
		oh_say "openhands-runtime: credentials of a URL are left in a file under $*"
		return 1
	fi
}

# oh_redact URL: the URL without its user info and its query (a token, a presigned URL's
# signature), for messages.
oh_redact() { printf '%s' "$1" | sed -E -e 's#^([a-z]+://)[^/@]*@#\1****@#' -e 's#\?.*$#?****#'; }

# oh_install_binary NAME SUPPLIED URL SHA256 DEST [OPTION]: put an executable at DEST, from
# the file shipped in the bundle when there is one, else from URL; either may be the bare
# binary or a .tar.gz holding an executable called NAME (uv's release layout: validation
# refuses a supplied file in another archive format). OPTION names the option SHA256 came from.
oh_install_binary() {
	local name=$1 supplied=$2 url=$3 sum=$4 dest=$5 option=${6:-} tmp file found
	install -d -m 0755 "$(dirname "$dest")"
	tmp=$(mktemp -d)
	file=$supplied
	if [ -z "$file" ]; then
		[ -n "$url" ] || { rm -rf "$tmp"; oh_die "$name: no pinned download for $OH_ARCH; set ${name}_url with ${name}_sha256, or ${name}_path"; }
		oh_retry oh_fetch_checked "$url" "$sum" "$tmp/download" "$name" "$option" || { rm -rf "$tmp"; return 1; }
		file=$tmp/download
	fi
	if oh_is_gzip "$file"; then
		install -d "$tmp/unpacked"
		tar -xzf "$file" -C "$tmp/unpacked" || { rm -rf "$tmp"; oh_die "$name: cannot unpack the archive${url:+ from $(oh_redact "$url")}"; }
		found=$(find "$tmp/unpacked" -type f -name "$name" | head -n 1)
		[ -n "$found" ] || { rm -rf "$tmp"; oh_die "$name: the archive${url:+ from $(oh_redact "$url")} holds no file called $name"; }
		file=$found
	fi
	install -m 0755 "$file" "$dest"
	rm -rf "$tmp"
}

# oh_install_tree NAME MARKER SUPPLIED URL SHA256 DEST [OPTION]: unpack a release tarball (the
# file shipped in the bundle when there is one, else the checked download from URL) and put
# its directory that holds MARKER at DEST, replacing what was there. OPTION names the option
# SHA256 came from.
oh_install_tree() {
	local name=$1 marker=$2 supplied=$3 url=$4 sum=$5 dest=$6 option=${7:-} tmp archive found
	install -d -m 0755 "$(dirname "$dest")"
	# Beside DEST, so the final move is a rename.
	tmp=$(mktemp -d "$(dirname "$dest")/.openhands-$name.XXXXXX")
	archive=$supplied
	if [ -z "$archive" ]; then
		[ -n "$url" ] || { rm -rf "$tmp"; oh_die "$name: no pinned download for $OH_ARCH; set ${name}_url with ${name}_sha256, or ${name}_path"; }
		[ -n "$sum" ] || { rm -rf "$tmp"; oh_die "$name: no checksum for $(oh_redact "$url"); set ${name}_sha256, or upload the tarball with ${name}_path"; }
		oh_retry oh_fetch_checked "$url" "$sum" "$tmp/download" "$name" "$option" || { rm -rf "$tmp"; return 1; }
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

# oh_no_links PATH...: fail naming the first PATH that is a symbolic link. Root installs,
# chowns and writes paths inside what the runtime user owns (the prefix, the home); a link
# planted there would make root act on its target (logs -> /etc, .bashrc -> /etc/shadow).
oh_no_links() {
	local p
	for p in "$@"; do
		if [ -L "$p" ]; then
			oh_say "openhands-runtime: $p is a symbolic link (to $(readlink "$p")), which root will not follow: the runtime user may have planted it; remove it and run the build again"
			return 1
		fi
	done
}

# oh_set_line FILE KEY LINE: make LINE the only line of FILE that starts with KEY=.
oh_set_line() {
	local file=$1 key=$2 line=$3 tmp
	oh_no_links "$file" || return 1
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
	oh_no_links "$file" || return 1
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

# oh_run_step INDEX NAME USER STAMP INVALIDATES [SECRETS]: announce, skip when already done,
# run, time. SECRETS name the variables holding a secret that the step reads: set by the
# secrets file but not exported, they are exported for the step's run alone.
oh_run_step() {
	local index=$1 name=$2 user=$3 stamp=$4 invalidates=$5 secrets=${6:-} fn started rc=0 dropped
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
	# The step's own record goes too: a run that fails half-way must not leave the record of
	# an earlier run that a later run with those earlier options would take as done.
	for dropped in "$name" $invalidates; do
		rm -f "$OH_STAMPS/$dropped"
	done
	started=$SECONDS
	# Not `oh_as ... || rc=$?`: bash ignores errexit in every command of an || list, subshells
	# included, so a root step would go on after a failing command and report its last status.
	set +e
	(
		# shellcheck disable=SC2086,SC2163 # the variables named, one word each
		[ -z "$secrets" ] || export $secrets
		oh_as "$user" "${fn}_run"
	)
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
