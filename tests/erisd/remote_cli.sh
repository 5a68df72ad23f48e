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
. "$(dirname "$0")/lib.sh" remote
first_pid='' down_pid=''

start_erisd "$tmp/erisd.log" --coap 127.0.0.1:0 --coap-tcp 127.0.0.1:0 \
	--store "sqlite:$tmp/server.sqlite" --writable
http=$url
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
start_erisd "$tmp/erisd-down.log" --coap 127.0.0.1:0 \
	--coap-tcp 127.0.0.1:0 --store "sqlite:$tmp/down.sqlite" \
	--upstream "$http" --writable
down=$url
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
start_erisd "$tmp/erisd2.log" --coap 127.0.0.1:0 --coap-tcp 127.0.0.1:0 \
	--store "sqlite:$tmp/server.sqlite"
http=$url
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
