#!/usr/bin/env bash
# cli.sh ERIS ERISD [EFUSE]: the eris programs against
# s3://$ERIS_TEST_S3_BUCKET on a real radosgw (run through ceph.sh run,
# which sets the AWS_* variables), each part under a prefix of its own:
#   - put, get (byte for byte), verify, store stats (the objects counted
#     by a ListObjectsV2 of our own too), store fsck (0 bad); a second put
#     is idempotent; a prefix holding nothing -> R1;
#   - export to a bundle and import into a second prefix; store gc keeping
#     one of two contents there removes exactly the other's objects;
#   - an object overwritten with random bytes (a signed PUT by curl) ->
#     eris get exit 1 naming R3 and the block's reference; fsck 1 bad;
#   - cache:sqlite:LOCAL,s3://... reads through and fills LOCAL;
#   - erisd --store s3://... serving the content over HTTP to eris get,
#     several clients at once;
#   - eris-fuse --store s3://... (when EFUSE is given and FUSE can mount
#     here; otherwise that part alone is left out, with a message): the
#     file under the mount is byte for byte the content;
#   - neither the secret nor the access key in erisd's or eris-fuse's
#     messages or arguments;
#   - wrong credentials: exit 5 with an "access denied (HTTP 403" message
#     in which neither the secret nor the access key appears.
set -euo pipefail
ERIS=$1
ERISD=$2
EFUSE=${3:-}
: "${ERIS_TEST_S3_BUCKET:?}" "${AWS_SECRET_ACCESS_KEY:?}" \
	"${AWS_ACCESS_KEY_ID:?}" "${AWS_ENDPOINT_URL:?}" "${AWS_REGION:?}"
W=$(mktemp -d /tmp/eris-s3-cli-XXXXXX)
pid=''
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	fusermount3 -u -z "$W/mnt" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT
export HOME=$W/home XDG_DATA_HOME=$W/data
unset ERIS_STORE
BUCKET=$ERIS_TEST_S3_BUCKET
P=cli-$(basename "$W")
STORE="s3://$BUCKET/$P"
fail() { echo "FAIL: $*" >&2; exit 1; }

# curl signing its requests, with the credentials in a config file, not
# in its arguments; radosgw wants the payload's hash header.
printf 'user = "%s:%s"\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" \
	>"$W/curlrc"
chmod 600 "$W/curlrc"
s3curl() {
	curl -sS --fail --aws-sigv4 "aws:amz:$AWS_REGION:s3" -K "$W/curlrc" \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"
}
# The references stored under PREFIX (its object names, PREFIX/REF),
# sorted; one ListObjectsV2 page (1000 keys) is enough for these tests.
# The query is written as signed: its parameters in order, "/" encoded.
refs() {
	s3curl "$AWS_ENDPOINT_URL/$BUCKET?list-type=2&prefix=$1%2F" >"$W/list" ||
		fail "listing $1"
	grep -q '<IsTruncated>false</IsTruncated>' "$W/list" ||
		fail "listing $1: more than one page"
	grep -o '<Key>[^<]*</Key>' "$W/list" |
		sed -e 's|^<Key>||' -e 's|</Key>$||' -e "s|^$1/||" | sort
}
# A credential in FILE fails the test.
nosecret() {
	if grep -q -F -e "$AWS_SECRET_ACCESS_KEY" -e "$AWS_ACCESS_KEY_ID" "$1"
	then
		fail "$2: a credential in $(cat "$1")"
	fi
}

head -c 1000000 /dev/urandom >"$W/f"     # 32 KiB blocks
head -c 5000 /dev/urandom >"$W/small"    # 1 KiB blocks
URN=$("$ERIS" put -q --store "$STORE" "$W/f")
SMALL=$("$ERIS" put -q --store "$STORE" "$W/small")
"$ERIS" get --store "$STORE" -o "$W/g" "$URN"
cmp "$W/f" "$W/g" || fail "get returned other bytes"
"$ERIS" verify --store "$STORE" "$URN" "$SMALL" >"$W/v"
[ "$(grep -c ": OK (" "$W/v")" = 2 ] || fail "verify: $(cat "$W/v")"
"$ERIS" store stats --store "$STORE" >"$W/s"
n=$(sed -n 's/^blocks: //p' "$W/s")
[ "$n" -gt 32 ] || fail "stats: $(cat "$W/s")"
[ "$(refs "$P" | wc -l)" = "$n" ] || fail "$n blocks, other objects: $(refs "$P")"
"$ERIS" store fsck --store "$STORE" >"$W/fsck" || fail "fsck: $(cat "$W/fsck")"
grep -q ' 0 bad' "$W/fsck" || fail "fsck said $(cat "$W/fsck")"
# The same content again: puts are idempotent.
[ "$("$ERIS" put -q --store "$STORE" "$W/f")" = "$URN" ] || fail "second put"
# Another prefix holds nothing: a missing block (R1).
rc=0
"$ERIS" get --store "$STORE-empty" -o "$W/h" "$URN" 2>"$W/e" || rc=$?
if [ "$rc" != 1 ] || ! grep -q "R1" "$W/e"; then
	fail "missing block: rc $rc: $(cat "$W/e")"
fi

# export / import into a second prefix; gc there keeps the small content
# and removes exactly the big one's objects: what is left is what the
# small content alone makes (put under a third prefix).
"$ERIS" export --store "$STORE" "$URN" "$SMALL" >"$W/bundle" || fail "export"
"$ERIS" import --store "$STORE-2" "$W/bundle" >"$W/imported" || fail "import"
if ! grep -qx "$URN" "$W/imported" || ! grep -qx "$SMALL" "$W/imported"
then
	fail "import: $(cat "$W/imported")"
fi
"$ERIS" get --store "$STORE-2" "$URN" | cmp - "$W/f" || fail "get after import"
refs "$P" >"$W/all"
refs "$P-2" | cmp - "$W/all" || fail "import made other objects"
"$ERIS" put -q --store "$STORE-s" "$W/small" >/dev/null
refs "$P-s" >"$W/smallrefs"
"$ERIS" store gc --store "$STORE-2" --keep "$SMALL" >"$W/gc" 2>&1 ||
	fail "gc: $(cat "$W/gc")"
refs "$P-2" | cmp - "$W/smallrefs" || fail "gc left other objects: $(cat "$W/gc")"
"$ERIS" get --store "$STORE-2" "$SMALL" | cmp - "$W/small" || fail "get after gc"
rc=0
"$ERIS" get --store "$STORE-2" "$URN" >/dev/null 2>"$W/e" || rc=$?
[ "$rc" = 1 ] || fail "big content after gc: exit $rc"

# A local sqlite cache in front of the bucket (made by a first put).
"$ERIS" put -q --store "sqlite:$W/local.sqlite" "$W/small" >/dev/null
CACHE="cache:sqlite:$W/local.sqlite,$STORE"
"$ERIS" get --store "$CACHE" "$URN" | cmp - "$W/f" || fail "get via cache"
"$ERIS" get --store "sqlite:$W/local.sqlite" "$URN" | cmp - "$W/f" ||
	fail "the local cache was not filled"

# erisd in front of the bucket, read by several clients at once.
"$ERISD" --listen 127.0.0.1:0 --store "$STORE" --cache-size 0 \
	2>"$W/erisd.log" &
pid=$!
for _ in $(seq 300); do
	grep -q '^erisd: listening on' "$W/erisd.log" && break
	if ! kill -0 "$pid" 2>/dev/null; then
		cat "$W/erisd.log" >&2
		if grep -q io_uring "$W/erisd.log"; then
			echo "SKIP: io_uring is not available here" >&2
			exit 77
		fi
		fail "erisd died"
	fi
	sleep 0.1
done
url=http://$(sed -n 's/^erisd: listening on //p' "$W/erisd.log")
[ "$url" != http:// ] || fail "erisd did not start"
tr '\0' ' ' </proc/"$pid"/cmdline >"$W/args"
nosecret "$W/args" "erisd's arguments"
gets=''
for i in 1 2 3 4; do
	"$ERIS" get --store "$url" "$URN" >"$W/out$i" &
	gets="$gets $!"
done
for g in $gets; do
	wait "$g" || fail "get through erisd"
done
for i in 1 2 3 4; do
	cmp "$W/out$i" "$W/f" || fail "get $i through erisd"
done
kill "$pid"
wait "$pid" || true
pid=''
nosecret "$W/erisd.log" "erisd's messages"

# eris-fuse over the bucket.
if [ -n "$EFUSE" ] && [ -c /dev/fuse ] && command -v fusermount3 >/dev/null
then
	mkdir "$W/mnt"
	"$EFUSE" --store "$STORE" "$W/mnt" -f 2>"$W/fuse.log" &
	pid=$!
	mounted=0
	for _ in $(seq 100); do
		if grep -q " $W/mnt " /proc/mounts; then
			mounted=1
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ "$mounted" = 1 ]; then
		tr '\0' ' ' </proc/"$pid"/cmdline >"$W/args"
		nosecret "$W/args" "eris-fuse's arguments"
		cmp "$W/mnt/$URN" "$W/f" || fail "read through eris-fuse"
		fusermount3 -u "$W/mnt"
		wait "$pid" || true
		echo "eris-fuse: read $URN back"
	else
		echo "note: FUSE cannot mount here ($(head -n 2 "$W/fuse.log"));" \
			"the eris-fuse part is left out" >&2
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	pid=''
	nosecret "$W/fuse.log" "eris-fuse's messages"
fi

# An object overwritten with random bytes: refused by R3, naming the
# block. Under a prefix holding only the big content, so that every
# object is one of its blocks.
"$ERIS" put -q --store "$STORE-3" "$W/f" >/dev/null
name=$(refs "$P-3" | head -n 1)
[ ${#name} = 52 ] || fail "object name \"$name\""
head -c 32768 /dev/urandom >"$W/junk"
s3curl -o /dev/null -T "$W/junk" "$AWS_ENDPOINT_URL/$BUCKET/$P-3/$name" ||
	fail "overwriting $P-3/$name"
rc=0
"$ERIS" get --store "$STORE-3" "$URN" >/dev/null 2>"$W/e" || rc=$?
[ "$rc" = 1 ] || fail "corrupt object: exit $rc, $(cat "$W/e")"
grep -q "R3.*$name" "$W/e" || fail "corrupt object: $(cat "$W/e")"
rc=0
"$ERIS" store fsck --store "$STORE-3" >"$W/fsck" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "fsck passed a corrupt block"
grep -q ' 1 bad' "$W/fsck" || fail "fsck said $(cat "$W/fsck")"

# Wrong credentials: refused, clearly, and nothing secret printed.
for cmd in get put; do
	rc=0
	if [ $cmd = get ]; then
		AWS_SECRET_ACCESS_KEY=wrong-secret-0123456789 \
			"$ERIS" get --store "$STORE" -o "$W/h" "$URN" 2>"$W/e" || rc=$?
	else
		AWS_SECRET_ACCESS_KEY=wrong-secret-0123456789 \
			"$ERIS" put --store "$STORE-w" "$W/f" >/dev/null 2>"$W/e" || rc=$?
	fi
	[ "$rc" = 5 ] || fail "$cmd with a wrong secret: exit $rc: $(cat "$W/e")"
	grep -q "access denied (HTTP 403" "$W/e" || fail "$cmd: $(cat "$W/e")"
	nosecret "$W/e" "$cmd"
	if grep -q "wrong-secret" "$W/e"; then
		fail "$cmd: the secret in $(cat "$W/e")"
	fi
done
echo "ok: $STORE"
