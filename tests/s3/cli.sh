#!/bin/sh
# cli.sh ERIS: the eris program against s3://$ERIS_TEST_S3_BUCKET on a
# real radosgw (run through ceph.sh run, which sets the AWS_* variables):
# put, get, verify and store stats round trips, a missing object (R1),
# and wrong credentials: exit 5 with an "access
# denied (HTTP 403" message in which neither the secret nor the access
# key appears.
set -eu
ERIS=$1
: "${ERIS_TEST_S3_BUCKET:?}" "${AWS_SECRET_ACCESS_KEY:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
STORE="s3://$ERIS_TEST_S3_BUCKET/cli-$(basename "$W")"
fail() { echo "FAIL: $*" >&2; exit 1; }

head -c 1000000 /dev/urandom > "$W/f"
URN=$("$ERIS" put --store "$STORE" "$W/f")
"$ERIS" get --store "$STORE" -o "$W/g" "$URN"
cmp "$W/f" "$W/g" || fail "get returned other bytes"
"$ERIS" verify --store "$STORE" "$URN" > "$W/v"
grep -q ": OK (" "$W/v" || fail "verify: $(cat "$W/v")"
"$ERIS" store stats --store "$STORE" > "$W/s"
grep -q "^blocks: 32$" "$W/s" || fail "stats: $(cat "$W/s")"
# The same content again: puts are idempotent.
[ "$("$ERIS" put --store "$STORE" "$W/f")" = "$URN" ] || fail "second put"
# Another prefix holds nothing: a missing block (R1).
rc=0
"$ERIS" get --store "$STORE-empty" -o "$W/h" "$URN" 2> "$W/e" || rc=$?
[ "$rc" != 0 ] && grep -q "R1" "$W/e" || fail "missing block: rc $rc: $(cat "$W/e")"

# Wrong credentials: refused, clearly, and nothing secret printed.
for cmd in get put; do
	rc=0
	if [ $cmd = get ]; then
		AWS_SECRET_ACCESS_KEY=wrong-secret-0123456789 \
			"$ERIS" get --store "$STORE" -o "$W/h" "$URN" 2> "$W/e" || rc=$?
	else
		AWS_SECRET_ACCESS_KEY=wrong-secret-0123456789 \
			"$ERIS" put --store "$STORE-w" "$W/f" > /dev/null 2> "$W/e" || rc=$?
	fi
	[ "$rc" = 5 ] || fail "$cmd with a wrong secret: exit $rc: $(cat "$W/e")"
	grep -q "access denied (HTTP 403" "$W/e" || fail "$cmd: $(cat "$W/e")"
	if grep -q -e "wrong-secret" -e "$AWS_SECRET_ACCESS_KEY" \
		-e "$AWS_ACCESS_KEY_ID" "$W/e"; then
		fail "$cmd: a credential in the message: $(cat "$W/e")"
	fi
done
echo "ok: $STORE"
