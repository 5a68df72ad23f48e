#!/bin/bash
# erisd against nginx: GET /uri-res/N2R?urn:blake2b:REF throughput and p99
# latency, measured with wrk (see docs/PERFORMANCE.md, "erisd against
# nginx"). Builds nothing; never part of ctest.
#
# Usage: bench/erisd_vs_nginx.sh [OPTION]... [BUILD_DIR]   (default ./build)
#   --duration S    seconds per wrk run (default 5)
#   --reps R        runs per server and block size, interleaved (default 3);
#                   the table shows the median run (by requests/s) and
#                   the median server CPU time per request (user +
#                   system, all threads and worker processes): on a
#                   shared machine a steadier figure than requests/s
#   --connections C wrk connections (default 64)
#   --threads T     wrk threads (default 2)
#   --mib1k M       MiB of content encoded with 1 KiB blocks (default 64)
#   --mib32k M      MiB of content encoded with 32 KiB blocks (default 64)
#   --dir DIR       scratch parent directory (default $TMPDIR or /tmp)
#   --warmup S      seconds of wrk per server and size before the measured
#                   runs (default 3): fills erisd's cache and nginx's page
#                   cache alike
#   --cache SIZE    erisd --cache-size for the cached servers, in MiB
#                   (default 16: the miss-heavy set is 4 times that)
#   --sets LIST     working sets to run, comma-separated (default
#                   hit,miss): "hit" requests blocks that fit the cache
#                   (half of it), "miss" every block of the store (at the
#                   defaults 4 times the cache, so most requests miss:
#                   read from the store and hashed before they are sent)
#   --baseline BIN  also measure another erisd binary (say, an older
#                   build) as base-sqlite, base-dir and base-dir-io2, in the
#                   same interleaved runs: a before/after comparison
#   --servers LIST  measure only these servers (comma-separated names
#                   from the list below; all are still started and
#                   checked)
#
# Servers (all on 127.0.0.1, all traffic loopback):
#   erisd-sqlite, erisd-dir: erisd --store sqlite:… / dir:… with the cache
#     of verified blocks (defaults: one io_uring loop per online CPU, each
#     with 2 store workers)
#   erisd-sqlite-nocache, erisd-dir-nocache: the same with --cache-size 0
#     (every block read from the store and re-hashed)
#   erisd-sqlite-io1: erisd-sqlite with --io-threads 1 (one io_uring loop;
#     the default is one per online CPU)
#   erisd-dir-io1: erisd-dir with --io-threads 1
#   nginx serving the same dir: store, worker_processes 1 and 2
# Needs wrk, nginx (NGINX=/path, default /usr/sbin/nginx), curl, cmp.
set -euo pipefail

duration=5
reps=3
conns=64
threads=2
mib1k=64
mib32k=64
scratch_parent=${TMPDIR:-/tmp}
warmup=3
cache=16
sets=hit,miss
baseline=
only=
build=./build
NGINX=${NGINX:-/usr/sbin/nginx}
here=$(cd "$(dirname "$0")" && pwd)
lua=$here/wrk_blocks.lua

die() { echo "erisd_vs_nginx: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--duration) duration=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	--connections) conns=$2; shift 2 ;;
	--threads) threads=$2; shift 2 ;;
	--mib1k) mib1k=$2; shift 2 ;;
	--mib32k) mib32k=$2; shift 2 ;;
	--dir) scratch_parent=$2; shift 2 ;;
	--warmup) warmup=$2; shift 2 ;;
	--cache) cache=$2; shift 2 ;;
	--sets) sets=$2; shift 2 ;;
	--baseline) baseline=$2; shift 2 ;;
	--servers) only=$2; shift 2 ;;
	-h|--help) sed -n '2,46s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) die "unknown option $1" ;;
	*) build=$1; shift ;;
	esac
done

eris=$build/bin/eris
erisd=$build/bin/erisd
[ -x "$eris" ] || die "no $eris (build first)"
[ -x "$erisd" ] || die "no $erisd (build first)"
[ -x "$NGINX" ] || die "no nginx at $NGINX"
[ -z "$baseline" ] || [ -x "$baseline" ] || die "no $baseline"
for t in wrk curl cmp head awk sort; do
	command -v "$t" >/dev/null || die "needs $t"
done

tmp=$(mktemp -d "$scratch_parent/erisd-vs-nginx.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
chmod 755 "$tmp" # nginx workers run as nobody when started by root
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- stores
echo "filling dir: and sqlite: stores ($mib1k MiB at 1 KiB, $mib32k MiB at 32 KiB)" >&2
head -c "$((mib1k << 20))" /dev/urandom >"$tmp/content1k"
head -c "$((mib32k << 20))" /dev/urandom >"$tmp/content32k"
for s in "dir:$tmp/dir" "sqlite:$tmp/blocks.sqlite"; do
	"$eris" put -q --store "$s" --block-size 1k "$tmp/content1k" >/dev/null
	"$eris" put -q --store "$s" --block-size 32k "$tmp/content32k" >/dev/null
done
rm -f "$tmp/content1k" "$tmp/content32k"
# Block references from the dir store's file names, by block size.
for size in 1k 32k; do
	bytes=$(( ${size%k} * 1024 ))
	find "$tmp/dir" -type f -size "${bytes}c" -printf '/uri-res/N2R?urn:blake2b:%f\n' \
		| sort >"$tmp/paths$size"
	n=$(wc -l <"$tmp/paths$size")
	[ "$n" -gt 0 ] || die "no $size blocks in the dir store"
	# hit: blocks filling half the cache; miss: every block.
	fit=$(( (cache << 20) / 2 / bytes ))
	shuf -n "$fit" "$tmp/paths$size" >"$tmp/paths$size-hit" 2>/dev/null ||
		head -n "$fit" "$tmp/paths$size" >"$tmp/paths$size-hit"
	cp "$tmp/paths$size" "$tmp/paths$size-miss"
	echo "  $size: $n blocks ($((n * bytes >> 20)) MiB; cache ${cache} MiB;" \
		"hit set $(wc -l <"$tmp/paths$size-hit") blocks)" >&2
	[ $((n * bytes)) -ge $((4 * (cache << 20))) ] ||
		echo "  warning: the $size miss set is less than 4x the cache" >&2
done
IFS=, read -r -a setlist <<<"$sets"

# ---------------------------------------------------------------- servers
# start_erisd NAME STORE [OPTION...]: starts erisd on a free port, sets
# url[NAME].
declare -A url spid
start_erisd() {
	local name=$1 store=$2 log=$tmp/erisd-$1.log port='' bin=$erisd
	shift 2
	case $name in base-*) bin=$baseline ;; esac
	"$bin" --listen 127.0.0.1:0 --store "$store" "$@" 2>"$log" &
	pids+=($!)
	spid[$name]=$!
	for _ in $(seq 100); do
		port=$(sed -n 's/.*erisd: listening on .*:\([0-9][0-9]*\).*/\1/p' "$log" | head -n1)
		[ -n "$port" ] && break
		sleep 0.05
	done
	[ -n "$port" ] || { cat "$log" >&2; die "erisd ($name) did not start"; }
	url[$name]=http://127.0.0.1:$port
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
		|| echo $(( 20000 + RANDOM % 20000 ))
}

# start_nginx NAME WORKERS: nginx serving the dir store (DIR/XX/REF).
start_nginx() {
	local name=$1 workers=$2 d=$tmp/nginx-$1 port
	mkdir -p "$d/tmp"
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		cat >"$d/nginx.conf" <<EOF
daemon off;
worker_processes $workers;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fastcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
  types { }
  default_type application/octet-stream;
  map \$args \$eris_block {
    "~^urn:blake2b:(?<xx>[A-Z2-7]{2})(?<rest>[A-Z2-7]{50})\$" /\$xx/\$xx\$rest;
    default "";
  }
  server {
    listen 127.0.0.1:$port;
    root $tmp/dir;
    location = /uri-res/N2R {
      if (\$request_method !~ ^(GET|HEAD)\$) { return 405; }
      try_files \$eris_block =404;
    }
  }
}
EOF
		"$NGINX" -p "$d" -c "$d/nginx.conf" 2>>"$d/stderr" &
		local pid=$!
		for _ in $(seq 50); do
			if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
				pids+=("$pid")
				spid[$name]=$pid
				url[$name]=http://127.0.0.1:$port
				return 0
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	cat "$d/stderr" "$d/error.log" >&2 2>/dev/null || true
	die "nginx ($name) did not start"
}

servers=(erisd-sqlite erisd-dir erisd-sqlite-nocache erisd-dir-nocache
	erisd-sqlite-io1 erisd-dir-io1 nginx-w1 nginx-w2)
cache=${cache}M
start_erisd erisd-sqlite "sqlite:$tmp/blocks.sqlite" --cache-size "$cache"
start_erisd erisd-dir "dir:$tmp/dir" --cache-size "$cache"
start_erisd erisd-sqlite-nocache "sqlite:$tmp/blocks.sqlite" --cache-size 0
start_erisd erisd-dir-nocache "dir:$tmp/dir" --cache-size 0
start_erisd erisd-sqlite-io1 "sqlite:$tmp/blocks.sqlite" --cache-size "$cache" \
	--io-threads 1
start_erisd erisd-dir-io1 "dir:$tmp/dir" --cache-size "$cache" --io-threads 1
if [ -n "$baseline" ]; then
	servers+=(base-sqlite base-dir base-dir-io2)
	start_erisd base-dir "dir:$tmp/dir" --cache-size "$cache"
	start_erisd base-sqlite "sqlite:$tmp/blocks.sqlite" --cache-size "$cache"
	start_erisd base-dir-io2 "dir:$tmp/dir" --cache-size "$cache" \
		--io-threads 2
fi
start_nginx nginx-w1 1
start_nginx nginx-w2 2

# ---------------------------------------------------------------- checks
# Identical bytes from every server, status 200, for a few blocks of each
# size (and the block is what the dir store holds).
for size in 1k 32k; do
	while read -r path; do
		ref=${path##*:}
		want=$tmp/dir/${ref:0:2}/$ref
		for s in "${servers[@]}"; do
			code=$(curl -s -o "$tmp/got" -w '%{http_code}' "${url[$s]}$path")
			[ "$code" = 200 ] || die "$s: HTTP $code for $path"
			cmp -s "$tmp/got" "$want" || die "$s: wrong bytes for $path"
		done
	done < <(awk 'NR % 97 == 1' "$tmp/paths$size" | head -n 8)
done
echo "checked: all servers return 200 and identical bytes" >&2
if [ -n "$only" ]; then
	IFS=, read -r -a servers <<<"$only"
	for s in "${servers[@]}"; do
		[ -n "${url[$s]:-}" ] || die "no server $s"
	done
fi

# ---------------------------------------------------------------- runs
# run_wrk SERVER SIZE REP SET: one wrk run; records "rps p99_ms" in a
# file.
to_ms() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); print v + 0 }
		else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000 }
		else print v }'
}
# cpu_ticks SERVER: user + system clock ticks of the server so far (the
# process and its children: nginx's workers).
cpu_ticks() {
	local p t=0 v
	for p in "${spid[$1]}" $(pgrep -P "${spid[$1]}" || true); do
		v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)
		t=$((t + v))
	done
	echo "$t"
}
hz=$(getconf CLK_TCK)
run_wrk() {
	local s=$1 size=$2 rep=$3 set=$4 out=$tmp/wrk-$1-$2-$3-$4.txt
	local rps p99 bad t0 t1 n cpu
	t0=$(cpu_ticks "$s")
	wrk -t"$threads" -c"$conns" -d"${duration}s" --latency -s "$lua" \
		"${url[$s]}" -- "$tmp/paths$size-$set" >"$out" 2>&1 || true
	t1=$(cpu_ticks "$s")
	rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
	n=$(awk '/ requests in / { print $1 }' "$out")
	p99=$(awk '$1 == "99%" { print $2 }' "$out")
	bad=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' "$out")
	if [ -z "$rps" ] || [ -z "$p99" ]; then
		cat "$out" >&2
		die "wrk failed against $s"
	fi
	[ -z "$bad" ] || { cat "$out" >&2; die "$s: $bad non-2xx responses"; }
	if grep -q 'Socket errors' "$out"; then
		echo "  warning: $s $size: $(grep 'Socket errors' "$out")" >&2
	fi
	cpu=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v n="${n:-0}" \
		'BEGIN { print (n > 0 ? d * 1e6 / hz / n : 0) }')
	printf '%s %s\n' "$rps" "$(to_ms "$p99")" >>"$tmp/res-$s-$size-$set"
	echo "$cpu" >>"$tmp/cpu-$s-$size-$set"
	printf '  %-4s %-20s %-4s run %d: %10.0f req/s  p99 %-8s CPU %.1f us/req\n' \
		"$set" "$s" "$size" "$rep" "$rps" "$p99" "$cpu" >&2
}

# Per working set: a warm-up (fills erisd's cache with the hit set, and
# the page cache for everyone), then the interleaved runs.
echo "wrk -t$threads -c$conns -d${duration}s, $reps interleaved runs per server, size and set" >&2
echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for set in "${setlist[@]}"; do
	if [ "$warmup" -gt 0 ]; then
		echo "$set set: warm-up, ${warmup}s of wrk per server and size" >&2
		for size in 1k 32k; do
			for s in "${servers[@]}"; do
				wrk -t"$threads" -c"$conns" -d"${warmup}s" -s "$lua" \
					"${url[$s]}" -- "$tmp/paths$size-$set" >/dev/null 2>&1 || true
			done
		done
	fi
	for size in 1k 32k; do
		for rep in $(seq "$reps"); do
			for s in "${servers[@]}"; do
				run_wrk "$s" "$size" "$rep" "$set"
			done
		done
	done
done

# median run by requests/s: "rps p99"
median() { sort -n "$1" | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'; }

declare -A rps p99 cpu
erisds=(erisd-sqlite erisd-dir erisd-sqlite-nocache erisd-dir-nocache
	erisd-sqlite-io1 erisd-dir-io1)
[ -z "$baseline" ] || erisds+=(base-sqlite base-dir base-dir-io2)
for set in "${setlist[@]}"; do
	echo
	echo "$set set (erisd cache $cache):"
	echo
	echo "| server | 1 KiB req/s | 1 KiB p99 ms | 1 KiB CPU us/req | 32 KiB req/s | 32 KiB p99 ms | 32 KiB CPU us/req |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
	for s in "${servers[@]}"; do
		line="| $s"
		for size in 1k 32k; do
			read -r r p < <(median "$tmp/res-$s-$size-$set")
			rps[$s-$size]=$r
			p99[$s-$size]=$p
			cpu[$s-$size]=$(median "$tmp/cpu-$s-$size-$set")
			line+=$(printf ' | %.0f | %.2f | %.1f' "$r" "$p" "${cpu[$s-$size]}")
		done
		echo "$line |"
	done
	echo
	echo "| $set: ratio (req/s) | 1 KiB | 32 KiB |"
	echo "| --- | ---: | ---: |"
	for e in "${erisds[@]}"; do
		[ -n "${rps[$e-1k]:-}" ] || continue
		for n in nginx-w1 nginx-w2; do
			[ -n "${rps[$n-1k]:-}" ] || continue
			printf '| %s / %s | %.2f | %.2f |\n' "$e" "$n" \
				"$(awk -v a="${rps[$e-1k]}" -v b="${rps[$n-1k]}" 'BEGIN { print a / b }')" \
				"$(awk -v a="${rps[$e-32k]}" -v b="${rps[$n-32k]}" 'BEGIN { print a / b }')"
		done
	done
	if [ -n "$baseline" ]; then
		echo
		echo "| $set: this build / baseline | 1 KiB req/s | 32 KiB req/s | 1 KiB CPU/req | 32 KiB CPU/req |"
		echo "| --- | ---: | ---: | ---: | ---: |"
		for p in "erisd-sqlite base-sqlite" "erisd-dir base-dir" \
			"erisd-dir-io1 base-dir" "erisd-dir base-dir-io2"; do
			set -- $p
			[ -n "${rps[$1-1k]:-}" ] && [ -n "${rps[$2-1k]:-}" ] || continue
			printf '| %s / %s | %.2f | %.2f | %.2f | %.2f |\n' "$1" "$2" \
				"$(awk -v a="${rps[$1-1k]}" -v b="${rps[$2-1k]}" 'BEGIN { print a / b }')" \
				"$(awk -v a="${rps[$1-32k]}" -v b="${rps[$2-32k]}" 'BEGIN { print a / b }')" \
				"$(awk -v a="${cpu[$1-1k]}" -v b="${cpu[$2-1k]}" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
				"$(awk -v a="${cpu[$1-32k]}" -v b="${cpu[$2-32k]}" 'BEGIN { print (b > 0 ? a / b : 0) }')"
		done
	fi
	unset rps p99 cpu
	declare -A rps p99 cpu
done
echo
echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
