#!/usr/bin/env bash
# A real erisd serving a dir store in which two block files are FIFOs:
# GETs of them fail at once instead of wedging erisd's workers (open()
# on a FIFO used to block forever), a third, normal GET still succeeds,
# HEAD of a FIFO block says it is absent, and SIGTERM still stops the
# daemon. `timeout 60` only bounds a hang.
# Usage: fifo_blocks.sh ERISD ERIS
set -euo pipefail
ERISD=$1
ERIS=$2
tmp=$(mktemp -d /tmp/erisd-fifo-XXXXXX)
pid=''
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
export HOME=$tmp/home XDG_DATA_HOME=$tmp/data
unset ERIS_STORE ERIS_HTTP_TOKEN
fail() { echo "FAIL: $*" >&2; exit 1; }

store=$tmp/blocks
for f in a b c; do head -c 5000 /dev/urandom >"$tmp/$f"; done
ua=$("$ERIS" put -q --block-size 1k --store "dir:$store" "$tmp/a")
ub=$("$ERIS" put -q --block-size 1k --store "dir:$store" "$tmp/b")
uc=$("$ERIS" put -q --block-size 1k --store "dir:$store" "$tmp/c")
root_of() { "$ERIS" info --json "$1" | sed -n 's/.*"root_reference": *"\([A-Z2-7]*\)".*/\1/p'; }
for u in "$ua" "$ub"; do
	r=$(root_of "$u")
	[ -n "$r" ] || fail "no root reference for $u"
	rm -f "$store/${r:0:2}/$r"
	mkfifo "$store/${r:0:2}/$r"
done

# One worker: a single wedged open() would stall every request.
"$ERISD" --listen 127.0.0.1:0 --workers 1 --store "dir:$store" 2>"$tmp/log" &
pid=$!
for _ in $(seq 600); do
	grep -q '^erisd: listening on' "$tmp/log" && break
	if ! kill -0 "$pid" 2>/dev/null; then
		cat "$tmp/log" >&2
		grep -q io_uring "$tmp/log" && { echo "SKIP: no io_uring" >&2; exit 77; }
		fail "erisd died"
	fi
	sleep 0.1
done
http=http://$(sed -n 's/^erisd: listening on //p' "$tmp/log")

for u in "$ua" "$ub"; do
	rc=0
	timeout 60 "$ERIS" get --store "$http" "$u" >/dev/null 2>"$tmp/err" || rc=$?
	[ "$rc" != 124 ] || fail "GET of a FIFO block hung"
	[ "$rc" != 0 ] || fail "GET of a FIFO block succeeded"
done
timeout 60 "$ERIS" get --store "$http" "$uc" | cmp -s - "$tmp/c" ||
	fail "a normal GET after two FIFO blocks failed"
# erisd(8): 500 is "the stored block fails verification".
r=$(root_of "$ua")
rc=0
timeout 60 "$ERIS" verify --store "$http" "$ua" >"$tmp/out" 2>&1 || rc=$?
[ "$rc" != 124 ] || fail "verify of a FIFO block hung"
grep -q 'FAILED.*500' "$tmp/out" || fail "verify of a FIFO block: $(cat "$tmp/out")"

kill -TERM "$pid"
for _ in $(seq 600); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$pid" 2>/dev/null && fail "erisd ignored SIGTERM"
wait "$pid" || true
pid=''
echo "ok"
