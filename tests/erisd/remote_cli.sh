#!/usr/bin/env bash
# End to end over the network: a real erisd on loopback ports serving an
# sqlite store over HTTP, CoAP/UDP and CoAP/TCP; the real `eris` command
# puts content through each protocol and gets it back through each other
# one, byte for byte; a missing block is reported by rule (R1) over every
# protocol; a read-only erisd refuses writes.
# Usage: remote_cli.sh ERISD ERIS
set -euo pipefail
ERISD=$1
ERIS=$2
tmp=$(mktemp -d /tmp/erisd-remote-XXXXXX)
pid='' first_pid='' down_pid=''
cleanup() {
	for p in $pid $first_pid $down_pid; do
		kill -9 "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
export HOME=$tmp/home XDG_DATA_HOME=$tmp/data
unset ERIS_STORE ERIS_HTTP_TOKEN

fail() { echo "FAIL: $*" >&2; exit 1; }

# start_erisd LOG ARGS...: start it, wait for its three listening lines.
start_erisd() {
	local log=$1; shift
	"$ERISD" --listen 127.0.0.1:0 --coap 127.0.0.1:0 \
		--coap-tcp 127.0.0.1:0 "$@" 2>"$log" &
	pid=$!
	for _ in $(seq 600); do
		grep -q '^erisd: listening on' "$log" && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			cat "$log" >&2
			if grep -q io_uring "$log"; then
				echo "SKIP: io_uring is not available here" >&2
				exit 77
			fi
			fail "erisd died"
		fi
		sleep 0.1
	done
	cat "$log" >&2
	fail "erisd did not start"
}
addr() { sed -n "s/^erisd: $2 on //p" "$1"; }

start_erisd "$tmp/erisd.log" --store "sqlite:$tmp/server.sqlite" --writable
http=http://$(addr "$tmp/erisd.log" listening)
coap=coap://$(addr "$tmp/erisd.log" "coap listening")
coaptcp=coap+tcp://$(addr "$tmp/erisd.log" "coap+tcp listening")
echo "erisd at $http $coap $coaptcp"

head -c 300000 /dev/urandom >"$tmp/big"     # 32 KiB blocks, level 1
head -c 5000 /dev/urandom >"$tmp/small"     # 1 KiB blocks
for store in "$http" "$coap" "$coaptcp"; do
	for f in big small; do
		urn=$("$ERIS" put -q --store "$store" "$tmp/$f") ||
			fail "put $f via $store"
		for back in "$http" "$coap" "$coaptcp"; do
			"$ERIS" get -q --store "$back" -o "$tmp/out" "$urn" ||
				fail "get $f via $back (put via $store)"
			cmp -s "$tmp/$f" "$tmp/out" ||
				fail "$f differs via $back (put via $store)"
		done
		"$ERIS" verify -q --store "$store" "$urn" || fail "verify via $store"
	done
done
echo "round trips over http, coap, coap+tcp: ok"

# Content the server does not have: rule R1, exit 1, on every protocol.
head -c 1000 /dev/urandom >"$tmp/other"
missing=$("$ERIS" sum "$tmp/other" | cut -d' ' -f1)
for store in "$http" "$coap" "$coaptcp"; do
	set +e
	"$ERIS" get -q --store "$store" "$missing" >/dev/null 2>"$tmp/err"
	rc=$?
	set -e
	[ "$rc" -eq 1 ] || fail "missing content via $store: exit $rc"
	grep -q R1 "$tmp/err" || fail "missing content via $store: no R1: $(cat "$tmp/err")"
done
echo "missing content named by rule R1: ok"

# A second erisd with an empty store and the first as --upstream: it
# serves the content, keeps the blocks, and still serves them once the
# upstream is gone. PUTs to it stay local.
first_pid=$pid
urn_big=$("$ERIS" sum "$tmp/big" | cut -d' ' -f1)
start_erisd "$tmp/erisd-down.log" --store "sqlite:$tmp/down.sqlite" \
	--upstream "$http" --writable
down=http://$(addr "$tmp/erisd-down.log" listening)
"$ERIS" get -q --store "$down" -o "$tmp/out" "$urn_big" || fail "get through upstream"
cmp -s "$tmp/big" "$tmp/out" || fail "content through upstream differs"
down_pid=$pid
kill -TERM "$first_pid"
wait "$first_pid" || fail "first erisd did not exit cleanly"
first_pid=
"$ERIS" get -q --store "$down" -o "$tmp/out" "$urn_big" ||
	fail "get from the downstream with the upstream gone"
cmp -s "$tmp/big" "$tmp/out" || fail "downstream content differs"
set +e
"$ERIS" get -q --store "$down" "$missing" >/dev/null 2>"$tmp/err"
rc=$?
set -e
# Not "missing" (R1): with its upstream unreachable the server cannot
# know, so it answers 500 and eris reports an error (exit 5).
[ "$rc" -eq 5 ] || fail "missing content with the upstream gone: exit $rc"
# Cached blocks are committed with the store's batching; at the latest
# when erisd stops.
kill -TERM "$down_pid"
wait "$down_pid" || fail "downstream erisd did not exit cleanly"
pid='' down_pid=''
"$ERIS" verify -q --store "sqlite:$tmp/down.sqlite" "$urn_big" ||
	fail "the downstream store did not keep the blocks"
echo "upstream: fetched, verified, kept, served: ok"

# A read-only erisd: puts refused over every protocol, reads still work.
start_erisd "$tmp/erisd2.log" --store "sqlite:$tmp/server.sqlite"
http=http://$(addr "$tmp/erisd2.log" listening)
coap=coap://$(addr "$tmp/erisd2.log" "coap listening")
coaptcp=coap+tcp://$(addr "$tmp/erisd2.log" "coap+tcp listening")
for store in "$http" "$coap" "$coaptcp"; do
	if "$ERIS" put -q --store "$store" "$tmp/other" >/dev/null 2>"$tmp/err"; then
		fail "read-only erisd accepted a put via $store"
	fi
	grep -qi "refused\|read-only" "$tmp/err" ||
		fail "put via $store: unclear error: $(cat "$tmp/err")"
	urn=$("$ERIS" sum "$tmp/small" | cut -d' ' -f1)
	"$ERIS" get -q --store "$store" -o "$tmp/out" "$urn" || fail "read-only get via $store"
	cmp -s "$tmp/small" "$tmp/out" || fail "read-only get via $store differs"
done
echo "read-only erisd refuses puts, serves gets: ok"
echo "1 passed, 0 failed"
