#!/usr/bin/env bash
# CoAP writes are decided on the peer's address, not on the text of the
# listening address: a real erisd --writable with its CoAP endpoints on
# the wildcard addresses 0.0.0.0 (UDP) and [::] (TCP) accepts PUT from
# loopback peers (127.0.0.1, over TCP as the IPv4-mapped ::ffff:127.0.0.1)
# and the blocks are then served over HTTP. (A non-loopback peer is
# refused: tests/coap checks the address test and the handler's 4.03.)
# Usage: coap_peer.sh ERISD ERIS
set -euo pipefail
ERISD=$1
ERIS=$2
tmp=$(mktemp -d /tmp/erisd-coap-peer-XXXXXX)
pid=''
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
export HOME=$tmp/home XDG_DATA_HOME=$tmp/data
unset ERIS_STORE ERIS_HTTP_TOKEN
fail() { echo "FAIL: $*" >&2; exit 1; }

"$ERISD" --listen 127.0.0.1:0 --coap 0.0.0.0:0 --coap-tcp '[::]:0' \
	--store "sqlite:$tmp/server.sqlite" --writable 2>"$tmp/log" &
pid=$!
for _ in $(seq 600); do
	grep -q '^erisd: listening on' "$tmp/log" && break
	if ! kill -0 "$pid" 2>/dev/null; then
		cat "$tmp/log" >&2
		if grep -q io_uring "$tmp/log"; then
			echo "SKIP: io_uring is not available here" >&2
			exit 77
		fi
		fail "erisd died"
	fi
	sleep 0.1
done
grep -q '^erisd: listening on' "$tmp/log" || fail "erisd did not start"
port() { sed -n "s/^erisd: $1 on .*:\([0-9]*\)$/\1/p" "$tmp/log"; }
http=http://$(sed -n 's/^erisd: listening on //p' "$tmp/log")
coap=coap://127.0.0.1:$(port "coap listening")
coaptcp=coap+tcp://127.0.0.1:$(port "coap+tcp listening")
echo "erisd at $http $coap $coaptcp"

head -c 5000 /dev/urandom >"$tmp/small"
head -c 100000 /dev/urandom >"$tmp/big"
for store in "$coap" "$coaptcp"; do
	for f in small big; do
		urn=$("$ERIS" put -q --store "$store" "$tmp/$f" 2>"$tmp/err") ||
			fail "put $f via $store refused: $(cat "$tmp/err")"
		"$ERIS" get -q --store "$http" -o "$tmp/out" "$urn" ||
			fail "$f put via $store is not served over HTTP"
		cmp -s "$tmp/$f" "$tmp/out" || fail "$f via $store differs"
	done
done
echo "PUT from loopback peers to wildcard CoAP endpoints: ok"
echo "1 passed, 0 failed"
