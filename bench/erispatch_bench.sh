#!/bin/bash
# erispatch against patchelf: time per ELF file to replace one DT_NEEDED
# name (libc.so.6) by a 115-character URN, on the same copies of the
# system's programs and libraries, one process per file for both tools
# (see docs/PERFORMANCE.md, "erispatch against patchelf"). Also counts
# how many outputs eu-elflint --gnu-ld accepts and how much the files
# grow. Builds nothing; never part of ctest.
#
# Usage: bench/erispatch_bench.sh [OPTION]... [BUILD_DIR]  (default ./build)
#   --files N   at most N ELF files (default 200)
#   --reps R    runs per tool, interleaved; the median is reported
#               (default 3)
#   --dir DIR   scratch parent directory (default $TMPDIR or /tmp)
# Needs patchelf, eu-elflint (elfutils), readelf.
set -euo pipefail

nfiles=200
reps=3
scratch_parent=${TMPDIR:-/tmp}
build=./build
while [ $# -gt 0 ]; do
    case $1 in
    --files) nfiles=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --dir) scratch_parent=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) build=$1; shift ;;
    esac
done
ERISPATCH=$build/bin/erispatch
[ -x "$ERISPATCH" ] || { echo "no $ERISPATCH (build first)" >&2; exit 1; }
PATCHELF=${PATCHELF:-patchelf}
command -v "$PATCHELF" >/dev/null || { echo "patchelf not found" >&2; exit 1; }

scratch=$(mktemp -d "$scratch_parent/erispatch-bench.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
URN=urn:eris:B4AYAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA

# The corpus: regular ELF executables and libraries that need libc.so.6.
mkdir "$scratch/src"
n=0
for f in /usr/bin/* /usr/lib/x86_64-linux-gnu/*.so*; do
    [ "$n" -lt "$nfiles" ] || break
    [ -f "$f" ] && [ ! -L "$f" ] || continue
    readelf -d "$f" 2>/dev/null | grep -q 'Shared library: \[libc.so.6\]' || continue
    "$ERISPATCH" print-needed "$f" >/dev/null 2>&1 || continue
    cp "$f" "$scratch/src/$n"
    n=$((n + 1))
done
bytes=$(du -cb "$scratch"/src/* | tail -1 | cut -f1)

# Both loops below print "WALL CPU" in seconds (bash's `time`: real, and
# user + system of the children). CPU time is the steadier figure on a
# shared machine.
TIMEFORMAT='%3R %3U %3S'
timed() {
    local t
    t=$( { time "$@" >/dev/null 2>&1; } 2>&1 )
    echo "$t" | awk '{ printf "%s %.3f\n", $1, $2 + $3 }'
}

# patch_all TOOL DIR: patch every file of DIR, one process per file.
patch_all() {
    local f
    for f in "$2"/*; do
        if [ "$1" = erispatch ]; then
            "$ERISPATCH" patch --replace libc.so.6 "$URN" "$f"
        else
            "$PATCHELF" --replace-needed libc.so.6 "$URN" "$f"
        fi
    done
}
# start_all TOOL: as many runs of `TOOL --version` (process start-up and
# dynamic loading), to separate start-up from patching.
start_all() {
    local i
    for i in $(seq "$n"); do
        if [ "$1" = erispatch ]; then "$ERISPATCH" --version; else "$PATCHELF" --version; fi
    done
}

median() { sort -n | awk '{a[NR]=$0} END {print a[int((NR + 1) / 2)]}'; }

for tool in erispatch patchelf; do
    : >"$scratch/patch.$tool"
    : >"$scratch/start.$tool"
done
for r in $(seq "$reps"); do
    for tool in erispatch patchelf; do
        rm -rf "$scratch/$tool"
        cp -r "$scratch/src" "$scratch/$tool"
        timed patch_all "$tool" "$scratch/$tool" >>"$scratch/patch.$tool"
        timed start_all "$tool" >>"$scratch/start.$tool"
    done
done
# Medians by wall time, with that run's CPU time.
read -r ew ec < <(median <"$scratch/patch.erispatch")
read -r pw pc < <(median <"$scratch/patch.patchelf")
read -r esw esc < <(median <"$scratch/start.erispatch")
read -r psw psc < <(median <"$scratch/start.patchelf")

lint() {
    local ok=0 f
    for f in "$1"/*; do
        eu-elflint --gnu-ld "$f" >/dev/null 2>&1 && ok=$((ok + 1))
    done
    echo "$ok"
}
src_ok=$(lint "$scratch/src")
e_ok=$(lint "$scratch/erispatch")
p_ok=$(lint "$scratch/patchelf")
e_bytes=$(du -cb "$scratch"/erispatch/* | tail -1 | cut -f1)
p_bytes=$(du -cb "$scratch"/patchelf/* | tail -1 | cut -f1)

per() { awk -v t="$1" -v n="$n" 'BEGIN { printf "%.1f ms", t * 1000 / n }'; }
diffper() { awk -v a="$1" -v b="$2" -v n="$n" 'BEGIN { printf "%.1f ms", (a - b) * 1000 / n }'; }
echo "$n ELF files from /usr/bin and /usr/lib/x86_64-linux-gnu ($(awk -v b="$bytes" 'BEGIN { printf "%.1f MiB", b / 1048576 }')), libc.so.6 -> a 115-character URN, median of $reps runs."
echo
echo "| per file | erispatch | patchelf $("$PATCHELF" --version | cut -d' ' -f2) |"
echo "|---|---|---|"
echo "| wall time, whole process | $(per "$ew") | $(per "$pw") |"
echo "| CPU time (user + sys), whole process | $(per "$ec") | $(per "$pc") |"
echo "| CPU time of start-up alone (\`--version\`) | $(per "$esc") | $(per "$psc") |"
echo "| CPU time of patching (difference) | $(diffper "$ec" "$esc") | $(diffper "$pc" "$psc") |"
echo "| eu-elflint --gnu-ld accepts (inputs: $src_ok of $n) | $e_ok of $n | $p_ok of $n |"
awk -v b="$bytes" -v e="$e_bytes" -v p="$p_bytes" 'BEGIN {
    printf "| size growth, all files | +%.1f KiB | +%.1f KiB |\n", (e - b) / 1024, (p - b) / 1024 }'
awk -v ew="$ew" -v pw="$pw" -v ec="$ec" -v pc="$pc" -v esc="$esc" -v psc="$psc" 'BEGIN {
    printf "\nRatios erispatch / patchelf: wall %.2f, CPU %.2f, CPU without start-up %.2f.\n",
        ew / pw, ec / pc, (ec - esc) / (pc - psc) }'
