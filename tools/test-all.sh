#!/bin/bash
# test-all.sh - build and test everything, stage by stage, from the
# repository root (where it cd's to). ERIS_TEST_STAGES picks the stages
# (default "normal asan fuzz"):
#   normal  the default build in build/ and its test suite (all but "huge")
#   asan    the "asan" preset (Debug, ASan+UBSan) in build-asan/ and the
#           suite without the "huge" and "large" tests
#   fuzz    the "fuzz" preset (clang, libFuzzer) in build-fuzz/ and every
#           fuzz target for ERIS_FUZZ_SECONDS (default 60) seconds each
# Prints the wall time of each stage; stops at the first failing stage
# with its exit status.
set -u
cd "$(dirname "$0")/.." || exit 2

stages=${ERIS_TEST_STAGES:-normal asan fuzz}
seconds=${ERIS_FUZZ_SECONDS:-60}
jobs=$(nproc 2>/dev/null || echo 2)
summary=""

# Check's per-test timeouts are sized for a quiet machine; CI machines are
# shared and sanitizers are slow, and a timeout there says nothing about
# the code.
stage_normal() {
	export CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-3}
	cmake -B build &&
		cmake --build build -j"$jobs" &&
		ctest --test-dir build --output-on-failure -j2 -LE huge
}

stage_asan() {
	export CK_TIMEOUT_MULTIPLIER=10
	cmake --preset asan &&
		cmake --build build-asan -j"$jobs" &&
		ctest --test-dir build-asan --output-on-failure -j2 \
			-LE 'huge|large'
}

stage_fuzz() {
	cmake --preset fuzz &&
		cmake --build build-fuzz -j"$jobs" --target fuzzers &&
		tools/run-fuzzers.sh build-fuzz "$seconds"
}

for stage in $stages; do
	case $stage in
	normal | asan | fuzz) ;;
	*)
		echo "test-all: unknown stage '$stage'" >&2
		exit 2
		;;
	esac
	echo "=== test-all: stage $stage"
	start=$(date +%s)
	"stage_$stage"
	rc=$?
	took=$(($(date +%s) - start))
	summary="$summary$(printf '%-7s %5ds  %s' "$stage" "$took" \
		"$([ $rc = 0 ] && echo ok || echo "FAILED ($rc)")")
"
	echo "=== test-all: stage $stage took ${took}s"
	if [ $rc -ne 0 ]; then
		printf '%s' "$summary"
		exit $rc
	fi
done
printf '%s' "$summary"
