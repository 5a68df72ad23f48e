#!/bin/sh
# env.sh - the environment variables every program passes to liberis
# (cli/progenv.h): an unknown ERIS_BLAKE2B or ERIS_CHACHA20 is a usage
# error (exit 2) naming the valid values, before anything else is done;
# valid ones are accepted and do not change a result (every crypto path
# gives the same bytes).
#
# Usage: env.sh ERIS [OTHER-PROGRAM...]   (erisd, eris-fuse, erispatch)
set -u
eris=$1
fails=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/eris-env-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# PROGRAM VAR VALUE WANT: exit 2 and a message holding WANT.
refused() {
	env "$2=$3" "$1" --version >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" = 2 ] || fail "$2=$3 $1 --version: exit $rc, expected 2"
	grep -qF -- "$4" "$tmp/err" ||
		fail "$2=$3 $1: message lacks '$4': $(cat "$tmp/err")"
	[ -s "$tmp/out" ] && fail "$2=$3 $1: printed $(cat "$tmp/out")"
}

for prog in "$@"; do
	name=$(basename "$prog")
	refused "$prog" ERIS_BLAKE2B avx3 "valid: portable, avx2, avx512"
	refused "$prog" ERIS_CHACHA20 openssl "valid: libsodium"
	grep -qF "$name: environment:" "$tmp/err" ||
		fail "$name: message not prefixed '$name: environment:'"
	ERIS_BLAKE2B= ERIS_CHACHA20= "$prog" --version >/dev/null 2>&1 ||
		fail "$name: empty variables are not 'unset'"
done

head -c 300000 /dev/urandom >"$tmp/f"
want=$("$eris" sum "$tmp/f") || fail "eris sum"
for b2b in portable avx2 avx512; do
	for cc in "" libsodium; do
		got=$(ERIS_BLAKE2B=$b2b ERIS_CHACHA20=$cc ERIS_MODULE_PATH=/x:/y \
		      "$eris" sum "$tmp/f") ||
			fail "ERIS_BLAKE2B=$b2b ERIS_CHACHA20=$cc eris sum"
		[ "$got" = "$want" ] ||
			fail "ERIS_BLAKE2B=$b2b ERIS_CHACHA20=$cc: $got != $want"
	done
done

[ "$fails" = 0 ] && echo "all passed"
[ "$fails" = 0 ]
