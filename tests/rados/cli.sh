#!/usr/bin/env bash
# The eris command and erisd on the test cluster (CEPH_CONF, from
# with-cluster.sh), in a RADOS namespace of this run's own:
#   - put, get (byte for byte), verify, store stats, store fsck;
#   - an object overwritten with other bytes (rados put) -> eris get exit
#     1 naming rule R3; an object removed -> exit 1 naming R1; fsck counts
#     the bad block;
#   - export to a bundle and import into a second namespace; store gc
#     keeping one of two contents there removes exactly the other's
#     blocks; cache:sqlite:...,rados:... reads through and fills the
#     local cache;
#   - erisd --store rados:... serving the content over HTTP to eris get,
#     several clients at once, and over CoAP (--coap; 32 KiB blocks,
#     block-wise) to eris get --store coap://... (left out, with a
#     message, from an erisd built without CoAP);
#   - a wrk load on erisd (WRKLUA: random GETs of the content's blocks,
#     /uri-res/N2R?urn:blake2b:REF): requests made, every answer 2xx, no
#     socket errors; eris get through erisd still gives the right bytes
#     afterwards (left out, with a message, where wrk is not installed);
#   - a second erisd --writable on the same namespace: content put through
#     it is served by the first;
#   - eris-fuse --store rados:... (when EFUSE is given and FUSE can mount
#     here; otherwise that part alone is left out, with a message): the
#     file under the mount is byte for byte the content;
#   - a missing pool and an unknown option -> exit 3 with the reason.
# Usage: cli.sh ERIS ERISD WRKLUA [EFUSE]
set -euo pipefail
ERIS=$1
ERISD=$2
WRKLUA=$3
EFUSE=${4:-}
: "${CEPH_CONF:?run through with-cluster.sh}"
tmp=$(mktemp -d /tmp/eris-rados-cli-XXXXXX)
ns=cli-$$-$RANDOM
store="rados:eris?conf=$CEPH_CONF&namespace=$ns"
pid=''
pid2=''
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	[ -n "$pid2" ] && kill -9 "$pid2" 2>/dev/null
	fusermount3 -u -z "$tmp/mnt" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
export HOME=$tmp/home XDG_DATA_HOME=$tmp/data
unset ERIS_STORE
fail() { echo "FAIL: $*" >&2; exit 1; }

head -c 3000000 /dev/urandom >"$tmp/big"  # 32 KiB blocks, two levels
head -c 5000 /dev/urandom >"$tmp/small"   # 1 KiB blocks
big=$("$ERIS" put -q --store "$store" "$tmp/big") || fail "put big"
small=$("$ERIS" put -q --store "$store" "$tmp/small") || fail "put small"
# A second put stores nothing new and gives the same URN.
[ "$("$ERIS" put -q --store "$store" "$tmp/big")" = "$big" ] ||
	fail "second put, other URN"
"$ERIS" get --store "$store" "$big" | cmp - "$tmp/big" || fail "get big"
"$ERIS" get --store "$store" "$small" | cmp - "$tmp/small" ||
	fail "get small"
"$ERIS" verify --store "$store" "$big" "$small" >"$tmp/verify" ||
	fail "verify"
grep -q ': OK' "$tmp/verify" || fail "verify said $(cat "$tmp/verify")"
"$ERIS" store stats --store "$store" >"$tmp/stats" || fail "stats"
n=$(sed -n 's/^blocks: //p' "$tmp/stats")
[ "$n" -gt 90 ] || fail "stats: $n blocks"
"$ERIS" store fsck --store "$store" >"$tmp/fsck" || fail "fsck"
grep -q ' 0 bad' "$tmp/fsck" || fail "fsck said $(cat "$tmp/fsck")"
# The blocks are objects named by reference, in this namespace only.
objs=$(rados -c "$CEPH_CONF" -p eris -N "$ns" ls | wc -l)
[ "$objs" = "$n" ] || fail "$objs objects for $n blocks"

# export / import between namespaces, gc in the second one.
store2="rados:eris?conf=$CEPH_CONF&namespace=$ns-2"
"$ERIS" export --store "$store" "$big" "$small" >"$tmp/bundle" ||
	fail "export"
"$ERIS" import --store "$store2" "$tmp/bundle" >"$tmp/imported" ||
	fail "import"
grep -qx "$big" "$tmp/imported" || fail "import: $(cat "$tmp/imported")"
"$ERIS" get --store "$store2" "$small" | cmp - "$tmp/small" ||
	fail "get after import"
"$ERIS" store gc --store "$store2" --keep "$small" >"$tmp/gc" 2>&1 ||
	fail "gc: $(cat "$tmp/gc")"
left=$(rados -c "$CEPH_CONF" -p eris -N "$ns-2" ls | wc -l)
smallblocks=$("$ERIS" store stats --store "$store2" |
	sed -n 's/^blocks: //p')
if [ "$left" != "$smallblocks" ] || [ "$left" -ge 10 ]; then
	fail "gc left $left objects: $(cat "$tmp/gc")"
fi
"$ERIS" get --store "$store2" "$small" | cmp - "$tmp/small" ||
	fail "get after gc"
rados -c "$CEPH_CONF" -p eris -N "$ns-2" ls |
	while read -r o; do rados -c "$CEPH_CONF" -p eris -N "$ns-2" rm "$o"; done

# A local sqlite cache in front of the cluster (made by a first put).
"$ERIS" put -q --store "sqlite:$tmp/local.sqlite" "$tmp/small" >/dev/null ||
	fail "put into the local store"
cache="cache:sqlite:$tmp/local.sqlite,$store"
"$ERIS" get --store "$cache" "$big" | cmp - "$tmp/big" || fail "get via cache"
"$ERIS" get --store "sqlite:$tmp/local.sqlite" "$big" | cmp - "$tmp/big" ||
	fail "the local cache was not filled"

# erisd in front of the cluster, read by several clients at once.
# start_erisd LOG ARG...: erisd on the store with ARG, its messages in
# LOG; sets pid and url.
start_erisd() {
	local log=$1
	shift
	"$ERISD" --listen 127.0.0.1:0 --store "$store" --cache-size 0 "$@" \
		2>"$log" &
	pid=$!
	for _ in $(seq 300); do
		grep -q '^erisd: listening on' "$log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	url=http://$(sed -n 's/^erisd: listening on //p' "$log")
}
start_erisd "$tmp/erisd.log" --coap 127.0.0.1:0
coap=''
if [ "$url" = http:// ] && grep -q 'built without CoAP' "$tmp/erisd.log"; then
	echo "note: $(cat "$tmp/erisd.log"); the CoAP part is left out" >&2
	wait "$pid" || true
	start_erisd "$tmp/erisd.log"
elif [ "$url" != http:// ]; then
	coap=coap://127.0.0.1:$(sed -n \
		's/^erisd: coap listening on .*:\([0-9]*\)$/\1/p' "$tmp/erisd.log")
	[ "$coap" != coap://127.0.0.1: ] ||
		fail "no CoAP port in $(cat "$tmp/erisd.log")"
fi
if [ "$url" = http:// ]; then
	cat "$tmp/erisd.log" >&2
	if grep -q io_uring "$tmp/erisd.log"; then
		echo "SKIP: io_uring is not available here" >&2
		exit 77
	fi
	fail "erisd did not start"
fi
gets=''
for i in 1 2 3 4; do
	"$ERIS" get --store "$url" "$big" >"$tmp/out$i" &
	gets="$gets $!"
done
for g in $gets; do
	wait "$g" || fail "get through erisd"
done
for i in 1 2 3 4; do
	cmp "$tmp/out$i" "$tmp/big" || fail "get $i through erisd"
done
if [ -n "$coap" ]; then
	"$ERIS" get --store "$coap" "$big" 2>"$tmp/err" | cmp - "$tmp/big" ||
		fail "get over CoAP from $coap: $(cat "$tmp/err")"
	echo "CoAP: read $big back through $coap"
fi

# A wrk load on erisd: random GETs of the blocks in this namespace.
if command -v wrk >/dev/null; then
	rados -c "$CEPH_CONF" -p eris -N "$ns" ls |
		sed 's|^|/uri-res/N2R?urn:blake2b:|' >"$tmp/paths"
	[ "$(wc -l <"$tmp/paths")" = "$n" ] || fail "paths: $(wc -l <"$tmp/paths")"
	# --timeout: a slow answer on a loaded machine is not an error here.
	wrk -t2 -c16 -d3s --timeout 60s -s "$WRKLUA" "$url" -- "$tmp/paths" \
		>"$tmp/wrk" 2>&1 || fail "wrk: $(cat "$tmp/wrk")"
	reqs=$(awk '/ requests in / { print $1 }' "$tmp/wrk")
	[ "${reqs:-0}" -gt 0 ] || fail "wrk made no requests: $(cat "$tmp/wrk")"
	if grep -q -e 'Non-2xx or 3xx responses' -e 'Socket errors' "$tmp/wrk"
	then
		fail "wrk: $(cat "$tmp/wrk")"
	fi
	echo "wrk: $reqs requests, all answered"
	"$ERIS" get --store "$url" "$big" | cmp - "$tmp/big" ||
		fail "get through erisd after the load"
else
	echo "note: wrk is not installed; the load on erisd is left out" >&2
fi

# A second erisd on the same namespace, writable: content put through it
# is served by the first one.
pid1=$pid
url1=$url
start_erisd "$tmp/erisd2.log" --writable
pid2=$pid
pid=$pid1
[ "$url" != http:// ] || fail "second erisd: $(cat "$tmp/erisd2.log")"
head -c 200000 /dev/urandom >"$tmp/third"
third=$("$ERIS" put -q --store "$url" "$tmp/third") || fail "put via erisd 2"
"$ERIS" get --store "$url1" "$third" | cmp - "$tmp/third" ||
	fail "put via one erisd, not served by the other"
url=$url1
kill "$pid2"
wait "$pid2" || true
pid2=''
kill "$pid"
wait "$pid" || true
pid=''

# eris-fuse over the cluster.
if [ -n "$EFUSE" ] && [ -c /dev/fuse ] && command -v fusermount3 >/dev/null
then
	mkdir "$tmp/mnt"
	"$EFUSE" --store "$store" "$tmp/mnt" -f 2>"$tmp/fuse.log" &
	pid=$!
	mounted=0
	for _ in $(seq 100); do
		if grep -q " $tmp/mnt " /proc/mounts; then
			mounted=1
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ "$mounted" = 1 ]; then
		cmp "$tmp/mnt/$big" "$tmp/big" || fail "read through eris-fuse"
		fusermount3 -u "$tmp/mnt"
		wait "$pid" || true
		echo "eris-fuse: read $big back"
	else
		echo "note: FUSE cannot mount here ($(head -n 2 "$tmp/fuse.log"));" \
			"the eris-fuse part is left out" >&2
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	pid=''
fi

# A block overwritten in the cluster with other bytes: refused by R3. In
# a namespace holding only the big content, so that every object is one
# of its blocks.
ns3=$ns-3
store3="rados:eris?conf=$CEPH_CONF&namespace=$ns3"
"$ERIS" put -q --store "$store3" "$tmp/big" >/dev/null || fail "put big 3"
name=$(rados -c "$CEPH_CONF" -p eris -N "$ns3" ls | head -n 1)
head -c 32768 /dev/urandom >"$tmp/junk"
rados -c "$CEPH_CONF" -p eris -N "$ns3" put "$name" "$tmp/junk"
code=0
"$ERIS" get --store "$store3" "$big" >/dev/null 2>"$tmp/err" || code=$?
[ "$code" = 1 ] || fail "corrupt object: exit $code, $(cat "$tmp/err")"
grep -q "R3.*$name" "$tmp/err" || fail "corrupt object: $(cat "$tmp/err")"
code=0
"$ERIS" store fsck --store "$store3" >"$tmp/fsck" 2>&1 || code=$?
[ "$code" != 0 ] || fail "fsck passed a corrupt block"
grep -q ' 1 bad' "$tmp/fsck" || fail "fsck said $(cat "$tmp/fsck")"

# A block removed from the cluster: missing, R1.
rados -c "$CEPH_CONF" -p eris -N "$ns3" rm "$name"
code=0
"$ERIS" get --store "$store3" "$big" >/dev/null 2>"$tmp/err" || code=$?
[ "$code" = 1 ] || fail "missing object: exit $code, $(cat "$tmp/err")"
grep -q "R1.*$name" "$tmp/err" || fail "missing object: $(cat "$tmp/err")"

# Refusals at open: a pool the cluster lacks, an unknown option.
code=0
"$ERIS" get --store "rados:nosuchpool?conf=$CEPH_CONF" "$small" \
	>/dev/null 2>"$tmp/err" || code=$?
[ "$code" = 3 ] || fail "missing pool: exit $code"
grep -q 'no pool "nosuchpool"' "$tmp/err" || fail "$(cat "$tmp/err")"
code=0
"$ERIS" get --store "$store&colour=blue" "$small" >/dev/null 2>"$tmp/err" ||
	code=$?
[ "$code" = 3 ] || fail "unknown option: exit $code"
grep -q 'unknown option "colour"' "$tmp/err" || fail "$(cat "$tmp/err")"

for n in "$ns" "$ns3"; do
	rados -c "$CEPH_CONF" -p eris -N "$n" ls |
		while read -r o; do rados -c "$CEPH_CONF" -p eris -N "$n" rm "$o"; done
done
echo "PASS"
