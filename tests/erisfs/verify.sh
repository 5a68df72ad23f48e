#!/bin/sh
# verify.sh - `eris verify` and `eris export` of an ERIS-FS URN: the
# index and every file it names. Per-file and total lines; a corrupted
# block of one file fails with exit 1 naming the file's path and R3; a
# missing one R1; --no-recurse checks or exports only the index itself;
# export brings the whole tree (a fresh store importing the bundle can
# extract it); a malformed index fails (exit 1) unless --no-recurse;
# plain content is verified as before.
#
# Usage: verify.sh ERIS
set -u
eris=$1
fails=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/eris-fs-verify-XXXXXX") || exit 1
trap 'chmod -R u+rwx "$tmp"; rm -rf "$tmp"' EXIT
ERIS_STORE=dir:$tmp/store
export ERIS_STORE

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# WANT-RC COMMAND...: run, keep stdout and stderr, check the exit status.
run() {
	want_rc=$1
	shift
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" = "$want_rc" ] ||
		fail "$*: exit $rc, expected $want_rc: $(cat "$tmp/out" "$tmp/err")"
}

# has FILE TEXT: FILE holds the line TEXT exactly.
has() {
	grep -qxF -- "$2" "$1" || fail "$1 lacks '$2': $(cat "$1")"
}

# block URN: the dir-store file of the root block of URN (one-block
# content: its only block).
block() {
	ref=$("$eris" info "$1" | sed -n 's/^Root reference: *//p')
	echo "$tmp/store/$(echo "$ref" | cut -c1-2)/$ref"
}

t=$tmp/tree
mkdir -p "$t/bin" "$t/share/doc"
printf 'one\n' >"$t/a"
printf '#!/bin/sh\necho two\n' >"$t/bin/prog"
chmod 755 "$t/bin/prog"
head -c 50000 /dev/urandom >"$t/share/big"
printf 'three\n' >"$t/share/doc/README"
ln -s ../a "$t/share/a-link"
ln -s /etc/hostname "$t/abs-link"
idx=$("$eris" put -q -r --allow-external-links "$t") || fail "put -r"

# 1. A sound tree: a line per file, then the total; links skipped.
run 0 "$eris" verify "$idx"
has "$tmp/out" "$idx/a: OK (1 blocks)"
has "$tmp/out" "$idx/bin/prog: OK (1 blocks)"
has "$tmp/out" "$idx/share/doc/README: OK (1 blocks)"
grep -q "^$idx/share/big: OK (" "$tmp/out" || fail "no line for share/big"
grep -q "^$idx: OK (index and 4 files, [0-9]* blocks)$" "$tmp/out" ||
	fail "no total line: $(cat "$tmp/out")"
[ "$(wc -l <"$tmp/out")" -eq 5 ] || fail "verify: not 5 lines: $(cat "$tmp/out")"
grep -q "link" "$tmp/out" && fail "a link was verified: $(cat "$tmp/out")"
# -q: nothing when all is well.
run 0 "$eris" verify -q "$idx"
[ -s "$tmp/out" ] && fail "verify -q printed: $(cat "$tmp/out")"
# --no-recurse: the index as plain content, one line.
run 0 "$eris" verify --no-recurse "$idx"
grep -q "^$idx: OK ([0-9]* blocks)$" "$tmp/out" || fail "--no-recurse: $(cat "$tmp/out")"
[ "$(wc -l <"$tmp/out")" -eq 1 ] || fail "--no-recurse: not 1 line"

# 2. export brings the closure: a new store importing it holds the tree.
run 0 "$eris" export -q -o "$tmp/tree.cbor" "$idx"
run 0 "$eris" import -q --store "dir:$tmp/store2" "$tmp/tree.cbor"
has "$tmp/out" "$idx"
run 0 "$eris" verify --store "dir:$tmp/store2" "$idx"
run 0 "$eris" get -r --allow-external-links --store "dir:$tmp/store2" "$idx" -o "$tmp/copy"
cmp "$t/share/big" "$tmp/copy/share/big" || fail "exported tree: big differs"
[ -x "$tmp/copy/bin/prog" ] || fail "exported tree: prog not executable"
# --no-recurse: only the index; its files are missing in the new store.
run 0 "$eris" export -q --no-recurse -o "$tmp/index.cbor" "$idx"
run 0 "$eris" import -q --store "dir:$tmp/store3" "$tmp/index.cbor"
run 1 "$eris" verify --store "dir:$tmp/store3" "$idx"
grep -q "^$idx/a: FAILED: .*R1" "$tmp/out" || fail "store3: $(cat "$tmp/out")"
has "$tmp/out" "$idx: FAILED: 4 of 4 files"
[ "$(stat -c %s "$tmp/index.cbor")" -lt "$(stat -c %s "$tmp/tree.cbor")" ] ||
	fail "--no-recurse bundle is not smaller"

# 3. A corrupted block of one file: exit 1, the path and R3 named, the
# other files still OK.
readme=$("$eris" ls -l --allow-external-links "$idx" | awk '$NF == "share/doc/README" { print $3 }')
blk=$(block "$readme")
[ -f "$blk" ] || fail "no block file $blk"
cp "$blk" "$tmp/saved"
printf 'X' | dd of="$blk" bs=1 seek=100 conv=notrunc status=none
run 1 "$eris" verify "$idx"
grep -q "^$idx/share/doc/README: FAILED: .*R3" "$tmp/out" ||
	fail "corrupt: no R3 line for README: $(cat "$tmp/out")"
has "$tmp/out" "$idx/a: OK (1 blocks)"
has "$tmp/out" "$idx: FAILED: 1 of 4 files"
grep -q "1 of 1 URN FAILED" "$tmp/err" || fail "corrupt: stderr: $(cat "$tmp/err")"
run 1 "$eris" verify -q "$idx"
[ "$(wc -l <"$tmp/out")" -eq 2 ] || fail "verify -q: not 2 lines: $(cat "$tmp/out")"
# The index alone is still sound.
run 0 "$eris" verify --no-recurse "$idx"
# export stops, naming the file.
run 1 "$eris" export -q -o "$tmp/bad.cbor" "$idx"
grep -q "$idx/share/doc/README: .*R3" "$tmp/err" || fail "export corrupt: $(cat "$tmp/err")"
[ -e "$tmp/bad.cbor" ] && fail "export left a bundle"
# A missing block: R1.
rm -f "$blk"
run 1 "$eris" verify "$idx"
grep -q "^$idx/share/doc/README: FAILED: .*R1" "$tmp/out" ||
	fail "missing: no R1 line: $(cat "$tmp/out")"
cp "$tmp/saved" "$blk"
run 0 "$eris" verify -q "$idx"

# 4. Plain content that starts like an index but is not one: it is
# checked as an index (exit 1, the parser's message and the hint),
# and --no-recurse checks it as plain content.
printf '\332erit\202\001\377' >"$tmp/fake"
fake=$("$eris" put -q "$tmp/fake") || fail "put fake"
run 1 "$eris" verify "$fake"
grep -q "^$fake: FAILED: index: ERIS-FS index, byte 7: indefinite length.*--no-recurse" "$tmp/out" ||
	fail "fake index: $(cat "$tmp/out")"
run 0 "$eris" verify --no-recurse "$fake"
run 1 "$eris" export -q -o "$tmp/fake.cbor" "$fake"
grep -q "no-recurse" "$tmp/err" || fail "export fake: $(cat "$tmp/err")"
run 0 "$eris" export -q --no-recurse -o "$tmp/fake.cbor" "$fake"

# 5. Plain content as before, also shorter than the magic.
printf 'hi' >"$tmp/short"
short=$("$eris" put -q "$tmp/short")
run 0 "$eris" verify "$short"
has "$tmp/out" "$short: OK (1 blocks)"
# An index and plain content together: both checked, one status.
run 0 "$eris" verify -q "$short" "$idx"

if [ "$fails" -ne 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "ok"
