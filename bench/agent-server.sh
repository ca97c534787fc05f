#!/usr/bin/env bash
# The agent-server (OpenHands V1) rows of make bench: the builder with the real packages from
# the rig's warm local index (the real uv; micromamba and openvscode-server are stand-ins,
# their hosts being out of reach), an unchanged rebuild, the image's start to GET /ready, and
# what the image holds. Writes bench/agent-server.md. REPS=N sets the repetitions (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/rig.sh env)"
REPS=${REPS:-3}
VERSION=${AGENT_SERVER_VERSION:-1.58.2}
work=$(mktemp -d)
repo=openhands-bench-agent-server-$$
trap 'rm -rf "$work"; docker ps -aq --filter "label=openhands-bench=$$" | xargs -r docker rm -f >/dev/null; docker images --format "{{.Repository}}:{{.Tag}}" | grep "^$repo" | xargs -r docker rmi -f >/dev/null' EXIT
[ -x packer-plugin-openhands ] || go build -o packer-plugin-openhands .
cp -r "$PACKER_PLUGIN_PATH/." "$work/plugins"
export PACKER_PLUGIN_PATH=$work/plugins
"$PACKER" plugins install --path ./packer-plugin-openhands github.com/openhands-runtime/openhands >/dev/null

# template REPOSITORY REP: the acceptance tests' agent-server template; REP, in the build's
# environment, changes plan.sh, the first layer, so nothing comes from the engine's cache.
template() {
	go run ./bench/render -agent-server-template "$1" -agent-server-version "$VERSION" |
		sed "s|environment_vars   = \[|environment_vars   = [\"BENCH_REP=$2\", |"
}

# build NAME TEMPLATE: one packer build; prints its seconds.
build() {
	local start end
	start=$(date +%s.%N)
	"$PACKER" build -color=false "$2" >"$work/$1.out" 2>&1 || { echo "bench: $1 failed" >&2; tail -n 30 "$work/$1.out" >&2; exit 1; }
	end=$(date +%s.%N)
	echo "$end - $start" | bc
}

stats() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {printf "%.2f %.2f %.2f", v[int((NR+1)/2)], v[1], v[NR]}'; }
met() { if [ "$(echo "$1 <= $2" | bc)" = 1 ]; then echo yes; else echo no; fi; }

clean=() same=()
for i in $(seq 1 "$REPS"); do
	echo "bench: agent-server $VERSION, clean build $i/$REPS" >&2
	template "$repo-$i" "$i-$$" >"$work/build.pkr.hcl"
	clean+=("$(build "clean-$i" "$work/build.pkr.hcl")")
	same+=("$(build "same-$i" "$work/build.pkr.hcl")")
	grep -q 'nothing to build' "$work/same-$i.out" || { echo "bench: the unchanged rebuild built" >&2; exit 1; }
done
image=$repo-1:acc

# Start to /ready: docker run of the image as launchers do (the entry point, --host and
# --port), host network on a loopback port, until GET /ready answers 200.
ready=()
for i in $(seq 1 5); do
	port=$((18000 + i))
	start=$(date +%s.%N)
	docker run -d --label "openhands-bench=$$" --network=host -e "OH_SESSION_API_KEYS_0=bench-$i" "$image" --host 127.0.0.1 --port "$port" >/dev/null
	until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ready" || true)" = 200 ]; do
		if [ "$(echo "$(date +%s.%N) - $start > 120" | bc)" = 1 ]; then echo "bench: /ready did not answer 200 in 120 s" >&2; exit 1; fi
		sleep 0.05
	done
	end=$(date +%s.%N)
	ready+=("$(echo "$end - $start" | bc)")
	docker ps -q --filter "label=openhands-bench=$$" | xargs -r docker rm -f >/dev/null
done

# What the image holds: its size, the base's, and the parts the plan installs.
size() { docker image inspect --format '{{.Size}}' "$1"; }
mib() { echo "$1 / 1048576" | bc; }
image_size=$(size "$image") base_size=$(size "$OPENHANDS_RIG_TRIXIE_IMAGE")
venv=$(docker run --rm --network=none --entrypoint /bin/bash "$image" -c 'du -sb /openhands/agent-server | cut -f1')
dists=$(docker run --rm --network=none --entrypoint /openhands/agent-server/bin/python "$image" -c \
	'import importlib.metadata as m; print(len(list(m.distributions())))')

read -r cm cmin cmax <<<"$(stats "${clean[@]}")"
read -r um umin umax <<<"$(stats "${same[@]}")"
read -r rm rmin rmax <<<"$(stats "${ready[@]}")"
{
	echo "# Benchmarks: the agent-server (OpenHands V1)"
	echo
	echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') with \`bench/agent-server.sh\` (part of \`make bench\`, REPS=$REPS) on the offline rig: the builder installs openhands-agent-server $VERSION and the three SDK packages with the real uv from the rig's local index, whose cache is warm (no download); micromamba and openvscode-server are stand-ins (conda-forge and GitHub are out of reach), so Python is Debian 13's 3.13 linked into the environment. Times are wall times in seconds: median and min–max."
	echo
	echo "| measure | median | spread (min–max) | target | met? |"
	echo "|---|---|---|---|---|"
	echo "| agent-server: clean build, warm package cache (fresh repository and plan layer; base image \`$OPENHANDS_RIG_TRIXIE_IMAGE\`) | $cm s | $cmin–$cmax s | | |"
	echo "| agent-server: unchanged rebuild (finds the content tag) | $um s | $umin–$umax s | ≤ 1.5 s | $(met "$um" 1.5) |"
	echo "| agent-server: container start to \`GET /ready\` 200 (5 starts, byte-compiled venv) | $rm s | $rmin–$rmax s | ≤ 5 s | $(met "$rm" 5) |"
	echo "| agent-server: image size | $(mib "$image_size") MiB: base $(mib "$base_size") MiB + $(mib $((image_size - base_size))) MiB installed | | | |"
	echo "| agent-server: of what is installed, the venv ($dists distributions) / the rest (uv, tini, the micromamba environment and openvscode-server, both stand-ins of a few KiB here, the plan's files) | $(mib "$venv") / $(mib $((image_size - base_size - venv))) MiB | | | |"
	echo
	echo "## How it is measured, and what it is compared with"
	echo
	echo "- Clean build: the acceptance tests' template (\`rig.AgentServerBuilderTemplate\`, by \`bench/render -agent-server-template\`), a fresh \`image_repository\` and a \`BENCH_REP\` value in \`environment_vars\` per run, which changes plan.sh and so the first layer: the engine's cache serves nothing above the base image. Unchanged: the same template again, which finds the image by its content tag (\`nothing to build\`)."
	echo "- Start to /ready: \`docker run -d\` of the image with the entry point and \`--host 127.0.0.1 --port P\` on the host network (a loopback port), a session key in \`OH_SESSION_API_KEYS_0\`, timed from \`docker run\` until \`GET /ready\` answers 200, polled every 50 ms; five starts."
	echo "- Upstream's \`source-minimal\` image is the SDK's base image with its apt packages and \`/agent-server\`: a venv of the same four packages (plus the \`boto3\` extra) on a python-build-standalone 3.13 that uv downloads from GitHub. Neither that image nor that Python can be fetched here, so the comparison is by parts: the venv above holds what upstream's venv holds but \`boto3\`; upstream adds its own Python (the install-only build, tens of MiB) where this image has the micromamba environment, which on a real build is conda-forge's Python (here a stand-in linking Debian's); the system packages are in the base image here and in a layer of their own upstream."
} >bench/agent-server.md
cat bench/agent-server.md
