#!/usr/bin/env bash
# make reliability: runs each fault test TRIALS times and each fuzz target FUZZTIME, and writes
# bench/reliability.md: per fault, the trials, how many ended as expected (the test passed:
# the build failed or stopped as it should, nothing was left, the re-run completed), the time
# to recover (the re-run's, as the tests log it with "recovered in") and the other times the
# tests measured; per fuzz target, the execs run and the crashers found.
# Not part of make test: the acceptance trials take minutes each.
set -euo pipefail
cd "$(dirname "$0")/.."
TRIALS=${TRIALS:-3}
FUZZTIME=${FUZZTIME:-30s}
out=${OUT:-bench/reliability.md}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fault | package | test (anchored) | what "as expected" means
faults=(
	"Ctrl-C during the dependency step over SSH|./provisioner/runtime|TestAccProvisionerInterruptedOverSSH|no plan process or /tmp file left; second build verified"
	"Ctrl-C during the dependency step on Docker|./provisioner/runtime|TestAccProvisionerInterruptedOnDocker|container removed, no tag; second build verified"
	"Ctrl-C during the builder's build|./builder/runtime|TestAccBuilderInterrupted|build container removed, no tag; second build verified"
	"Ctrl-C during the push to ECR (slowed registry)|./post-processor/ecr|TestAccECRPushInterrupted|packer ends within 15 s, no manifest or tag; second build pushes the whole image"
	"Provisioner timeout over SSH|./provisioner/runtime|TestAccProvisionerTimeoutOverSSH|plan stopped, \"Stopped the OpenHands runtime plan\" printed, nothing left"
	"SSH connection lost mid-plan|./provisioner/runtime|TestAccProvisionerLostConnection|clear error, plan stopped; max_retries completes"
	"Disk full during the dependency step (SSH target, tmpfs prefix)|./provisioner/runtime|TestAccProvisionerDiskFull|fails naming the step and the full disk, no stamp; after freeing space the re-run verifies"
	"ECR API 500/503/throttling/stall, each operation|./post-processor/ecr|TestECRAPIFaults|2 faults retried through; 3 fail naming the operation"
	"ECR API 30 % fault rate, 20 seeds|./post-processor/ecr|TestECRAPIFaultRate|runs complete or fail naming the operation"
	"Launcher signalled or its input closed|./plan|TestLauncherSignalled|plan group stopped, bundle, pid file and directory removed"
	"Cancelled or interrupted provisioner|./provisioner/runtime|TestProvisionCancelled|the plan's input ends; stopped said once it ended, else the stop command"
	"Shell code in every option and file name|./plan|TestNoShellInjection|no marker file"
)

# seconds DURATION...: Go durations (1m2.5s, 800ms, 20.5s) as seconds, one a line.
seconds() {
	for d in "$@"; do
		awk -v d="$d" 'BEGIN {
			s = 0
			while (match(d, /^[0-9.]+(ms|m|s|h)/)) {
				tok = substr(d, 1, RLENGTH); d = substr(d, RLENGTH + 1)
				n = tok + 0; u = tok; sub(/^[0-9.]+/, "", u)
				s += (u == "h") ? n * 3600 : (u == "m") ? n * 60 : (u == "ms") ? n / 1000 : n
			}
			printf "%.1f\n", s
		}'
	done
}

# minmax VALUES...: "min-max" of numbers, "" for none.
minmax() {
	[ $# -gt 0 ] || return 0
	local sorted
	sorted=$(printf '%s\n' "$@" | sort -n)
	printf '%s-%s' "$(head -n1 <<<"$sorted")" "$(tail -n1 <<<"$sorted")"
}

{
	echo "# Reliability"
	echo
	echo "Written by \`make reliability\` (scripts/reliability.sh) on $(date -u +%Y-%m-%d), $(nproc) cores:"
	echo "TRIALS=$TRIALS runs of each fault test, FUZZTIME=$FUZZTIME a fuzz target. A trial ends as expected"
	echo "when its test passes. Time to recover is the build after the fault (space freed, after the"
	echo "interrupt), or the retried plan's run after a lost connection, as the tests log it. Measured"
	echo "are the other times the tests log (Packer's exit after Ctrl-C, the container's removal, giving"
	echo "up on the ECR API), counted over all trials; the test duration includes the re-run."
	echo
	echo "| fault | expected | trials | as expected | time to recover (min-max) | test duration (min-max) | measured | test |"
	echo "|---|---|---|---|---|---|---|---|"
} >"$out"

# TRIALS=0 runs the fuzz targets only.
[ "$TRIALS" -gt 0 ] || faults=()
for row in "${faults[@]}"; do
	IFS='|' read -r fault pkg test expected <<<"$row"
	ok=0 durations=() recovered=()
	for i in $(seq "$TRIALS"); do
		log="$work/$test-$i.log"
		start=$(date +%s)
		if PACKER_ACC=1 go test -count=1 -timeout 30m -run "^$test\$" -v "$pkg" >"$log" 2>&1; then
			ok=$((ok + 1))
			# A test that logs no recovery measures none (grep finds nothing: not an error).
			mapfile -t -O "${#recovered[@]}" recovered < <(seconds $({ grep -ohE 'recovered in [0-9.hms]+' "$log" || true; } | cut -d' ' -f3))
		fi
		durations+=($(($(date +%s) - start)))
		echo "$test trial $i: $(tail -n 1 "$log")" >&2
	done
	measured=$({ cat "$work/$test"-*.log | grep -ohE '(packer ended [0-9.]+m?s|went [0-9.]+m?s|gave up after [0-9.]+m?s|[0-9]+ completed through retries, [0-9]+ gave up)' || true; } |
		sort | uniq -c | sed 's/^ *//' | paste -sd ';' - | sed 's/;/; /g')
	recover=$(minmax "${recovered[@]}")
	echo "| $fault | $expected | $TRIALS | $ok | ${recover:+$recover s} | $(minmax "${durations[@]}") s | ${measured:-} | \`$test\` |" >>"$out"
done

{
	echo
	echo "## Fuzz targets"
	echo
	echo "| target | package | time | execs | new corpus entries | crashers |"
	echo "|---|---|---|---|---|---|"
} >>"$out"
# make passes the targets of make fuzz.
for t in ${FUZZ_TARGETS:?set by make reliability}; do
	pkg=${t%%:*} target=${t#*:}
	log="$work/$target.log"
	# No directory yet is no crasher yet.
	before=$({ find "$pkg/testdata/fuzz/$target" -type f 2>/dev/null || true; } | wc -l)
	status=0
	go test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 50x "$pkg" >"$log" 2>&1 || status=$?
	after=$({ find "$pkg/testdata/fuzz/$target" -type f 2>/dev/null || true; } | wc -l)
	execs=$(grep -oE 'execs: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
	interesting=$(grep -oE 'new interesting: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f3)
	crashers=$((after - before))
	[ "$status" = 0 ] || [ "$crashers" -gt 0 ] || crashers="failed (see the log)"
	echo "| \`$target\` | \`$pkg\` | $FUZZTIME | ${execs:-?} | ${interesting:-?} | $crashers |" >>"$out"
	echo "fuzz $t: execs ${execs:-?}, crashers $crashers" >&2
done
echo "wrote $out" >&2
