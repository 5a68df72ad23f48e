#!/bin/bash
# eris put against eris sum: wall time and peak RSS of `eris sum` of one
# random file, `eris put` of it into the default store (sqlite, with
# ERIS_STORE unset and HOME and XDG_DATA_HOME in the scratch directory)
# and into a dir: store, each into a fresh store, interleaved; the median
# of the runs is reported, with put's speed as a fraction of sum's (see
# docs/PERFORMANCE.md, "eris put against eris sum"), and the CPU time
# (user + system) each took. For scale it also
# times the floors: `dd conv=fdatasync` of the file (the disk) and, if
# built, eris-sqlite-put-floor (sqlite alone storing the same bytes).
# Builds nothing; never part of ctest.
#
# Usage: bench/put_bench.sh [OPTION]... [BUILD_DIR]  (default ./build)
#   --size MIB  file size in MiB (default 256)
#   --reps R    runs of each command, interleaved (default 3)
#   --dir DIR   scratch parent directory, on the file system to measure
#               (default $TMPDIR or /tmp)
# Needs GNU time (/usr/bin/time, Debian package `time`).
set -euo pipefail

size_mib=256
reps=3
scratch_parent=${TMPDIR:-/tmp}
build=./build
while [ $# -gt 0 ]; do
    case $1 in
    --size) size_mib=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --dir) scratch_parent=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) build=$1; shift ;;
    esac
done
ERIS=$build/bin/eris
FLOOR=$build/bin/eris-sqlite-put-floor
[ -x "$ERIS" ] || { echo "no $ERIS (build first)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "no /usr/bin/time (install GNU time)" >&2; exit 1; }

scratch=$(mktemp -d "$scratch_parent/put-bench.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
file=$scratch/content
head -c $((size_mib << 20)) /dev/urandom >"$file"

# run NAME CMD...: run CMD once in a clean scratch state, append
# "seconds max_rss_kib cpu_seconds" to $scratch/NAME.
run() {
    local name=$1
    shift
    rm -rf "$scratch/home" "$scratch/dirstore" "$scratch/floor.sqlite"* \
        "$scratch/dd.out"
    mkdir "$scratch/home"
    /usr/bin/time -o "$scratch/t" -f '%e %M %U %S' "$@" >/dev/null
    awk '{ print $1, $2, $3 + $4 }' "$scratch/t" >>"$scratch/$name"
}

names="sum put-sqlite put-dir disk"
[ -x "$FLOOR" ] && names="$names sqlite-alone"
for ((r = 0; r < reps; r++)); do
    run sum "$ERIS" sum "$file"
    run put-sqlite env -u ERIS_STORE HOME="$scratch/home" \
        XDG_DATA_HOME="$scratch/home/data" "$ERIS" put "$file"
    run put-dir env -u ERIS_STORE "$ERIS" put --store "dir:$scratch/dirstore" \
        "$file"
    run disk dd if="$file" of="$scratch/dd.out" bs=1M conv=fdatasync \
        status=none
    if [ -x "$FLOOR" ]; then
        run sqlite-alone "$FLOOR" "$file" "$scratch/floor.sqlite"
    fi
done

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

fs=$(df -PT "$scratch" | awk 'NR == 2 { print $2 " on " $1 }')
echo "eris put against eris sum: ${size_mib} MiB of random data, median of $reps,"
echo "scratch on $fs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| command | seconds | MiB/s | speed / sum | peak RSS MiB | CPU seconds |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
sum_s=$(cut -d' ' -f1 "$scratch/sum" | median)
for name in $names; do
    s=$(cut -d' ' -f1 "$scratch/$name" | median)
    rss=$(cut -d' ' -f2 "$scratch/$name" | median)
    cpu=$(cut -d' ' -f3 "$scratch/$name" | median)
    awk -v n="$name" -v s="$s" -v sum="$sum_s" -v rss="$rss" \
        -v cpu="$cpu" -v mib="$size_mib" 'BEGIN {
            printf "| %s | %.2f | %.0f | %.2f | %.1f | %.2f |\n", n, s,
                (s > 0 ? mib / s : 0), (s > 0 ? sum / s : 0), rss / 1024,
                cpu
        }'
done
