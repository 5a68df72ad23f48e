#!/bin/sh
# retry.sh ERIS: the s3:// store's retries, with the eris program against
# fake_s3.py (run through with-fake.sh, which sets AWS_ENDPOINT_URL and
# FAKE_S3; the fake lists 2 keys a page, so listings take several pages).
#
# What it proves, from the fake's request counts: a 503 or a dropped
# connection is tried again, on the single-request path (put, and each
# listing page of store stats) and on get_many's rounds (get, verify);
# S3_TRIES (3) tries in all, never a fourth, so a server that keeps
# failing ends the run with a store error (exit 5 naming "HTTP status
# 503", or 500), no hang; a 4xx (403) is never tried again and is
# reported as "access denied (HTTP 403". When the failures stop before
# the last try, the content comes back byte for byte. A connection closed
# without an answer, once or twice, is tried again too (twice is beyond
# libcurl's own reconnect). tries=N and backoff=MS in the specification
# change the count (tries=1: one request; tries=5: five), and bad values
# are refused when the store opens.
set -eu
ERIS=$1
: "${AWS_ENDPOINT_URL:?}" "${FAKE_S3:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { STEP=$1; echo "== $STEP"; }
mode() { python3 "$FAKE_S3" control "$AWS_ENDPOINT_URL" "$@"; }
# expect KIND COUNT: every request of KIND made exactly COUNT times;
# prints how many objects (or listing pages) saw one.
expect() {
	python3 "$FAKE_S3" check "$AWS_ENDPOINT_URL" "$1" "$2" ||
		fail "$STEP: $1 requests: see above"
}
# Exit code of the eris program for a store I/O error (cli/cli.h:
# EXIT_OTHER; a failed put is ERIS_EREADONLY, a failed get ERIS_ERROR,
# both mapped to it).
EXIT_STORE_IO=5
STORE=s3://bucket/retry

head -c 100000 /dev/urandom > "$W/f"

step "fail-first 2: put"
mode fail-first 2
URN=$("$ERIS" put --store "$STORE" "$W/f") || fail "$STEP"
n_put=$(expect PUT 3)

step "fail-first 2: get"
mode fail-first 2
"$ERIS" get --store "$STORE" -o "$W/g" "$URN" || fail "$STEP"
cmp "$W/f" "$W/g" || fail "$STEP: other bytes"
n_get=$(expect GET 3)
[ "$n_get" = "$n_put" ] || fail "$STEP: $n_get blocks read, $n_put stored"

step "fail-first 2: store stats"
mode fail-first 2
"$ERIS" store stats --store "$STORE" > "$W/s" || fail "$STEP"
grep -q "^blocks: $n_put$" "$W/s" || fail "$STEP: $(cat "$W/s")"
pages=$(expect LIST 3)
[ "$pages" -ge 2 ] || fail "$STEP: $pages listing page(s), not several"

# --no-recurse: verify reads each block once (without it, it first reads
# the content's start to tell an ERIS-FS tree, then every block again).
step "fail-first 2: verify"
mode fail-first 2
"$ERIS" verify --no-recurse --store "$STORE" "$URN" > "$W/v" || fail "$STEP"
grep -q ": OK (" "$W/v" || fail "$STEP: $(cat "$W/v")"
expect GET 3 > /dev/null

# As many failures as tries: the error comes through, after 3 tries.
step "fail-first 3: get"
mode fail-first 3
rc=0
"$ERIS" get --store "$STORE" -o "$W/h" "$URN" 2> "$W/e" || rc=$?
[ "$rc" = $EXIT_STORE_IO ] || fail "$STEP: exit $rc: $(cat "$W/e")"
grep -q "HTTP status 503" "$W/e" || fail "$STEP: $(cat "$W/e")"
[ ! -e "$W/h" ] || fail "$STEP: an output file was left"
expect GET 3 > /dev/null

step "fail-first 3: put"
mode fail-first 3
rc=0
"$ERIS" put --store "$STORE-3" "$W/f" > /dev/null 2> "$W/e" || rc=$?
[ "$rc" = $EXIT_STORE_IO ] || fail "$STEP: exit $rc: $(cat "$W/e")"
grep -q "HTTP status 503" "$W/e" || fail "$STEP: $(cat "$W/e")"
expect PUT 3 > /dev/null

# A 4xx is final: one request each.
step "status 403: put"
mode status 403
rc=0
"$ERIS" put --store "$STORE-403" "$W/f" > /dev/null 2> "$W/e" || rc=$?
[ "$rc" = $EXIT_STORE_IO ] || fail "$STEP: exit $rc: $(cat "$W/e")"
grep -q "access denied (HTTP 403 AccessDenied)" "$W/e" ||
	fail "$STEP: $(cat "$W/e")"
expect PUT 1 > /dev/null

step "status 403: get"
mode status 403
rc=0
"$ERIS" get --store "$STORE" -o "$W/h" "$URN" 2> "$W/e" || rc=$?
[ "$rc" = $EXIT_STORE_IO ] || fail "$STEP: exit $rc: $(cat "$W/e")"
grep -q "access denied (HTTP 403 AccessDenied)" "$W/e" ||
	fail "$STEP: $(cat "$W/e")"
expect GET 1 > /dev/null

step "status 403: store stats"
mode status 403
rc=0
"$ERIS" store stats --store "$STORE" > /dev/null 2> "$W/e" || rc=$?
[ "$rc" = $EXIT_STORE_IO ] || fail "$STEP: exit $rc: $(cat "$W/e")"
grep -q "access denied (HTTP 403 AccessDenied)" "$W/e" ||
	fail "$STEP: $(cat "$W/e")"
expect LIST 1 > /dev/null

# A connection closed without an answer is tried again.
step "drop-first 1: put"
mode drop-first 1
URN2=$("$ERIS" put --store "$STORE-drop" "$W/f") || fail "$STEP"
[ "$URN2" = "$URN" ] || fail "$STEP: another URN"
expect PUT 2 > /dev/null

step "drop-first 1: get"
mode drop-first 1
"$ERIS" get --store "$STORE-drop" -o "$W/d" "$URN" || fail "$STEP"
cmp "$W/f" "$W/d" || fail "$STEP: other bytes"
expect GET 2 > /dev/null

# Twice: libcurl itself reconnects once when a kept-alive connection
# turns out dead, but not twice, so this takes the store's own retry.
step "drop-first 2: put"
mode drop-first 2
URN2=$("$ERIS" put --store "$STORE-drop2" "$W/f") || fail "$STEP"
[ "$URN2" = "$URN" ] || fail "$STEP: another URN"
expect PUT 3 > /dev/null

step "drop-first 2: get"
mode drop-first 2
"$ERIS" get --store "$STORE-drop2" -o "$W/d2" "$URN" || fail "$STEP"
cmp "$W/f" "$W/d2" || fail "$STEP: other bytes"
expect GET 3 > /dev/null

# A server failing every request: the run ends, with the store error.
step "status 500: get"
mode status 500
rc=0
"$ERIS" get --store "$STORE" -o "$W/h" "$URN" 2> "$W/e" || rc=$?
[ "$rc" = $EXIT_STORE_IO ] || fail "$STEP: exit $rc: $(cat "$W/e")"
grep -q "HTTP status 500 InternalError" "$W/e" || fail "$STEP: $(cat "$W/e")"
expect GET 3 > /dev/null

# tries= and backoff= in the specification: tries=1 never tries again,
# tries=5 tries a fifth time; bad values are refused at open (exit 3).
step "tries=1: get"
mode fail-first 1
rc=0
"$ERIS" get --store "$STORE?tries=1" -o "$W/t1" "$URN" 2> "$W/e" || rc=$?
[ "$rc" = $EXIT_STORE_IO ] || fail "$STEP: exit $rc: $(cat "$W/e")"
grep -q "HTTP status 503" "$W/e" || fail "$STEP: $(cat "$W/e")"
expect GET 1 > /dev/null

step "tries=5&backoff=0: get"
mode fail-first 4
"$ERIS" get --store "$STORE?tries=5&backoff=0" -o "$W/t5" "$URN" ||
	fail "$STEP"
cmp "$W/f" "$W/t5" || fail "$STEP: other bytes"
expect GET 5 > /dev/null

step "bad tries= and backoff="
mode none
for q in tries=0 tries=11 tries=x backoff=-1 backoff=60001 "tries=2&tries=3"
do
	rc=0
	"$ERIS" get --store "$STORE?$q" -o "$W/b" "$URN" 2> "$W/e" || rc=$?
	[ "$rc" = 3 ] || fail "$STEP: $q: exit $rc: $(cat "$W/e")"
	grep -q "not a number in" "$W/e" || fail "$STEP: $q: $(cat "$W/e")"
done

echo "ok: $n_put blocks, $pages listing pages"
