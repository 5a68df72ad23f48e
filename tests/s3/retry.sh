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
# the last try, the content comes back byte for byte.
set -eu
ERIS=$1
: "${AWS_ENDPOINT_URL:?}" "${FAKE_S3:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
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

STEP="fail-first 2: put"; echo "$(date +%s.%N | cut -c1-14) $STEP" >&2
mode fail-first 2
URN=$("$ERIS" put --store "$STORE" "$W/f") || fail "$STEP"
n_put=$(expect PUT 3)

STEP="fail-first 2: get"; echo "$(date +%s.%N | cut -c1-14) $STEP" >&2
mode fail-first 2
"$ERIS" get --store "$STORE" -o "$W/g" "$URN" || fail "$STEP"
cmp "$W/f" "$W/g" || fail "$STEP: other bytes"
n_get=$(expect GET 3)
[ "$n_get" = "$n_put" ] || fail "$STEP: $n_get blocks read, $n_put stored"

STEP="fail-first 2: store stats"; echo "$(date +%s.%N | cut -c1-14) $STEP" >&2
mode fail-first 2
"$ERIS" store stats --store "$STORE" > "$W/s" || fail "$STEP"
grep -q "^blocks: $n_put$" "$W/s" || fail "$STEP: $(cat "$W/s")"
pages=$(expect LIST 3)
[ "$pages" -ge 2 ] || fail "$STEP: $pages listing page(s), not several"

STEP="fail-first 2: verify"; echo "$(date +%s.%N | cut -c1-14) $STEP" >&2
mode fail-first 2
"$ERIS" verify --store "$STORE" "$URN" > "$W/v" || fail "$STEP"
grep -q ": OK (" "$W/v" || fail "$STEP: $(cat "$W/v")"
expect GET 3 > /dev/null

# As many failures as tries: the error comes through, after 3 tries.
STEP="fail-first 3: get"; echo "$(date +%s.%N | cut -c1-14) $STEP" >&2
mode fail-first 3
rc=0
"$ERIS" get --store "$STORE" -o "$W/h" "$URN" 2> "$W/e" || rc=$?
[ "$rc" = $EXIT_STORE_IO ] || fail "$STEP: exit $rc: $(cat "$W/e")"
grep -q "HTTP status 503" "$W/e" || fail "$STEP: $(cat "$W/e")"
[ ! -e "$W/h" ] || fail "$STEP: an output file was left"
expect GET 3 > /dev/null

STEP="fail-first 3: put"; echo "$(date +%s.%N | cut -c1-14) $STEP" >&2
mode fail-first 3
rc=0
"$ERIS" put --store "$STORE-3" "$W/f" > /dev/null 2> "$W/e" || rc=$?
[ "$rc" = $EXIT_STORE_IO ] || fail "$STEP: exit $rc: $(cat "$W/e")"
grep -q "HTTP status 503" "$W/e" || fail "$STEP: $(cat "$W/e")"
expect PUT 3 > /dev/null

# A 4xx is final: one request each.
STEP="status 403: put"; echo "$(date +%s.%N | cut -c1-14) $STEP" >&2
mode status 403
rc=0
"$ERIS" put --store "$STORE-403" "$W/f" > /dev/null 2> "$W/e" || rc=$?
[ "$rc" = $EXIT_STORE_IO ] || fail "$STEP: exit $rc: $(cat "$W/e")"
grep -q "access denied (HTTP 403 AccessDenied)" "$W/e" ||
	fail "$STEP: $(cat "$W/e")"
expect PUT 1 > /dev/null

STEP="status 403: get"; echo "$(date +%s.%N | cut -c1-14) $STEP" >&2
mode status 403
rc=0
"$ERIS" get --store "$STORE" -o "$W/h" "$URN" 2> "$W/e" || rc=$?
[ "$rc" = $EXIT_STORE_IO ] || fail "$STEP: exit $rc: $(cat "$W/e")"
grep -q "access denied (HTTP 403 AccessDenied)" "$W/e" ||
	fail "$STEP: $(cat "$W/e")"
expect GET 1 > /dev/null

STEP="status 403: store stats"; echo "$(date +%s.%N | cut -c1-14) $STEP" >&2
mode status 403
rc=0
"$ERIS" store stats --store "$STORE" > /dev/null 2> "$W/e" || rc=$?
[ "$rc" = $EXIT_STORE_IO ] || fail "$STEP: exit $rc: $(cat "$W/e")"
grep -q "access denied (HTTP 403 AccessDenied)" "$W/e" ||
	fail "$STEP: $(cat "$W/e")"
expect LIST 1 > /dev/null

# A connection closed without an answer is tried again.
STEP="drop-first 1: put"; echo "$(date +%s.%N | cut -c1-14) $STEP" >&2
mode drop-first 1
URN2=$("$ERIS" put --store "$STORE-drop" "$W/f") || fail "$STEP"
[ "$URN2" = "$URN" ] || fail "$STEP: another URN"
expect PUT 2 > /dev/null

STEP="drop-first 1: get"; echo "$(date +%s.%N | cut -c1-14) $STEP" >&2
mode drop-first 1
"$ERIS" get --store "$STORE-drop" -o "$W/d" "$URN" || fail "$STEP"
cmp "$W/f" "$W/d" || fail "$STEP: other bytes"
expect GET 2 > /dev/null

# A server failing every request: the run ends, with the store error.
STEP="status 500: get"; echo "$(date +%s.%N | cut -c1-14) $STEP" >&2
mode status 500
rc=0
"$ERIS" get --store "$STORE" -o "$W/h" "$URN" 2> "$W/e" || rc=$?
[ "$rc" = $EXIT_STORE_IO ] || fail "$STEP: exit $rc: $(cat "$W/e")"
grep -q "HTTP status 500 InternalError" "$W/e" || fail "$STEP: $(cat "$W/e")"
expect GET 3 > /dev/null

echo "ok: $n_put blocks, $pages listing pages"
