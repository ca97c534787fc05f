#!/usr/bin/env bash
# OpenHands runtime install plan, rendered by packer-plugin-openhands test.
# Steps: preflight, system-packages, uv, user, directories, micromamba, python-env, vscode-server, code, dependencies, environment, cleanup.
set -euo pipefail
umask 022
exec 2>&1

# Options. Exported so that steps run as the runtime user see them too.
OH_BUNDLE=$(cd "$(dirname "$0")" && pwd)
export OH_BUNDLE
export OH_PREFIX='/openhands'
export OH_USER='openhands'
export OH_UID=''
export OH_ENV='openhands'
export OH_PYTHON_VERSION='3.12'
export OH_CODE="$OH_PREFIX/code"
export OH_KEEP_UID_OWNER=''
export OH_STAMPS="/var/lib/openhands-runtime$OH_PREFIX"
export OH_STEP_COUNT=12
export OH_NETWORK_RETRIES=3
export OH_DOWNLOAD_CONNECT_TIMEOUT=30
export OH_DOWNLOAD_STALL_TIMEOUT=60
export OH_MIN_FREE_DISK_GB=5
export OH_CONDA_CHANNEL='conda-forge'
export OH_CHANNEL_ALIAS=''
export OH_INDEX_URL=''
export OH_EXTRA_INDEX_URLS=''
export OH_EXTRA_PIP_PACKAGES='jupyterlab notebook flake8'
export PYTHONDONTWRITEBYTECODE=1
export MAMBA_ROOT_PREFIX='/openhands/micromamba'
export OH_ENV_BIN="$MAMBA_ROOT_PREFIX/envs/$OH_ENV/bin"
export OH_ENV_PY="$OH_ENV_BIN/python$OH_PYTHON_VERSION"
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
	debian:12) OH_PLATFORM_NAME='Debian 12' OH_FAMILY=apt OH_ADMIN_GROUP=sudo OH_BASHRC=/etc/bash.bashrc ;;
	*)
		oh_say "openhands-runtime: unsupported platform: /etc/os-release has ID=\"$id\" VERSION_ID=\"$version_id\"${pretty:+ ($pretty)}; supported: Debian 12"
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
		OH_SYSTEM_PACKAGES='wget curl ca-certificates sudo git jq tmux build-essential ripgrep ffmpeg coreutils util-linux procps findutils grep sed libatomic1 libgl1|libgl1-mesa-glx libasound2-plugins'
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
# ... pythonProbeHeader of plan/checks.go, embedded verbatim ...

def check_1():
    m = importlib.import_module("pydantic")
    return getattr(m, "__version__", "imported")

report(1, check_1)

def check_2():
    m = importlib.import_module("openai")
    return getattr(m, "__version__", "imported")

report(2, check_2)

def check_3():
    m = importlib.import_module("litellm")
    return getattr(m, "__version__", "imported")

report(3, check_3)

def check_4():
    m = importlib.import_module("openhands.core.config")
    return getattr(m, "__version__", "imported")

report(4, check_4)

def check_5():
    import openhands
    location = os.path.dirname(os.path.abspath(openhands.__file__))
    want = os.path.join(os.environ["OH_CODE"], "openhands")
    if location != want:
        raise CheckFailed("openhands from %s, want %s" % (location, want))
    return "openhands from " + location

report(5, check_5)

def check_6():
    import importlib.metadata
    names = {(d.metadata["Name"] or "").lower().replace("_", "-") for d in importlib.metadata.distributions()}
    names.discard("")
    detail = "%d distributions (at least 300 wanted)" % len(names)
    if len(names) < 300:
        raise CheckFailed(detail)
    return detail

report(6, check_6)

def check_10():
    m = importlib.import_module("kernel_gateway")
    return "kernel_gateway " + getattr(m, "__version__", "imported")

report(10, check_10)
OH_PYTHON_CHECKS
	) || true
	oh_check_1() {
		oh_probe_result 1 "$probe"
	}
	rc=0
	output=$(oh_check_1 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check import pydantic: ok ($(oh_one_line "$output"))"
	else
		oh_say "check import pydantic: FAILED ($(oh_one_line "$output"))"
		failed="$failed, import pydantic"
	fi
	oh_check_2() {
		oh_probe_result 2 "$probe"
	}
	rc=0
	output=$(oh_check_2 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check import openai: ok ($(oh_one_line "$output"))"
	else
		oh_say "check import openai: FAILED ($(oh_one_line "$output"))"
		failed="$failed, import openai"
	fi
	oh_check_3() {
		oh_probe_result 3 "$probe"
	}
	rc=0
	output=$(oh_check_3 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check import litellm: ok ($(oh_one_line "$output"))"
	else
		oh_say "check import litellm: FAILED ($(oh_one_line "$output"))"
		failed="$failed, import litellm"
	fi
	oh_check_4() {
		oh_probe_result 4 "$probe"
	}
	rc=0
	output=$(oh_check_4 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check import openhands.core.config: ok ($(oh_one_line "$output"))"
	else
		oh_say "check import openhands.core.config: FAILED ($(oh_one_line "$output"))"
		failed="$failed, import openhands.core.config"
	fi
	oh_check_5() {
		oh_probe_result 5 "$probe"
	}
	rc=0
	output=$(oh_check_5 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check editable install: ok ($(oh_one_line "$output"))"
	else
		oh_say "check editable install: FAILED ($(oh_one_line "$output"))"
		failed="$failed, editable install"
	fi
	oh_check_6() {
		oh_probe_result 6 "$probe"
	}
	rc=0
	output=$(oh_check_6 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check package count: ok ($(oh_one_line "$output"))"
	else
		oh_say "check package count: FAILED ($(oh_one_line "$output"))"
		failed="$failed, package count"
	fi
	oh_check_7() {
		stray=$(find "$MAMBA_ROOT_PREFIX" ! -user "$OH_USER" -print -quit 2>&1)
		if [ -n "$stray" ]; then echo "not owned by $OH_USER: $stray"; exit 1; fi
		echo "$MAMBA_ROOT_PREFIX owned by $OH_USER"
	}
	rc=0
	output=$(oh_check_7 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check micromamba ownership: ok ($(oh_one_line "$output"))"
	else
		oh_say "check micromamba ownership: FAILED ($(oh_one_line "$output"))"
		failed="$failed, micromamba ownership"
	fi
	oh_check_8() {
		interpreter=$(sed -n 's/^OH_INTERPRETER_PATH=//p' /etc/environment | tail -n 1)
		echo "OH_INTERPRETER_PATH=$interpreter"
		[ -n "$interpreter" ] && [ -x "$interpreter" ]
	}
	rc=0
	output=$(oh_check_8 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check interpreter path: ok ($(oh_one_line "$output"))"
	else
		oh_say "check interpreter path: FAILED ($(oh_one_line "$output"))"
		failed="$failed, interpreter path"
	fi
	oh_check_9() {
		cd "$OH_CODE" || exit 1
		# Without bytecode: the check must leave no root-owned __pycache__ in the code directory.
		out=$(env -i HOME=/root 'LANG=C.UTF-8' 'LC_ALL=C.UTF-8' 'EDITOR=code' 'VISUAL=code' 'GIT_EDITOR=code --wait' 'OPENVSCODE_SERVER_ROOT=/openhands/.openvscode-server' 'POETRY_VIRTUALENVS_PATH=/openhands/poetry' 'MAMBA_ROOT_PREFIX=/openhands/micromamba' 'OH_INTERPRETER_PATH=/openhands/micromamba/envs/openhands/bin/python' 'PATH=/openhands/bin:/openhands/micromamba/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' PYTHONDONTWRITEBYTECODE=1 '/openhands/micromamba/bin/micromamba' run -n 'openhands' poetry run python -u -m openhands.runtime.action_execution_server --help 2>&1) || { printf '%s\n' "$out" | tail -n 5; exit 1; }
		echo "the launcher's command with --help exits 0 as root with only the launch environment"
	}
	rc=0
	output=$(oh_check_9 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check launcher: ok ($(oh_one_line "$output"))"
	else
		oh_say "check launcher: FAILED ($(oh_one_line "$output"))"
		failed="$failed, launcher"
	fi
	oh_check_10() {
		oh_probe_result 10 "$probe"
	}
	rc=0
	output=$(oh_check_10 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check jupyter kernel gateway: ok ($(oh_one_line "$output"))"
	else
		oh_say "check jupyter kernel gateway: FAILED ($(oh_one_line "$output"))"
		failed="$failed, jupyter kernel gateway"
	fi
	oh_check_11() {
		stray=$(find "$OH_VSCODE_SERVER" ! -user "$OH_USER" -print -quit 2>&1)
		if [ -n "$stray" ]; then echo "not owned by $OH_USER: $stray"; exit 1; fi
		version=$("$OH_VSCODE_SERVER/bin/openvscode-server" --version 2>&1) || { printf '%s\n' "$version"; exit 1; }
		echo "openvscode-server $(printf '%s\n' "$version" | head -n 1), owned by $OH_USER"
	}
	rc=0
	output=$(oh_check_as_user oh_check_11 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check openvscode-server: ok ($(oh_one_line "$output"))"
	else
		oh_say "check openvscode-server: FAILED ($(oh_one_line "$output"))"
		failed="$failed, openvscode-server"
	fi
	oh_check_12() {
		tmux -V >/dev/null && git --version >/dev/null && echo "tmux, git"
	}
	rc=0
	output=$(oh_check_as_user oh_check_12 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		oh_say "check runtime user tools: ok ($(oh_one_line "$output"))"
	else
		oh_say "check runtime user tools: FAILED ($(oh_one_line "$output"))"
		failed="$failed, runtime user tools"
	fi
	if [ -n "$failed" ]; then
		oh_say "verification failed: ${failed#, }"
		return 1
	fi
	oh_say "verification passed: 12 checks"
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
	id -u "$OH_USER" >/dev/null 2>&1 && id -nG "$OH_USER" | tr ' ' '\n' | grep -qx "$OH_ADMIN_GROUP" && [ ! -e "/etc/sudoers.d/$OH_USER" ]
}
oh_step_user_run() {
	if ! id -u "$OH_USER" >/dev/null 2>&1; then
		id_=$(oh_pick_id)
		getent group "$OH_USER" >/dev/null || groupadd -g "$id_" "$OH_USER"
		useradd -m -d "/home/$OH_USER" -s /bin/bash -u "$id_" -g "$OH_USER" "$OH_USER"
		oh_say "created user $OH_USER with uid $(id -u "$OH_USER") and gid $(id -g "$OH_USER")"
	fi
	usermod -aG "$OH_ADMIN_GROUP" "$OH_USER"
	rm -f "/etc/sudoers.d/$OH_USER"
}
oh_step_directories_run() {
	# On a second run these belong to the runtime user: install -d would follow a planted link.
	oh_no_links "$OH_PREFIX" "$OH_PREFIX/bin" "$OH_PREFIX/logs" "$OH_CODE" "$OH_PREFIX/workspace" "$OH_PREFIX/poetry"
	install -d -o "$OH_USER" -g "$OH_USER" "$OH_PREFIX" "$OH_PREFIX/bin" "$OH_PREFIX/logs" "$OH_CODE" "$OH_PREFIX/workspace" "$OH_PREFIX/poetry"
	chmod g+rws "$OH_PREFIX/workspace"
	# uv was installed before the user existed.
	chown -R "$OH_USER:$OH_USER" "$OH_PREFIX/bin"
	install -d -m 0755 '/etc/openhands-runtime'
	printf '%s\n' '{"version":1,"runtime":"action-server","prefix":"/openhands","user":"openhands","env_name":"openhands","python_version":"3.12","python_source":"micromamba","install_browser":false,"playwright_browsers_path":"/opt/playwright-browsers","install_vscode_server":true,"install_nodejs":false,"verify":{"imports":["pydantic","openai","litellm","openhands.core.config"],"min_packages":300,"commands":null,"launch":true,"start_server":false,"start_server_timeout":120},"passwordless_sudo":false,"use_lock":false}' >'/etc/openhands-runtime/build-options.json'.tmp
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
	oh_retry "$OH_MM" install -n "$OH_ENV" -c "$OH_CONDA_CHANNEL" poetry "python=$OH_PYTHON_VERSION" -y
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
	if [ -n "${OH_INDEX_URL:-}" ]; then export UV_INDEX_URL="$OH_INDEX_URL"; fi
	if [ -n "${OH_EXTRA_INDEX_URLS:-}" ]; then export UV_EXTRA_INDEX_URL="$OH_EXTRA_INDEX_URLS"; fi
	# uv, not pip: pip install -e . skips the dependencies of a poetry-core project.
	# shellcheck disable=SC2086 # one word per package
	oh_retry "$OH_MM" run -n "$OH_ENV" "$OH_UV" pip install "$@" -e . $OH_EXTRA_PIP_PACKAGES
}
oh_step_environment_check() {
	grep -qF '# poetry, as installed by packer-plugin-openhands' "$OH_ENV_BIN/poetry"
	grep -qxF 'LANG=C.UTF-8' /etc/environment
	grep -qxF 'LC_ALL=C.UTF-8' /etc/environment
	grep -qxF 'EDITOR=code' /etc/environment
	grep -qxF 'VISUAL=code' /etc/environment
	grep -qxF 'GIT_EDITOR="code --wait"' /etc/environment
	grep -qxF 'OPENVSCODE_SERVER_ROOT=/openhands/.openvscode-server' /etc/environment
	grep -qxF 'POETRY_VIRTUALENVS_PATH=/openhands/poetry' /etc/environment
	grep -qxF 'MAMBA_ROOT_PREFIX=/openhands/micromamba' /etc/environment
	grep -qxF 'OH_INTERPRETER_PATH=/openhands/micromamba/envs/openhands/bin/python' /etc/environment
	grep -qxF 'PATH=/openhands/bin:/openhands/micromamba/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' /etc/environment
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
	oh_set_line /etc/environment OPENVSCODE_SERVER_ROOT 'OPENVSCODE_SERVER_ROOT=/openhands/.openvscode-server'
	oh_set_line /etc/environment POETRY_VIRTUALENVS_PATH 'POETRY_VIRTUALENVS_PATH=/openhands/poetry'
	oh_set_line /etc/environment MAMBA_ROOT_PREFIX 'MAMBA_ROOT_PREFIX=/openhands/micromamba'
	oh_set_line /etc/environment OH_INTERPRETER_PATH 'OH_INTERPRETER_PATH=/openhands/micromamba/envs/openhands/bin/python'
	oh_set_line /etc/environment PATH 'PATH=/openhands/bin:/openhands/micromamba/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
	for rc in "$OH_BASHRC" /root/.bashrc "/home/$OH_USER/.bashrc"; do
		oh_set_block "$rc" <<-'BLOCK'
		export LANG='C.UTF-8'
		export LC_ALL='C.UTF-8'
		export EDITOR='code'
		export VISUAL='code'
		export GIT_EDITOR='code --wait'
		export OPENVSCODE_SERVER_ROOT='/openhands/.openvscode-server'
		export POETRY_VIRTUALENVS_PATH='/openhands/poetry'
		export MAMBA_ROOT_PREFIX='/openhands/micromamba'
		export OH_INTERPRETER_PATH='/openhands/micromamba/envs/openhands/bin/python'
		export PATH='/openhands/bin:/openhands/micromamba/bin':"$PATH"
		eval "$('/openhands/micromamba/bin/micromamba' shell hook -s bash)"
		micromamba activate 'openhands' 2>/dev/null || true
		BLOCK
	done
	chown -h "$OH_USER:$OH_USER" "/home/$OH_USER/.bashrc"
	# A fresh file beside the shim (the env's bin belongs to the runtime user), renamed over it.
	shim=$(mktemp "$OH_ENV_BIN/.poetry.XXXXXX")
	cat >"$shim" <<-'POETRY'
		# ... poetryShim of plan/launch.go, embedded verbatim ...
		POETRY
	chmod 0755 "$shim"
	chown -h "$OH_USER:$OH_USER" "$shim"
	mv -f "$shim" "$OH_ENV_BIN/poetry"
	oh_as_user "$OH_MM" config set changeps1 False >/dev/null
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
	oh_run_step 7 python-env root 'a04300f8422ac6145a523ecc39f6bb31' 'dependencies browser'
	oh_run_step 8 vscode-server root '262d404f0af79bb5876da838e6b6d5df' ''
	oh_run_step 9 code root '8afa54d700bbcb871c3fe42640eb14e3' ''
	oh_run_step 10 dependencies user 'd63857c9c52f9114303b59b6f3786499' ''
	oh_run_step 11 environment root '9fef2df8fd2c374c3e2831d6911a5708' ''
	oh_run_step 12 cleanup root '' ''
	oh_say "openhands-runtime: plan finished in ${SECONDS}s"
}

oh_main "$@"
