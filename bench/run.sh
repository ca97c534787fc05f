#!/usr/bin/env bash
# make bench: what the plugin costs around the work it orders, on the offline rig with the
# stand-ins, side by side with what a user would write instead. Writes bench/results.md.
# Not part of make test. REPS=N sets the repetitions (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/rig.sh env)"
REPS=${REPS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"; docker rmi -f openhands-bench:provisioned >/dev/null 2>&1 || true' EXIT
cp -r "$PACKER_PLUGIN_PATH/." "$work/plugins"
export PACKER_PLUGIN_PATH=$work/plugins
"$PACKER" plugins install --path ./packer-plugin-openhands github.com/openhands-runtime/openhands >/dev/null
cp -r internal/rig/testdata/openhands-src "$work/src"
mm=$PWD/internal/rig/standins/micromamba
uv=$PWD/internal/rig/standins/uv
go run ./bench/render -source "$work/src" -micromamba "$mm" -uv "$uv" -o "$work/plan.sh"

# docker_source IMAGE EXTRA: an offline docker source.
docker_source() {
	printf 'source "docker" "b" {\n  image = "%s"\n  pull = false\n  run_command = ["-d", "-i", "-t", "--network=none", "--", "{{.Image}}"]\n%s\n}\n' "$1" "$2"
}

docker_source "$OPENHANDS_RIG_BASE_IMAGE" '  discard = true' >"$work/plugin.pkr.hcl"
cat >>"$work/plugin.pkr.hcl" <<HCL
build {
  sources = ["source.docker.b"]
  provisioner "openhands-runtime" {
    source_dir      = "$work/src"
    micromamba_path = "$mm"
    uv_path         = "$uv"
  }
}
HCL
docker_source "$OPENHANDS_RIG_BASE_IMAGE" '  discard = true' >"$work/shell.pkr.hcl"
cat >>"$work/shell.pkr.hcl" <<HCL
build {
  sources = ["source.docker.b"]
  provisioner "shell" {
    inline = ["mkdir -p /tmp/plan/bin /tmp/plan/code"]
  }
  provisioner "file" {
    source      = "$work/plan.sh"
    destination = "/tmp/plan/plan.sh"
  }
  provisioner "file" {
    source      = "$mm"
    destination = "/tmp/plan/bin/micromamba"
  }
  provisioner "file" {
    source      = "$uv"
    destination = "/tmp/plan/bin/uv"
  }
  provisioner "file" {
    source      = "$work/src/"
    destination = "/tmp/plan/code"
  }
  provisioner "shell" {
    inline = ["bash /tmp/plan/plan.sh"]
  }
}
HCL
# The first run's image, provisioned again.
docker_source "$OPENHANDS_RIG_BASE_IMAGE" '  commit = true' >"$work/commit.pkr.hcl"
sed -n '/^build {/,$p' "$work/plugin.pkr.hcl" | sed '$d' >>"$work/commit.pkr.hcl"
printf '  post-processor "docker-tag" {\n    repository = "openhands-bench"\n    tags = ["provisioned"]\n  }\n}\n' >>"$work/commit.pkr.hcl"
docker_source openhands-bench:provisioned '  discard = true' >"$work/again.pkr.hcl"
sed -n '/^build {/,$p' "$work/plugin.pkr.hcl" >>"$work/again.pkr.hcl"

builder_template() {
	cat <<HCL
source "openhands-runtime" "b" {
  base_image       = "$OPENHANDS_RIG_BASE_IMAGE"
  pull             = false
  source_dir       = "$work/src"
  micromamba_path  = "$mm"
  uv_path          = "$uv"
  image_repository = "$1"
$2
}
build { sources = ["source.openhands-runtime.b"] }
HCL
}

# run NAME TEMPLATE: one packer build; prints seconds, communicator executions and uploads,
# and the plugin's peak RSS in KiB.
run() {
	local log=$work/$1.log start end peak=0 pid hwm
	start=$(date +%s.%N)
	PACKER_LOG=1 PACKER_LOG_PATH=$log "$PACKER" build -color=false "$2" >"$work/$1.out" 2>&1 &
	local packer_pid=$!
	while kill -0 "$packer_pid" 2>/dev/null; do
		for pid in $(pgrep -f 'packer-plugin-openhands' || true); do
			hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$pid/status" 2>/dev/null || true)
			if [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ]; then peak=$hwm; fi
		done
		sleep 0.1
	done
	wait "$packer_pid" || { echo "bench: $1 failed, see $work/$1.out" >&2; tail -n 20 "$work/$1.out" >&2; exit 1; }
	end=$(date +%s.%N)
	printf '%s %s %s %s\n' "$(echo "$end - $start" | bc)" "$(grep -c 'Executing /usr/bin/docker exec\|Executing docker exec' "$log" || true)" "$(grep -c 'Copying to ' "$log" || true)" "$peak"
}

# plan_seconds NAME: the plan's own run time, from its last line.
plan_seconds() { sed -n 's/.*plan finished in \([0-9]*\)s.*/\1/p' "$work/$1.out" | tail -n 1; }

# stats VALUES...: median min max
stats() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {printf "%.2f %.2f %.2f", v[int((NR+1)/2)], v[1], v[NR]}'; }

declare -A times calls uploads rss
measure() { # KEY NAME TEMPLATE
	local i out
	for i in $(seq 1 "$REPS"); do
		out=$(run "$2-$i" "$3")
		read -r t e u p <<<"$out"
		times[$1]="${times[$1]:-} $t"
		calls[$1]=$e
		uploads[$1]=$u
		if [ "$p" -gt "${rss[$1]:-0}" ]; then rss[$1]=$p; fi
	done
}

echo "bench: provisioner vs shell+file ($REPS reps each)" >&2
measure plugin plugin "$work/plugin.pkr.hcl"
measure shell shell "$work/shell.pkr.hcl"
run commit "$work/commit.pkr.hcl" >/dev/null
echo "bench: re-provisioning" >&2
measure again again "$work/again.pkr.hcl"
echo "bench: builder" >&2
for i in $(seq 1 "$REPS"); do
	repo=openhands-bench-b$i-$$
	# An option of its own changes plan.sh, the first layer: nothing comes from the cache.
	fresh="  environment_vars = [\"BENCH_REP=$i-$$\"]"
	builder_template "$repo" "$fresh" >"$work/clean.pkr.hcl"
	out=$(run "clean-$i" "$work/clean.pkr.hcl"); read -r t _ _ p <<<"$out"; times[clean]="${times[clean]:-} $t"; rss[builder]=$p
	builder_template "$repo" "$fresh" >"$work/same.pkr.hcl"
	out=$(run "same-$i" "$work/same.pkr.hcl"); read -r t _ _ _ <<<"$out"; times[same]="${times[same]:-} $t"
	printf '# change %s\n' "$i" >>"$work/src/openhands/runtime/__init__.py"
	out=$(run "source-$i" "$work/same.pkr.hcl"); read -r t _ _ _ <<<"$out"; times[source]="${times[source]:-} $t"
	docker images --format '{{.Repository}}:{{.Tag}}' | grep "^$repo:" | xargs -r docker rmi -f >/dev/null
done

# shellcheck disable=SC2086 # one word per measurement
{
	read -r pm pmin pmax <<<"$(stats ${times[plugin]})"
	read -r sm smin smax <<<"$(stats ${times[shell]})"
	read -r am amin amax <<<"$(stats ${times[again]})"
	read -r cm cmin cmax <<<"$(stats ${times[clean]})"
	read -r um umin umax <<<"$(stats ${times[same]})"
	read -r om omin omax <<<"$(stats ${times[source]})"
}
ratio() { printf "%.2f" "$(echo "scale=4; $1 / $2" | bc)"; }
met() { if [ "$(echo "$1 <= $2" | bc)" = 1 ]; then echo yes; else echo "no"; fi; }
pr=$(ratio "$pm" "$sm"); ar=$(ratio "$am" "$pm"); orr=$(ratio "$om" "$cm")
first_plan=$(plan_seconds plugin-1); again_plan=$(plan_seconds again-1)
size=$(stat -c %s packer-plugin-openhands)
{
	echo "# Benchmarks"
	echo
	echo "Measured $(date -u +%Y-%m-%d) with \`make bench\` (REPS=$REPS) on $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, kernel $(uname -r), Docker Engine $(docker version --format '{{.Server.Version}}'), offline rig with the stand-ins (the plan's downloads take no time here, so these are the plugin's own costs). Times are whole \`packer build\` wall times in seconds: median (min–max)."
	echo
	echo "| measure | result | target | met |"
	echo "|---|---|---|---|"
	echo "| provisioner: openhands-runtime | $pm ($pmin–$pmax) s; ${calls[plugin]} executions, ${uploads[plugin]} uploads | | |"
	echo "| provisioner: shell + file, same script and files | $sm ($smin–$smax) s; ${calls[shell]} executions, ${uploads[shell]} uploads | | |"
	echo "| provisioner overhead ratio | $pr | ≤ 1.05, calls constant in steps | $(met "$pr" 1.05) |"
	echo "| re-provisioning the produced image | $am ($amin–$amax) s = $(echo "scale=0; $ar * 100 / 1" | bc)% of the first run; the plan itself ${again_plan}s against ${first_plan}s | ≤ 25% | $(met "$ar" 0.25) |"
	echo "| builder: clean build (no layer cache) | $cm ($cmin–$cmax) s | | |"
	echo "| builder: unchanged rebuild (no build) | $um ($umin–$umax) s | ≤ 3 s | $(met "$um" 3) |"
	echo "| builder: source-only rebuild | $om ($omin–$omax) s = $(echo "scale=0; $orr * 100 / 1" | bc)% of clean | ≤ 30% | $(met "$orr" 0.30) |"
	echo "| peak RSS of the plugin: provisioner / builder | $((rss[plugin] / 1024)) / $((rss[builder] / 1024)) MiB | < 150 MiB | $(met "$(( (rss[plugin] > rss[builder] ? rss[plugin] : rss[builder]) / 1024 ))" 149) |"
	echo "| plugin binary | $((size / 1024 / 1024)) MiB (unstripped) | | |"
	echo "| ECR push vs docker push; scaling to 1k/10k/50k files | not measured yet | ≤ 1.1×; 0 bytes on the second push | – |"
	echo
	echo "Why two targets are missed here: the stand-ins make the heavy steps (env creation, dependency install, browser) take well under a second, so fixed costs dominate both ratios. A re-provisioning still starts the container, unpacks the bundle, runs every step's check, rewrites the environment and runs the 9 verification checks (2–3 s); with real downloads the first run takes minutes and the same fixed cost is a few percent. Likewise the source-only rebuild's fixed part (context upload, 11 Dockerfile steps, verify) is measured against a clean build whose installs are stand-ins."
	echo
	echo "Executions and uploads are the docker communicator's \`Executing docker exec\` and \`Copying to\` log lines of one run. The whole-build times include container start and commit, the same in both columns. The shell baseline's per-provisioner executions grow with every file/shell block a user adds; the plugin's stay at one upload and one execution."
} >bench/results.md
cat bench/results.md
