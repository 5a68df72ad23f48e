#!/bin/bash
# run-fuzzers.sh BUILD_DIR SECONDS - run every libFuzzer target in
# BUILD_DIR/bin (fuzz_*, built with `cmake --preset fuzz` and
# `cmake --build build-fuzz --target fuzzers`) for SECONDS each, two at a
# time. Each starts from a temporary copy of its seed corpus in
# fuzz/corpora/NAME (the repository's corpus never grows); crash, leak,
# timeout and out-of-memory reproducers go to BUILD_DIR/fuzz-artifacts,
# with each target's log. Exits 1 if any target found something, and
# prints the reproducer: replay it with `BUILD_DIR/bin/fuzz_NAME FILE`.
set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 BUILD_DIR SECONDS" >&2
	exit 2
fi
build=$(cd "$1" && pwd) || exit 2
seconds=$2
src=$(cd "$(dirname "$0")/.." && pwd)
artifacts=$build/fuzz-artifacts
jobs=${ERIS_FUZZ_JOBS:-2}

targets=$(ls "$build"/bin/fuzz_* 2>/dev/null)
if [ -z "$targets" ]; then
	echo "$0: no fuzz_* binaries in $build/bin" >&2
	exit 2
fi
mkdir -p "$artifacts" || exit 2
work=$(mktemp -d "${TMPDIR:-/tmp}/eris-fuzz-XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT INT TERM

# run_one BINARY: fuzz it; its status goes to $work/NAME.status.
run_one() {
	bin=$1
	name=${bin##*/fuzz_}
	corpus=$work/$name
	log=$artifacts/$name.log
	mkdir -p "$corpus"
	rm -f "$artifacts/$name"-*
	if [ -d "$src/fuzz/corpora/$name" ]; then
		cp -R "$src/fuzz/corpora/$name/." "$corpus/"
	fi
	# A libFuzzer binary accepts -help=1; the replay driver does not.
	if ! "$bin" -help=1 >/dev/null 2>&1; then
		echo "$name: not a libFuzzer binary (use the fuzz preset)" >"$log"
		echo 2 >"$work/$name.status"
		return
	fi
	"$bin" "$corpus" -max_total_time="$seconds" -timeout=60 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$artifacts/$name-" >"$log" 2>&1
	echo $? >"$work/$name.status"
}

running=0
for bin in $targets; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	run_one "$bin" &
	running=$((running + 1))
done
wait

failed=0
for bin in $targets; do
	name=${bin##*/fuzz_}
	status=$(cat "$work/$name.status" 2>/dev/null || echo 2)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		"$artifacts/$name.log" | tail -n 1)
	if [ "$status" = 0 ]; then
		echo "fuzz_$name: ok, ${runs:-?} runs in ${seconds}s"
		continue
	fi
	failed=1
	echo "fuzz_$name: FAILED (exit $status), log $artifacts/$name.log"
	for f in "$artifacts/$name"-crash-* "$artifacts/$name"-leak-* \
		 "$artifacts/$name"-timeout-* "$artifacts/$name"-oom-*; do
		[ -e "$f" ] && echo "  reproducer: $f (run: $bin $f)"
	done
done
exit $failed
