#!/usr/bin/env bash
# The rados: store when the cluster fails, on a cluster of its own
# (tools/ceph-up.sh, 3 OSDs, pool of 3 replicas):
#   - one OSD killed (kill -9 of its recorded PID) while eris get reads
#     64 MiB: the read completes and the content is byte for byte right;
#   - the whole cluster stopped: eris get fails with exit 3 and a message
#     naming the cluster and the timeout, after the store's timeout
#     (15 s), instead of hanging.
# Usage: faults.sh ERIS TOOLS_DIR ; exit 77 without Ceph.
set -euo pipefail
ERIS=$1
TOOLS=$2
tmp=$(mktemp -d /tmp/eris-rados-faults-XXXXXX)
cleanup() {
	"$TOOLS/ceph-down.sh" "$tmp/cluster" || true
	rm -rf "$tmp"
}
trap cleanup EXIT
export HOME=$tmp/home XDG_DATA_HOME=$tmp/data
unset ERIS_STORE
fail() { echo "FAIL: $*" >&2; exit 1; }

code=0
"$TOOLS/ceph-up.sh" "$tmp/cluster" --osds 3 >"$tmp/env" || code=$?
[ "$code" = 77 ] && exit 77
[ "$code" = 0 ] || fail "the cluster did not come up"
conf=$tmp/cluster/ceph.conf
store="rados:eris?conf=$conf"
[ "$(ceph -c "$conf" osd pool get eris size)" = "size: 3" ] ||
	fail "pool eris is not of 3 replicas"

head -c $((64 << 20)) /dev/urandom >"$tmp/data"
urn=$("$ERIS" put -q --store "$store" "$tmp/data") || fail "put"

# The reader is slowed down by its consumer (about 3 s for 64 MiB), so
# that most blocks are read after the OSD is gone.
"$ERIS" get --store "$store" "$urn" 2>"$tmp/get.err" |
	python3 -c '
import sys, time
out = open(sys.argv[1], "wb")
while True:
    b = sys.stdin.buffer.read(1 << 20)
    if not b:
        break
    out.write(b)
    time.sleep(0.05)' "$tmp/out" &
reader=$!
for _ in $(seq 200); do
	[ -f "$tmp/out" ] && [ "$(stat -c %s "$tmp/out")" -ge $((4 << 20)) ] &&
		break
	sleep 0.05
done
victim=$(cat "$tmp/cluster/pids/osd.1.pid")
kill -0 "$reader" 2>/dev/null || fail "the read ended before the kill"
kill -9 "$victim"
echo "killed osd.1 (pid $victim) after $(stat -c %s "$tmp/out") bytes"
wait "$reader" || fail "get with an OSD down: $(cat "$tmp/get.err")"
cmp "$tmp/out" "$tmp/data" || fail "content differs"
ceph -c "$conf" osd stat
echo "the read completed with osd.1 down"

# The cluster stopped: a clear error, no hang.
"$TOOLS/ceph-down.sh" "$tmp/cluster"
start=$(date +%s)
code=0
"$ERIS" get --store "$store" "$urn" >/dev/null 2>"$tmp/err" || code=$?
echo "cluster down: exit $code after $(($(date +%s) - start)) s:" \
	"$(cat "$tmp/err")"
[ "$code" = 3 ] || fail "cluster down: exit $code"
grep -q "cannot connect to the Ceph cluster of $conf" "$tmp/err" ||
	fail "cluster down: the message does not name the cluster"
grep -q "timeout 15 s.*timed out" "$tmp/err" ||
	fail "cluster down: the message does not name the timeout"
echo PASS
