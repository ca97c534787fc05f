#!/usr/bin/env bash
# OpenHands runtime install plan, rendered by packer-plugin-openhands test.
# Steps: preflight, system-packages, uv, user, directories, micromamba, python-env, vscode-server, tini, code, agent-server, checkout-packages, environment, service, cleanup, verify.
set -euo pipefail
umask 022
exec 2>&1

# Options. Exported so that steps run as the runtime user see them too.
OH_BUNDLE=$(cd "$(dirname "$0")" && pwd)
export OH_BUNDLE
export OH_PREFIX='/openhands'
export OH_USER='openhands'
export OH_UID='10001'
export OH_ENV='openhands'
export OH_PYTHON_VERSION='3.13'
export OH_CODE="$OH_PREFIX/code"
export OH_KEEP_UID_OWNER=''
export OH_STAMPS="/var/lib/openhands-runtime$OH_PREFIX"
export OH_STEP_COUNT=16
export OH_NETWORK_RETRIES=3
export OH_DOWNLOAD_CONNECT_TIMEOUT=30
export OH_DOWNLOAD_STALL_TIMEOUT=60
export OH_MIN_FREE_DISK_GB=5
export OH_CONDA_CHANNEL='conda-forge'
export OH_CHANNEL_ALIAS=''
export OH_INDEX_URL=''
export OH_EXTRA_INDEX_URLS=''
export OH_EXTRA_PIP_PACKAGES=''
export PYTHONDONTWRITEBYTECODE=1
export MAMBA_ROOT_PREFIX='/openhands/micromamba'
export OH_ENV_BIN="$MAMBA_ROOT_PREFIX/envs/$OH_ENV/bin"
export OH_ENV_PY="$OH_ENV_BIN/python$OH_PYTHON_VERSION"
export OH_AGENT_VENV="$OH_PREFIX/agent-server"
export OH_AGENT_PY="$OH_AGENT_VENV/bin/python"
export OH_AGENT_SERVER_VERSION='1.58.2'
export OH_MM="$MAMBA_ROOT_PREFIX/bin/micromamba"
export OH_MICROMAMBA_URL=''
export OH_MICROMAMBA_SHA256=''
export OH_UV="$OH_PREFIX/bin/uv"
export OH_UV_URL=''
export OH_UV_SHA256=''
export OH_VSCODE_SERVER="$OH_PREFIX/.openvscode-server"
export OH_VSCODE_SERVER_URL=''
export OH_VSCODE_SERVER_SHA256='8e5c6e5523dffc2dcf615bd995554c84c9feb4e577808a3fb8698a639d3f8d9c'
export OH_TINI="$OH_PREFIX/bin/tini"
export OH_TINI_URL=''
export OH_TINI_SHA256=''
export OH_NODEJS="$OH_PREFIX/nodejs"
export OH_NODEJS_URL=''
export OH_NODEJS_SHA256=''
if [ -n "${OH_BUNDLE:-}" ] && [ -f "$OH_BUNDLE/secrets.sh" ]; then
	# shellcheck disable=SC1091 # written by the launcher from its standard input
	. "$OH_BUNDLE/secrets.sh"
fi

# oh_step_failed NAME CODE: the line that tells the plugin which step failed.
oh_step_failed() { oh_say "openhands-runtime: step $1 failed with exit code $2"; }
# ... plan/lib.sh, embedded verbatim ...


# oh_detect_platform: set the platform variables from /etc/os-release, or refuse.
# shellcheck disable=SC1091 # the target's own file
oh_detect_platform() {
	local id version_id pretty
	[ -r /etc/os-release ] || { oh_say "openhands-runtime: /etc/os-release is missing; cannot tell the platform"; return 1; }
	id=$(. /etc/os-release && printf '%s' "${ID:-}")
	version_id=$(. /etc/os-release && printf '%s' "${VERSION_ID:-}")
	pretty=$(. /etc/os-release && printf '%s' "${PRETTY_NAME:-}")
	case "$id:$version_id" in
	ubuntu:20.04) OH_PLATFORM_NAME='Ubuntu 20.04' OH_FAMILY=apt OH_ADMIN_GROUP=sudo OH_BASHRC=/etc/bash.bashrc ;;
	ubuntu:22.04) OH_PLATFORM_NAME='Ubuntu 22.04' OH_FAMILY=apt OH_ADMIN_GROUP=sudo OH_BASHRC=/etc/bash.bashrc ;;
	ubuntu:24.04) OH_PLATFORM_NAME='Ubuntu 24.04' OH_FAMILY=apt OH_ADMIN_GROUP=sudo OH_BASHRC=/etc/bash.bashrc ;;
	debian:11) OH_PLATFORM_NAME='Debian 11' OH_FAMILY=apt OH_ADMIN_GROUP=sudo OH_BASHRC=/etc/bash.bashrc ;;
	debian:12) OH_PLATFORM_NAME='Debian 12' OH_FAMILY=apt OH_ADMIN_GROUP=sudo OH_BASHRC=/etc/bash.bashrc ;;
	debian:13) OH_PLATFORM_NAME='Debian 13' OH_FAMILY=apt OH_ADMIN_GROUP=sudo OH_BASHRC=/etc/bash.bashrc ;;
	amzn:2023) OH_PLATFORM_NAME='Amazon Linux 2023' OH_FAMILY=dnf OH_ADMIN_GROUP=wheel OH_BASHRC=/etc/bashrc ;;
	*)
		oh_say "openhands-runtime: unsupported platform: /etc/os-release has ID=\"$id\" VERSION_ID=\"$version_id\"${pretty:+ ($pretty)}; supported: Ubuntu 20.04, Ubuntu 22.04, Ubuntu 24.04, Debian 11, Debian 12, Debian 13, Amazon Linux 2023"
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
		OH_SYSTEM_PACKAGES='wget curl ca-certificates sudo git jq tmux build-essential ripgrep ffmpeg coreutils util-linux procps findutils grep sed libatomic1 libgl1|libgl1-mesa-glx libasound2-plugins tini'
		OH_BROWSER_LIBRARIES=''
		;;
	dnf)
		OH_SYSTEM_PACKAGES='shadow-utils sudo git jq tmux gcc gcc-c++ make tar gzip which coreutils util-linux procps-ng findutils grep sed libatomic mesa-libGL alsa-lib curl ?ripgrep'
		OH_BROWSER_LIBRARIES='nss nspr atk at-spi2-atk cups-libs libdrm libxkbcommon libXcomposite libXdamage libXrandr mesa-libgbm pango alsa-lib'
		;;
	esac
	oh_define_family_helpers
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
	if [ -z "$OH_TINI_URL" ]; then
		case $OH_ARCH in
		aarch64) OH_TINI_URL='https://github.com/krallin/tini/releases/download/v0.19.0/tini-static-arm64' OH_TINI_SHA256=${OH_TINI_SHA256:-eae1d3aa50c48fb23b8cbdf4e369d0910dfc538566bfd09df89a774aa84a48b9} ;;
		x86_64) OH_TINI_URL='https://github.com/krallin/tini/releases/download/v0.19.0/tini-static-amd64' OH_TINI_SHA256=${OH_TINI_SHA256:-c5b0666b4cb676901f90dfcb37106783c5fe2077b04590973b885950611b30ee} ;;
		esac
		export OH_TINI_URL OH_TINI_SHA256
	fi
	if [ -z "$OH_NODEJS_URL" ]; then
		case $OH_ARCH in
		aarch64) OH_NODEJS_URL='https://nodejs.org/dist/v22.14.0/node-v22.14.0-linux-arm64.tar.gz' OH_NODEJS_SHA256=${OH_NODEJS_SHA256:-8cf30ff7250f9463b53c18f89c6c606dfda70378215b2c905d0a9a8b08bd45e0} ;;
		x86_64) OH_NODEJS_URL='https://nodejs.org/dist/v22.14.0/node-v22.14.0-linux-x64.tar.gz' OH_NODEJS_SHA256=${OH_NODEJS_SHA256:-9d942932535988091034dc94cc5f42b6dc8784d6366df3a36c4c9ccb3996f0c2} ;;
		esac
		export OH_NODEJS_URL OH_NODEJS_SHA256
	fi
	export OH_PLATFORM_NAME OH_FAMILY OH_ADMIN_GROUP OH_BASHRC OH_ARCH OH_SYSTEM_PACKAGES OH_BROWSER_LIBRARIES
}

# Package manager functions.
oh_define_family_helpers() {
	case $OH_FAMILY in
	apt)
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
		;;
	dnf)
		oh_pkg_installed_names() { rpm -q --qf '%{NAME}\n' "$@" 2>/dev/null || true; }
		oh_pkg_available() { dnf -q list --available "$1" >/dev/null 2>&1; }
		oh_pkg_refresh() { oh_retry dnf -q makecache; }
		oh_pkg_install() { dnf install -y -q --allowerasing "$@"; }
		oh_pkg_clean() { dnf clean all >/dev/null; }
		;;
	esac
}
oh_verify() {
	local failed='' output rc probe=''
	probe=$(oh_as_user "$OH_AGENT_PY" - 2>&1 <<'OH_PYTHON_CHECKS'
# ... pythonProbeHeader of plan/checks.go, embedded verbatim ...

def check_1():
    m = importlib.import_module("openhands.agent_server")
    return getattr(m, "__version__", "imported")

report(1, check_1)

def check_2():
    m = importlib.import_module("openhands.sdk")
    return getattr(m, "__version__", "imported")

report(2, check_2)

def check_3():
    m = importlib.import_module("openhands.tools")
    return getattr(m, "__version__", "imported")

report(3, check_3)

def check_4():
    m = importlib.import_module("openhands.workspace")
    return getattr(m, "__version__", "imported")

report(4, check_4)

def check_5():
    import importlib.metadata
    names = {(d.metadata["Name"] or "").lower().replace("_", "-") for d in importlib.metadata.distributions()}
    names.discard("")
    detail = "%d distributions (at least 120 wanted)" % len(names)
    if len(names) < 120:
        raise CheckFailed(detail)
    return detail

report(5, check_5)

def check_7():
    import importlib.metadata
    want = "1.58.2"
    found = {name: importlib.metadata.version(name) for name in ["openhands-agent-server", "openhands-sdk", "openhands-tools", "openhands-workspace"]}
    wrong = ["%s %s" % (name, v) for name, v in found.items() if v != want]
    if wrong:
        raise CheckFailed("want %s for all four, found %s" % (want, ", ".join(wrong)))
    return "%s at %s" % (", ".join(found), want)

report(7, check_7)
OH_PYTHON_CHECKS
	) || true
	oh_check_1() {
		oh_probe_result 1 "$probe"
	}
	rc=0
	output=$(oh_check_1 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check import openhands.agent_server: ok ($(oh_one_line "$output"))"
	else
		oh_say "check import openhands.agent_server: FAILED ($(oh_one_line "$output"))"
		failed="$failed, import openhands.agent_server"
	fi
	oh_check_2() {
		oh_probe_result 2 "$probe"
	}
	rc=0
	output=$(oh_check_2 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check import openhands.sdk: ok ($(oh_one_line "$output"))"
	else
		oh_say "check import openhands.sdk: FAILED ($(oh_one_line "$output"))"
		failed="$failed, import openhands.sdk"
	fi
	oh_check_3() {
		oh_probe_result 3 "$probe"
	}
	rc=0
	output=$(oh_check_3 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check import openhands.tools: ok ($(oh_one_line "$output"))"
	else
		oh_say "check import openhands.tools: FAILED ($(oh_one_line "$output"))"
		failed="$failed, import openhands.tools"
	fi
	oh_check_4() {
		oh_probe_result 4 "$probe"
	}
	rc=0
	output=$(oh_check_4 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check import openhands.workspace: ok ($(oh_one_line "$output"))"
	else
		oh_say "check import openhands.workspace: FAILED ($(oh_one_line "$output"))"
		failed="$failed, import openhands.workspace"
	fi
	oh_check_5() {
		oh_probe_result 5 "$probe"
	}
	rc=0
	output=$(oh_check_5 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check package count: ok ($(oh_one_line "$output"))"
	else
		oh_say "check package count: FAILED ($(oh_one_line "$output"))"
		failed="$failed, package count"
	fi
	oh_check_6() {
		stray=$(find "$MAMBA_ROOT_PREFIX" ! -user "$OH_USER" -print -quit 2>&1)
		if [ -n "$stray" ]; then echo "not owned by $OH_USER: $stray"; exit 1; fi
		echo "$MAMBA_ROOT_PREFIX owned by $OH_USER"
	}
	rc=0
	output=$(oh_check_6 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check micromamba ownership: ok ($(oh_one_line "$output"))"
	else
		oh_say "check micromamba ownership: FAILED ($(oh_one_line "$output"))"
		failed="$failed, micromamba ownership"
	fi
	oh_check_7() {
		oh_probe_result 7 "$probe"
	}
	rc=0
	output=$(oh_check_7 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check agent-server versions: ok ($(oh_one_line "$output"))"
	else
		oh_say "check agent-server versions: FAILED ($(oh_one_line "$output"))"
		failed="$failed, agent-server versions"
	fi
	oh_check_8() {
		real=$(readlink -f "$OH_AGENT_PY") env_real=$(readlink -f "$OH_ENV_PY")
		if [ "$real" != "$env_real" ]; then
			echo "$OH_AGENT_PY runs $real, not the micromamba environment's $OH_ENV_PY ($env_real)"
			exit 1
		fi
		echo "$OH_AGENT_PY runs the micromamba environment's $OH_ENV_PY"
	}
	rc=0
	output=$(oh_check_8 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check self-contained venv: ok ($(oh_one_line "$output"))"
	else
		oh_say "check self-contained venv: FAILED ($(oh_one_line "$output"))"
		failed="$failed, self-contained venv"
	fi
	oh_check_9() {
		tini=$(command -v tini || echo "$OH_TINI")
		"$tini" --version
	}
	rc=0
	output=$(oh_check_as_user oh_check_9 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check tini: ok ($(oh_one_line "$output"))"
	else
		oh_say "check tini: FAILED ($(oh_one_line "$output"))"
		failed="$failed, tini"
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
		port=$("$OH_AGENT_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') || exit 1
		key=$("$OH_AGENT_PY" -c 'import secrets; print(secrets.token_hex(16))') || exit 1
		work=$(mktemp -d) log=$(mktemp)
		chown "$OH_USER:$OH_USER" "$work"
		# A session of its own, so the server and what it starts stop together. VS Code is checked on
		# its own: the server would start it on a fixed port.
		# The probe's here-document is indented with the script: <<- strips the tabs.
		(cd "$work" && exec setsid env -i HOME="/home/$OH_USER" 'LANG=C.UTF-8' 'LC_ALL=C.UTF-8' 'LOG_JSON=true' 'OH_ENABLE_VNC=false' 'EDITOR=code' 'VISUAL=code' 'GIT_EDITOR=code --wait' 'OPENVSCODE_SERVER_ROOT=/openhands/.openvscode-server' 'PATH=/openhands/agent-server/bin:/openhands/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' OH_SESSION_API_KEYS_0="$key" OH_ENABLE_VSCODE=false \
			runuser -u "$OH_USER" -- 'tini' '--' '/openhands/agent-server/bin/python' '-m' 'openhands.agent_server' --host 127.0.0.1 --port "$port") >"$log" 2>&1 &
		pid=$!
		rc=0
		out=$("$OH_AGENT_PY" - "$port" "$key" "$OH_USER" "$OH_AGENT_SERVER_VERSION" 120 <<-'OH_AGENT_PROBE' 2>&1) || rc=$?
		import json, sys, time, urllib.error, urllib.request
		port, key, user, version, timeout = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
		base = "http://127.0.0.1:%s" % port

		def call(path, body=None, key=None):
		    req = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode())
		    if body is not None:
		        req.add_header("Content-Type", "application/json")
		    if key:
		        req.add_header("X-Session-API-Key", key)
		    try:
		        with urllib.request.urlopen(req, timeout=60) as resp:
		            return resp.status, resp.read().decode()
		    except urllib.error.HTTPError as e:
		        return e.code, e.read().decode()

		deadline = time.time() + timeout
		while True:
		    try:
		        if call("/health")[0] == 200:
		            break
		    except OSError:
		        pass
		    if time.time() > deadline:
		        sys.exit("GET /health did not answer 200 within %ds" % timeout)
		    time.sleep(0.5)
		started = timeout - (deadline - time.time())
		status, body = call("/server_info", key=key)
		if status != 200:
		    sys.exit("GET /server_info answered %d: %s" % (status, body[:200]))
		info = json.loads(body)
		for field in ("version", "sdk_version", "tools_version", "workspace_version"):
		    if info.get(field) != version:
		        sys.exit("/server_info %s is %r, want %s" % (field, info.get(field), version))
		command = {"command": "echo ok; id -un", "timeout": 30}
		status, body = call("/api/bash/execute_bash_command", command, key=key)
		if status != 200:
		    sys.exit("POST /api/bash/execute_bash_command with the session key answered %d: %s" % (status, body[:200]))
		output = json.loads(body)
		words = str(output.get("stdout", output)).split()
		if words[:2] != ["ok", user]:
		    sys.exit("the bash command printed %r, want ok and %s" % (" ".join(words[:4]), user))
		status, body = call("/api/bash/execute_bash_command", command)
		if status != 401:
		    sys.exit("POST /api/bash/execute_bash_command without the session key answered %d, want 401" % status)
		print("healthy after %.1fs, versions %s, a bash command ran as %s with the session key and was refused (401) without it" % (started, version, user))
		OH_AGENT_PROBE
		kill -TERM -- -"$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		if [ "$rc" -ne 0 ]; then printf '%s\n' "$out" "server log:"; tail -n 5 "$log"; fi
		rm -rf "$work" "$log"
		[ "$rc" -eq 0 ] && printf '%s\n' "$out"
	}
	rc=0
	output=$(oh_check_12 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check agent-server launch: ok ($(oh_one_line "$output"))"
	else
		oh_say "check agent-server launch: FAILED ($(oh_one_line "$output"))"
		failed="$failed, agent-server launch"
	fi
	oh_check_13() {
		if [ ! -d /run/systemd/system ]; then echo "no systemd: the image's entry point starts the server"; exit 0; fi
		key=$("$OH_AGENT_PY" -c 'import secrets; print(secrets.token_hex(16))') || exit 1
		dropin=/run/systemd/system/openhands-agent-server.service.d
		install -d -m 0700 "$dropin"
		printf '[Service]
		Environment=OH_SESSION_API_KEYS_0=%s
		Environment=OH_ENABLE_VSCODE=false
		' "$key" >"$dropin/50-openhands-check.conf"
		chmod 0600 "$dropin/50-openhands-check.conf"
		systemctl daemon-reload && systemctl restart openhands-agent-server.service || { systemctl status --no-pager openhands-agent-server.service | tail -n 5; exit 1; }
		rc=0
		out=$("$OH_AGENT_PY" - 8000 "$key" "$OH_USER" "$OH_AGENT_SERVER_VERSION" 120 <<-'OH_AGENT_PROBE' 2>&1) || rc=$?
		import json, sys, time, urllib.error, urllib.request
		port, key, user, version, timeout = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
		base = "http://127.0.0.1:%s" % port

		def call(path, body=None, key=None):
		    req = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode())
		    if body is not None:
		        req.add_header("Content-Type", "application/json")
		    if key:
		        req.add_header("X-Session-API-Key", key)
		    try:
		        with urllib.request.urlopen(req, timeout=60) as resp:
		            return resp.status, resp.read().decode()
		    except urllib.error.HTTPError as e:
		        return e.code, e.read().decode()

		deadline = time.time() + timeout
		while True:
		    try:
		        if call("/health")[0] == 200:
		            break
		    except OSError:
		        pass
		    if time.time() > deadline:
		        sys.exit("GET /health did not answer 200 within %ds" % timeout)
		    time.sleep(0.5)
		started = timeout - (deadline - time.time())
		status, body = call("/server_info", key=key)
		if status != 200:
		    sys.exit("GET /server_info answered %d: %s" % (status, body[:200]))
		info = json.loads(body)
		for field in ("version", "sdk_version", "tools_version", "workspace_version"):
		    if info.get(field) != version:
		        sys.exit("/server_info %s is %r, want %s" % (field, info.get(field), version))
		command = {"command": "echo ok; id -un", "timeout": 30}
		status, body = call("/api/bash/execute_bash_command", command, key=key)
		if status != 200:
		    sys.exit("POST /api/bash/execute_bash_command with the session key answered %d: %s" % (status, body[:200]))
		output = json.loads(body)
		words = str(output.get("stdout", output)).split()
		if words[:2] != ["ok", user]:
		    sys.exit("the bash command printed %r, want ok and %s" % (" ".join(words[:4]), user))
		status, body = call("/api/bash/execute_bash_command", command)
		if status != 401:
		    sys.exit("POST /api/bash/execute_bash_command without the session key answered %d, want 401" % status)
		print("healthy after %.1fs, versions %s, a bash command ran as %s with the session key and was refused (401) without it" % (started, version, user))
		OH_AGENT_PROBE
		systemctl stop openhands-agent-server.service
		rm -rf "$dropin"
		systemctl daemon-reload
		if [ "$rc" -ne 0 ]; then printf '%s
		' "$out"; journalctl -u openhands-agent-server.service --no-pager -n 5 2>/dev/null; exit 1; fi
		echo "openhands-agent-server.service on port 8000: $out"
	}
	rc=0
	output=$(oh_check_13 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check agent-server unit: ok ($(oh_one_line "$output"))"
	else
		oh_say "check agent-server unit: FAILED ($(oh_one_line "$output"))"
		failed="$failed, agent-server unit"
	fi
	if [ -n "$failed" ]; then
		oh_say "verification failed: ${failed#, }"
		return 1
	fi
	oh_say "verification passed: 13 checks"
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
	# The builder runs this step without its check: with nothing missing, no repository refresh
	# (which fails without network) and no install.
	if [ -z "$missing" ]; then
		oh_say "every package is installed"
		return 0
	fi
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
	oh_install_binary uv "" "$OH_UV_URL" "$OH_UV_SHA256" "$OH_UV" ''
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
	# On a second run these belong to the runtime user: install -d would follow a planted link.
	oh_no_links "$OH_PREFIX" "$OH_PREFIX/bin" "$OH_PREFIX/logs" "$OH_CODE" "$OH_PREFIX/workspace" "$OH_PREFIX/poetry"
	install -d -o "$OH_USER" -g "$OH_USER" "$OH_PREFIX" "$OH_PREFIX/bin" "$OH_PREFIX/logs" "$OH_CODE" "$OH_PREFIX/workspace" "$OH_PREFIX/poetry"
	chmod g+rws "$OH_PREFIX/workspace"
	# uv was installed before the user existed.
	chown -R "$OH_USER:$OH_USER" "$OH_PREFIX/bin"
	install -d -m 0755 '/etc/openhands-runtime'
	printf '%s\n' '{"version":1,"runtime":"agent-server","agent_server_version":"1.58.2","agent_server_port":8000,"prefix":"/openhands","user":"openhands","env_name":"openhands","python_version":"3.13","python_source":"micromamba","install_browser":false,"playwright_browsers_path":"/opt/playwright-browsers","install_vscode_server":true,"install_nodejs":false,"verify":{"imports":["openhands.agent_server","openhands.sdk","openhands.tools","openhands.workspace"],"min_packages":120,"commands":null,"launch":true,"start_server":false,"start_server_timeout":120},"passwordless_sudo":true,"use_lock":false}' >'/etc/openhands-runtime/build-options.json'.tmp
	chmod 0644 '/etc/openhands-runtime/build-options.json'.tmp
	mv -f '/etc/openhands-runtime/build-options.json'.tmp '/etc/openhands-runtime/build-options.json'
}
oh_step_micromamba_check() {
	[ -x "$OH_MM" ]
}
oh_step_micromamba_run() {
	oh_install_binary micromamba "" "$OH_MICROMAMBA_URL" "$OH_MICROMAMBA_SHA256" "$OH_MM" ''
	# "defaults" is absent from a fresh configuration, which micromamba may report as an error
	"$OH_MM" config remove channels defaults >/dev/null 2>&1 || true
}
oh_step_python_env_check() {
	[ -x "$OH_ENV_PY" ]
}
oh_step_python_env_run() {
	"$OH_MM" create -n "$OH_ENV" -y
	# The action server's Poetry is installed for tools that expect it, never used to install:
	# it cannot parse the Amazon Linux 2023 kernel release.
	oh_retry "$OH_MM" install -n "$OH_ENV" -c "$OH_CONDA_CHANNEL" "python=$OH_PYTHON_VERSION" -y
	# The env is created as root but the dependency install runs as the runtime user.
	chown -R "$OH_USER:$OH_USER" "$MAMBA_ROOT_PREFIX"
}
oh_step_vscode_server_check() {
	[ -x "$OH_VSCODE_SERVER/bin/openvscode-server" ] && [ -x "$OH_VSCODE_SERVER/bin/remote-cli/code" ]
}
oh_step_vscode_server_run() {
	oh_install_tree vscode_server bin/openvscode-server "" "$OH_VSCODE_SERVER_URL" "$OH_VSCODE_SERVER_SHA256" "$OH_VSCODE_SERVER" 'vscode_server_sha256'
	cp "$OH_VSCODE_SERVER/bin/remote-cli/openvscode-server" "$OH_VSCODE_SERVER/bin/remote-cli/code"
	chown -R "$OH_USER:$OH_USER" "$OH_VSCODE_SERVER"
}
oh_step_tini_check() {
	command -v tini >/dev/null 2>&1 || [ -x "$OH_TINI" ]
}
oh_step_tini_run() {
	if command -v tini >/dev/null 2>&1; then
		oh_say "tini: $(command -v tini) is installed"
	else
		oh_install_binary tini "" "$OH_TINI_URL" "$OH_TINI_SHA256" "$OH_TINI" ''
	fi
}
oh_step_code_check() {
	[ -f "$OH_CODE/uv.lock" ]
}
oh_step_code_run() {
	for entry in "$OH_BUNDLE/code"/* "$OH_BUNDLE/code"/.[!.]*; do
		[ -e "$entry" ] || continue
		rm -rf "${OH_CODE:?}/$(basename "$entry")"
		cp -R "$entry" "$OH_CODE/"
	done
	chown -R "$OH_USER:$OH_USER" "$OH_CODE"
}
oh_step_agent_server_check() {
	[ -x "$OH_AGENT_PY" ]
}
oh_step_agent_server_run() {
	cd "$OH_CODE"
	if [ -n "${OH_INDEX_URL:-}" ]; then export UV_INDEX_URL="$OH_INDEX_URL"; fi
	if [ -n "${OH_EXTRA_INDEX_URLS:-}" ]; then export UV_EXTRA_INDEX_URL="$OH_EXTRA_INDEX_URLS"; fi
	export UV_PYTHON_DOWNLOADS=never
	if [ -x "$OH_AGENT_PY" ] && [ "$("$OH_AGENT_PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$OH_PYTHON_VERSION" ]; then
		rm -rf "$OH_AGENT_VENV"
	fi
	if [ ! -x "$OH_AGENT_PY" ]; then
		"$OH_UV" venv --no-config --python "$OH_ENV_PY" "$OH_AGENT_VENV"
	fi
	requirements=$(mktemp)
	"$OH_UV" export --no-config --frozen --python "$OH_AGENT_PY" --all-packages --no-dev --no-editable --no-emit-workspace \
		--no-header --format requirements-txt --output-file "$requirements" >/dev/null
	oh_retry "$OH_UV" pip install --no-config --python "$OH_AGENT_PY" --no-cache --compile-bytecode --require-hashes --requirement "$requirements"
	rm -f "$requirements"
}
oh_step_checkout_packages_check() {
	[ -x "$OH_AGENT_PY" ]
}
oh_step_checkout_packages_run() {
	cd "$OH_CODE"
	if [ -n "${OH_INDEX_URL:-}" ]; then export UV_INDEX_URL="$OH_INDEX_URL"; fi
	if [ -n "${OH_EXTRA_INDEX_URLS:-}" ]; then export UV_EXTRA_INDEX_URL="$OH_EXTRA_INDEX_URLS"; fi
	export UV_PYTHON_DOWNLOADS=never
	oh_retry "$OH_UV" pip install --no-config --python "$OH_AGENT_PY" --no-cache --compile-bytecode --no-deps \
		--reinstall-package openhands-agent-server --reinstall-package openhands-sdk --reinstall-package openhands-tools --reinstall-package openhands-workspace \
		./openhands-agent-server ./openhands-sdk ./openhands-tools ./openhands-workspace
}
oh_step_environment_check() {
	grep -qxF 'LANG=C.UTF-8' /etc/environment
	grep -qxF 'LC_ALL=C.UTF-8' /etc/environment
	grep -qxF 'LOG_JSON=true' /etc/environment
	grep -qxF 'OH_ENABLE_VNC=false' /etc/environment
	grep -qxF 'EDITOR=code' /etc/environment
	grep -qxF 'VISUAL=code' /etc/environment
	grep -qxF 'GIT_EDITOR="code --wait"' /etc/environment
	grep -qxF 'OPENVSCODE_SERVER_ROOT=/openhands/.openvscode-server' /etc/environment
	grep -qxF 'PATH=/openhands/agent-server/bin:/openhands/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' /etc/environment
	for rc in "$OH_BASHRC" /root/.bashrc "/home/$OH_USER/.bashrc"; do
		grep -qxF '# >>> openhands runtime >>>' "$rc"
	done
	[ -d /workspace/project ] && [ "$(stat -c %U /workspace/project)" = "$OH_USER" ]
}
oh_step_environment_run() {
	oh_set_line /etc/environment LANG 'LANG=C.UTF-8'
	oh_set_line /etc/environment LC_ALL 'LC_ALL=C.UTF-8'
	oh_set_line /etc/environment LOG_JSON 'LOG_JSON=true'
	oh_set_line /etc/environment OH_ENABLE_VNC 'OH_ENABLE_VNC=false'
	oh_set_line /etc/environment EDITOR 'EDITOR=code'
	oh_set_line /etc/environment VISUAL 'VISUAL=code'
	oh_set_line /etc/environment GIT_EDITOR 'GIT_EDITOR="code --wait"'
	oh_set_line /etc/environment OPENVSCODE_SERVER_ROOT 'OPENVSCODE_SERVER_ROOT=/openhands/.openvscode-server'
	oh_set_line /etc/environment PATH 'PATH=/openhands/agent-server/bin:/openhands/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
	for rc in "$OH_BASHRC" /root/.bashrc "/home/$OH_USER/.bashrc"; do
		oh_set_block "$rc" <<-'BLOCK'
		export LANG='C.UTF-8'
		export LC_ALL='C.UTF-8'
		export LOG_JSON='true'
		export OH_ENABLE_VNC='false'
		export EDITOR='code'
		export VISUAL='code'
		export GIT_EDITOR='code --wait'
		export OPENVSCODE_SERVER_ROOT='/openhands/.openvscode-server'
		export PATH='/openhands/agent-server/bin:/openhands/bin':"$PATH"
		BLOCK
	done
	chown -h "$OH_USER:$OH_USER" "/home/$OH_USER/.bashrc"
	oh_no_links /workspace /workspace/project
	install -d -o "$OH_USER" -g "$OH_USER" /workspace /workspace/project
}
oh_step_service_check() {
	[ ! -d /run/systemd/system ] || { cmp -s /etc/systemd/system/openhands-agent-server.service - <<-'UNIT' && systemctl is-enabled --quiet openhands-agent-server.service
	[Unit]
	Description=OpenHands agent-server 1.58.2 (packer-plugin-openhands)
	Wants=network-online.target
	After=network-online.target

	[Service]
	Type=simple
	User=openhands
	Group=openhands
	WorkingDirectory=/
	Environment="LANG=C.UTF-8"
	Environment="LC_ALL=C.UTF-8"
	Environment="LOG_JSON=true"
	Environment="OH_ENABLE_VNC=false"
	Environment="EDITOR=code"
	Environment="VISUAL=code"
	Environment="GIT_EDITOR=code --wait"
	Environment="OPENVSCODE_SERVER_ROOT=/openhands/.openvscode-server"
	Environment="PATH=/openhands/agent-server/bin:/openhands/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	EnvironmentFile=-/etc/openhands/agent-server.env
	ExecStart=/openhands/agent-server/bin/python -m openhands.agent_server --host 0.0.0.0 --port 8000
	Restart=on-failure
	RestartSec=5
	LimitNOFILE=65536

	[Install]
	WantedBy=multi-user.target
	UNIT
	}
}
oh_step_service_run() {
	if [ ! -d /run/systemd/system ]; then
		oh_say "no systemd here: the image's entry point starts the server"
		return 0
	fi
	install -d -m 0700 "$(dirname /etc/openhands/agent-server.env)"
	tmp=$(mktemp)
	cat >"$tmp" <<-'UNIT'
	[Unit]
	Description=OpenHands agent-server 1.58.2 (packer-plugin-openhands)
	Wants=network-online.target
	After=network-online.target

	[Service]
	Type=simple
	User=openhands
	Group=openhands
	WorkingDirectory=/
	Environment="LANG=C.UTF-8"
	Environment="LC_ALL=C.UTF-8"
	Environment="LOG_JSON=true"
	Environment="OH_ENABLE_VNC=false"
	Environment="EDITOR=code"
	Environment="VISUAL=code"
	Environment="GIT_EDITOR=code --wait"
	Environment="OPENVSCODE_SERVER_ROOT=/openhands/.openvscode-server"
	Environment="PATH=/openhands/agent-server/bin:/openhands/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	EnvironmentFile=-/etc/openhands/agent-server.env
	ExecStart=/openhands/agent-server/bin/python -m openhands.agent_server --host 0.0.0.0 --port 8000
	Restart=on-failure
	RestartSec=5
	LimitNOFILE=65536

	[Install]
	WantedBy=multi-user.target
	UNIT
	install -m 0644 "$tmp" /etc/systemd/system/openhands-agent-server.service
	rm -f "$tmp"
	systemctl daemon-reload
	systemctl enable --quiet openhands-agent-server.service
	oh_say "openhands-agent-server.service enabled: put OH_SESSION_API_KEYS_0 in /etc/openhands/agent-server.env (root only) before it serves"
}
oh_step_cleanup_check() {
	[ -z "$OH_CHANGED" ]
}
oh_step_cleanup_run() {
	"$OH_MM" clean --all -y >/dev/null
	# Only when something slipped: a recursive chown of a full env takes a while.
	if [ -n "$(find "$MAMBA_ROOT_PREFIX" ! -user "$OH_USER" -print -quit)" ]; then
		chown -R "$OH_USER:$OH_USER" "$MAMBA_ROOT_PREFIX"
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
	oh_run_step 3 uv root 'fe80dd1c1b3cecd57e19ea4dc4896b0c' ''
	oh_run_step 4 user root '' ''
	oh_run_step 5 directories root '' ''
	oh_run_step 6 micromamba root '78db4264e9681041deef7773901922c3' ''
	oh_run_step 7 python-env root '1252b6386629e7d5a2d20414f0e930c3' 'dependencies browser'
	oh_run_step 8 vscode-server root '262d404f0af79bb5876da838e6b6d5df' ''
	oh_run_step 9 tini root 'd1b973fe2368cb5cad2dffc573a8c8d2' ''
	oh_run_step 10 code root '8afa54d700bbcb871c3fe42640eb14e3' ''
	oh_run_step 11 agent-server user 'afd0ccc71b41545ac5d0178eb08cec7f' 'checkout-packages'
	oh_run_step 12 checkout-packages user '8e2b1c1422420bc2ca70ca0e08d56c40' ''
	oh_run_step 13 environment root '4cb6a5933d354069a041922a7f7970b0' ''
	oh_run_step 14 service root '' ''
	oh_run_step 15 cleanup root '' ''
	oh_run_step 16 verify root '' ''
	oh_say "openhands-runtime: plan finished in ${SECONDS}s"
}

oh_main "$@"
