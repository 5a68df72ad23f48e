#!/usr/bin/env bash
# fuse_bench.sh - eris-fuse throughput against reading the same store
# without FUSE (see docs/PERFORMANCE.md, "eris-fuse").
#
# Usage: bench/fuse_bench.sh [BUILD_DIR] [SIZE_MIB] [READS]
#   BUILD_DIR  the CMake build directory (default: build)
#   SIZE_MIB   content size (default: 256), random bytes, 32 KiB blocks
#   READS      random 4 KiB reads per measurement (default: 4000)
#
# Method, in one run against one sqlite store:
#  - sequential: `cat` of the whole file through a fresh mount (empty page
#    cache) vs `eris get` to /dev/null; best of 3 each, MiB/s and ratio.
#  - random 4 KiB: READS preads at the same random 4 KiB-aligned offsets,
#    through a fresh mount (readahead off: POSIX_FADV_RANDOM) vs one
#    in-process decoder (eris_decoder_pread); best of 3, reads/s and ratio.
# Needs root or fusermount3 and /dev/fuse, and a C compiler (the random
# reader is built from the here-document below against the build's liberis).
set -euo pipefail
BUILD=${1:-build}
SIZE_MIB=${2:-256}
READS=${3:-4000}
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
ERIS=$BUILD/bin/eris EFUSE=$BUILD/bin/eris-fuse
for b in "$ERIS" "$EFUSE"; do
	[ -x "$b" ] || { echo "fuse_bench: $b is not built" >&2; exit 1; }
done
[ -c /dev/fuse ] || { echo "fuse_bench: no /dev/fuse" >&2; exit 1; }

tmp=$(mktemp -d /tmp/eris-fuse-bench-XXXXXX)
mnt=$tmp/mnt fuse_pid=''
cleanup() {
	if grep -q " $mnt fuse" /proc/mounts; then fusermount3 -u -z "$mnt" || true; fi
	[ -z "$fuse_pid" ] || kill "$fuse_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$mnt"
export HOME=$tmp XDG_DATA_HOME=$tmp/data
unset ERIS_STORE
store=sqlite:$tmp/store.sqlite

# The random reader: "file PATH" reads through the mount, "store SPEC URN"
# decodes in process; both print reads per second.
cat >"$tmp/randread.c" <<'CEOF'
#define _POSIX_C_SOURCE 200809L
#include <eris/eris.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t size = strtoull(argv[1], NULL, 10);
	long reads = atol(argv[2]);
	unsigned long long x = 88172645463325252ull; /* xorshift64 */
	static char buf[4096];
	eris_decoder *dec = NULL;
	eris_store *store = NULL;
	int fd = -1;
	double t0;

	if (strcmp(argv[3], "file") == 0) {
		fd = open(argv[4], O_RDONLY);
		if (fd < 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM) != 0)
			return perror(argv[4]), 1;
	} else {
		eris_read_cap cap;
		if (eris_store_open(&store, argv[4], 0) ||
		    eris_urn_parse(&cap, argv[5], strlen(argv[5])) ||
		    eris_decoder_new(&dec, store, &cap))
			return fprintf(stderr, "%s\n", eris_error_last()), 1;
	}
	t0 = now();
	for (long i = 0; i < reads; i++) {
		uint64_t off;
		size_t got = 0;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		off = (x % (size / 4096)) * 4096;
		if (fd >= 0 ? pread(fd, buf, 4096, (off_t)off) != 4096
			    : (eris_decoder_pread(dec, buf, 4096, off, &got) ||
			       got != 4096))
			return fprintf(stderr, "read at %llu failed\n",
				       (unsigned long long)off), 1;
	}
	printf("%.0f\n", reads / (now() - t0));
	eris_decoder_free(dec);
	eris_store_free(store);
	return 0;
}
CEOF
cc -O2 -I"$SRC/include" -o "$tmp/randread" "$tmp/randread.c" \
	-L"$BUILD/lib" -Wl,-rpath,"$BUILD/lib" -leris

head -c $((SIZE_MIB << 20)) /dev/urandom >"$tmp/content"
urn=$("$ERIS" put -q --block-size 32k --store "$store" "$tmp/content")
size=$(stat -c %s "$tmp/content")
rm -f "$tmp/content"

mount_fs() {
	"$EFUSE" --store "$store" "$mnt" -f 2>"$tmp/log" &
	fuse_pid=$!
	for _ in $(seq 600); do
		grep -q " $mnt fuse" /proc/mounts && return 0
		sleep 0.1
	done
	echo "fuse_bench: mount failed: $(cat "$tmp/log")" >&2
	exit 1
}
unmount_fs() {
	fusermount3 -u "$mnt"
	wait "$fuse_pid"
	fuse_pid=''
}
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
best() { sort -g | head -n 1; }
bestmax() { sort -g | tail -n 1; }

seq_fuse=() seq_get=() rnd_fuse=() rnd_dec=()
for _ in 1 2 3; do
	mount_fs
	seq_fuse+=("$(secs cat "$mnt/$urn")")
	unmount_fs
	seq_get+=("$(secs "$ERIS" get -q --store "$store" "$urn")")
	mount_fs
	rnd_fuse+=("$("$tmp/randread" "$size" "$READS" file "$mnt/$urn")")
	unmount_fs
	rnd_dec+=("$("$tmp/randread" "$size" "$READS" store "$store" "$urn")")
done
t_fuse=$(printf '%s\n' "${seq_fuse[@]}" | best)
t_get=$(printf '%s\n' "${seq_get[@]}" | best)
r_fuse=$(printf '%s\n' "${rnd_fuse[@]}" | bestmax)
r_dec=$(printf '%s\n' "${rnd_dec[@]}" | bestmax)

echo "content: $SIZE_MIB MiB, 32 KiB blocks, store sqlite; best of 3"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'sequential  eris-fuse (cat)  %8.1f MiB/s\n' "$(echo "$SIZE_MIB / $t_fuse" | bc -l)"
printf 'sequential  eris get         %8.1f MiB/s\n' "$(echo "$SIZE_MIB / $t_get" | bc -l)"
printf 'sequential  ratio fuse/get   %8.2f\n' "$(echo "$t_get / $t_fuse" | bc -l)"
printf 'random 4K   eris-fuse        %8d reads/s\n' "$r_fuse"
printf 'random 4K   in-process       %8d reads/s\n' "$r_dec"
printf 'random 4K   ratio fuse/dec   %8.2f\n' "$(echo "$r_fuse / $r_dec" | bc -l)"
