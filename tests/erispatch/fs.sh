#!/usr/bin/env bash
# fs.sh - `erispatch hook` writes nix-support/eris-fs, the ERIS-FS URN of
# each whole output, on packages gcc builds here: a library with its
# version links, a program using it, a script, an empty file, a document,
# a link into another store path (absolute) and a second output.
#  - the file is one URN and a newline;
#  - `eris ls` of that URN lists every file of the output but
#    nix-support/eris-fs; `eris get -r` reproduces the output byte for
#    byte (links and execute bits too), patched files included;
#  - `eris put -r` of the output without nix-support/eris-fs gives the
#    same URN (the image is the tree as installed, by eris's own rules);
#  - a second hook run leaves it alone; building and hooking again from
#    scratch, with or without ERIS_STORE, gives the same URN;
#  - `erispatch pack` of the output directory packs the image (index
#    and files; a bundle that eris import + get -r turn back into the
#    output), and refuses a tree changed since the hook;
#  - --no-fs writes none; a FIFO in an output fails the hook with a
#    message naming it, and leaves no eris-fs.
set -euo pipefail
here=${BASH_SOURCE[0]%/*}
[ "$here" != "${BASH_SOURCE[0]}" ] || here=.
. "$here/common.sh" || exit 1

S=$T/nix/store
SRC=$T/src
mkdir -p "$S" "$SRC"
umask 022

cat >"$SRC/foo.c" <<'EOF'
int foo(int x) { return x * 6; }
EOF
cat >"$SRC/main.c" <<'EOF'
#include <stdio.h>
int foo(int);
int main(void) { printf("%d\n", foo(7)); return 0; }
EOF

# build OUT DEV: the package's two outputs, from scratch.
build() {
    local out=$1 dev=$2
    rm -rf "$out" "$dev"
    mkdir -p "$out/lib" "$out/bin" "$out/share/doc/pkg" "$out/libexec" \
        "$dev/include"
    gcc -shared -fPIC -Wl,-soname,libfoo.so.1 -o "$out/lib/libfoo.so.1.0" \
        "$SRC/foo.c"
    ln -s libfoo.so.1.0 "$out/lib/libfoo.so.1"
    ln -s libfoo.so.1 "$out/lib/libfoo.so"
    gcc -o "$out/bin/answer" "$SRC/main.c" -L"$out/lib" -lfoo
    printf '#!/bin/sh\nexec "$(dirname "$0")/answer"\n' >"$out/bin/wrapper"
    chmod 755 "$out/bin/wrapper"
    printf 'The answer.\n' >"$out/share/doc/pkg/README"
    : >"$out/share/doc/pkg/EMPTY"
    # Absolute, into another store path, dangling here: as in Nix.
    ln -s "$S/00000000000000000000000000000000-bash-5.2/bin/bash" \
        "$out/libexec/sh"
    printf 'int foo(int);\n' >"$dev/include/foo.h"
}

OUT=$S/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-pkg-1.0
DEV=$S/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-pkg-1.0-dev
STORE=dir:$T/blocks
build "$OUT" "$DEV"
ERIS_STORE=$STORE "$ERISPATCH" hook --ignore libc.so.6 --output "$OUT" --output "$DEV" \
    2>"$T/hook.err" || fail "hook failed: $(cat "$T/hook.err")"

# One line: the URN and a newline.
for o in "$OUT" "$DEV"; do
    f=$o/nix-support/eris-fs
    [ -f "$f" ] || fail "no $f"
    [ "$(wc -l <"$f")" = 1 ] || fail "$f: not one line: $(cat "$f")"
    grep -qE '^urn:eris:[A-Z2-7]{106}$' "$f" || fail "$f: not a URN: $(cat "$f")"
    [ -f "$o/nix-support/eris-manifest.json" ] || fail "no manifest in $o"
done
urn=$(cat "$OUT/nix-support/eris-fs")
devurn=$(cat "$DEV/nix-support/eris-fs")
[ "$urn" != "$devurn" ] || fail "both outputs have the same URN"
# The program was patched: its library is named by URN.
needed_of "$OUT/bin/answer" | grep -q '^urn:eris:' ||
    fail "bin/answer was not patched: $(needed_of "$OUT/bin/answer")"

# ls lists every path of the output but nix-support/eris-fs.
(cd "$OUT" && find . ! -type d ! -path ./nix-support/eris-fs | sed 's|^\./||' |
    LC_ALL=C sort) >"$T/want.ls"
"$ERIS" ls --store "$STORE" --allow-external-links "$urn" | LC_ALL=C sort \
    >"$T/got.ls" || fail "eris ls $urn failed"
diff -u "$T/want.ls" "$T/got.ls" || fail "eris ls does not list the output"
grep -qx 'libexec/sh' "$T/got.ls" || fail "the absolute link is missing"
"$ERIS" ls -l --store "$STORE" --allow-external-links "$urn" >"$T/long.ls"
grep -qE "^exec .* bin/answer$" "$T/long.ls" || fail "bin/answer not exec: $(cat "$T/long.ls")"
grep -qE "^link .* libexec/sh -> $S/0+-bash-5.2/bin/bash$" "$T/long.ls" ||
    fail "libexec/sh: $(cat "$T/long.ls")"

# get -r reproduces the output byte for byte, links unfollowed.
"$ERIS" get -r --store "$STORE" --allow-external-links "$urn" -o "$T/got" \
    2>"$T/get.err" || fail "eris get -r failed: $(cat "$T/get.err")"
diff -r --no-dereference -x eris-fs "$OUT" "$T/got" ||
    fail "eris get -r differs from the output"
[ ! -e "$T/got/nix-support/eris-fs" ] || fail "the image holds nix-support/eris-fs"
for f in bin/answer bin/wrapper; do
    [ -x "$T/got/$f" ] || fail "$f lost its execute bit"
done
[ ! -x "$T/got/share/doc/pkg/README" ] || fail "README became executable"
[ "$(readlink "$T/got/lib/libfoo.so")" = libfoo.so.1 ] || fail "lib/libfoo.so link"
"$ERIS" get -r --store "$STORE" --allow-external-links "$devurn" -o "$T/gotdev" ||
    fail "eris get -r of the dev output failed"
diff -r --no-dereference -x eris-fs "$DEV" "$T/gotdev" || fail "dev output differs"

# The same URN as eris put -r of the output without nix-support/eris-fs.
cp -a "$OUT" "$T/copy"
rm "$T/copy/nix-support/eris-fs"
again=$("$ERIS" put -r --store mem: --allow-external-links "$T/copy" 2>/dev/null) ||
    fail "eris put -r of the copy failed"
[ "$again" = "$urn" ] || fail "eris put -r gives $again, the hook wrote $urn"

# A second run leaves everything as it is.
cp "$OUT/nix-support/eris-fs" "$T/first"
ERIS_STORE=$STORE "$ERISPATCH" hook --ignore libc.so.6 --output "$OUT" --output "$DEV" 2>"$T/err2" ||
    fail "second hook run failed: $(cat "$T/err2")"
cmp -s "$T/first" "$OUT/nix-support/eris-fs" || fail "second run changed eris-fs"

# pack of the output directory: the image, checked against eris-fs.
"$ERISPATCH" pack --bundle "$T/tree.cbor" "$OUT" 2>"$T/perr" ||
    fail "pack --bundle failed: $(cat "$T/perr")"
"$ERIS" import --store "dir:$T/imported" "$T/tree.cbor" >"$T/imported.urns" ||
    fail "eris import of the bundle failed"
grep -qxF "$urn" "$T/imported.urns" || fail "the bundle lacks the index URN"
"$ERIS" get -r --store "dir:$T/imported" --allow-external-links "$urn" \
    -o "$T/fromb" || fail "eris get -r from the bundle failed"
diff -r --no-dereference -x eris-fs "$OUT" "$T/fromb" || fail "the bundle's tree differs"
"$ERISPATCH" pack --tar "$T/tree.tar" "$OUT" 2>"$T/perr" ||
    fail "pack --tar failed: $(cat "$T/perr")"
{ echo "$urn"; awk '$1 != "link" { print $3 }' "$T/long.ls"; } | LC_ALL=C sort -u \
    >"$T/want.tar"
tar -tf "$T/tree.tar" | LC_ALL=C sort >"$T/got.tar"
diff -u "$T/want.tar" "$T/got.tar" || fail "the tar does not hold the index and files"
tar -xOf "$T/tree.tar" "$urn" | head -c 7 | od -An -tx1 | tr -d ' \n' >"$T/magic"
[ "$(cat "$T/magic")" = da657269748201 ] || fail "the index member: $(cat "$T/magic")"
# A tree changed after the hook no longer matches.
cp -a "$OUT" "$T/changed"
printf 'changed\n' >>"$T/changed/share/doc/pkg/README"
expect_failure "the tree no longer gives the URN" \
    "$ERISPATCH" pack --tar "$T/bad.tar" "$T/changed"
[ ! -e "$T/bad.tar" ] || fail "a failed pack left $T/bad.tar"
expect_failure "no nix-support/eris-fs" "$ERISPATCH" pack --tar "$T/bad.tar" "$SRC"

# Built again from scratch, hooked without a store: the same URNs.
build "$OUT" "$DEV"
"$ERISPATCH" hook --ignore libc.so.6 --output "$OUT" --output "$DEV" 2>"$T/err3" ||
    fail "hook without a store failed: $(cat "$T/err3")"
[ "$(cat "$OUT/nix-support/eris-fs")" = "$urn" ] ||
    fail "rebuilt: $(cat "$OUT/nix-support/eris-fs"), first $urn"
[ "$(cat "$DEV/nix-support/eris-fs")" = "$devurn" ] || fail "rebuilt dev output differs"

# --no-fs: a manifest, no eris-fs.
build "$OUT" "$DEV"
"$ERISPATCH" hook --ignore libc.so.6 --no-fs --output "$OUT" 2>"$T/err4" ||
    fail "hook --no-fs failed: $(cat "$T/err4")"
[ -f "$OUT/nix-support/eris-manifest.json" ] || fail "--no-fs: no manifest"
[ ! -e "$OUT/nix-support/eris-fs" ] || fail "--no-fs wrote eris-fs"

# Something ERIS-FS cannot hold: the hook fails, naming it.
build "$OUT" "$DEV"
mkfifo "$OUT/share/fifo"
expect_failure "share/fifo: a FIFO" "$ERISPATCH" hook --ignore libc.so.6 --output "$OUT"
grep -qF "ERIS-FS image of $OUT" "$T/err" || fail "message: $(cat "$T/err")"
[ ! -e "$OUT/nix-support/eris-fs" ] || fail "eris-fs written despite the FIFO"

echo "PASS"
