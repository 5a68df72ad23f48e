#!/usr/bin/env bash
# hook.sh - erispatch's setup hook in an emulated Nix stdenv fixup phase
# (runHook with preFixup/fixupOutput/postFixup hook arrays, $outputs,
# $buildInputs) over packages gcc builds here: a library (libfoo), a
# package with two outputs holding a library linked by absolute path, a
# library with versioned symbols, a program using them and a 32-bit
# program found through RUNPATH $ORIGIN, a package depending on those
# from outside, a big-endian package, and packages that must fail (a
# dependency cycle, a missing library, a malformed ELF file).
#
# Expects SETUP_HOOK (erispatch/setup-hook.sh) besides ERISPATCH and ERIS.
set -euo pipefail
here=${BASH_SOURCE[0]%/*}
[ "$here" != "${BASH_SOURCE[0]}" ] || here=.
. "$here/common.sh" || exit 1

PATH="$(dirname "$ERISPATCH"):$PATH"
S=$T/nix/store
mkdir -p "$S" "$T/src" "$T/urns"
cd "$T/src"

# ---- stdenv emulation -------------------------------------------------
_eval() {
    if declare -F "$1" >/dev/null; then "$@"; else eval "$1"; fi
}
runHook() {
    local hookName=$1 hook
    shift
    local hooks="${hookName}Hooks[@]"
    # Failures propagate even where `set -e` is suspended (`fixup || ...`).
    if declare -F "$hookName" >/dev/null; then "$hookName" "$@" || return; fi
    for hook in ${!hooks+"${!hooks}"}; do
        _eval "$hook" "$@" || return
    done
}
stripDebug() { # a fixupOutput hook that rewrites ELF files, like _doStrip
    find "$prefix" -type f -name '*.so*' -exec strip --strip-debug {} +
}
fixupPhase() {
    local output
    for output in $outputs; do chmod -R u+w "${!output}"; done
    runHook preFixup || return
    for output in $outputs; do
        prefix=${!output} runHook fixupOutput || return
    done
    runHook postFixup
}
# fixup PKG-SCRIPT: run the fixup phase in a subshell with the package's
# variables, as a derivation's builder would.
fixup() (
    preFixupHooks=()
    fixupOutputHooks=(stripDebug)
    postFixupHooks=()
    buildInputs=""
    # shellcheck disable=SC1090
    . "$SETUP_HOOK"
    eval "$1"
    fixupPhase
)

# The manifest's schema, exactly: path -> {cap, closure: path -> URN}.
check_manifest() {
    local m=$1
    [ -f "$m" ] || fail "no manifest $m"
    jq -e '
      def urn: type == "string" and test("^urn:eris:[A-Z2-7]{106}$");
      type == "object" and all(to_entries[];
        (.key | startswith("/")) and (.value | type == "object") and
        (.value | keys == ["cap", "closure"]) and (.value.cap | urn) and
        (.value.closure | type == "object") and
        all(.value.closure | to_entries[];
            (.key | startswith("/")) and (.value | urn)))' "$m" >/dev/null ||
        fail "$m does not match the schema: $(cat "$m")"
    # Every URN is that of the file as it is now.
    local path urn
    while read -r path urn; do
        [ "$(urn_of "$path")" = "$urn" ] || fail "$m: wrong URN for $path"
        ln -sf "$path" "$T/urns/$urn"
    done < <(jq -r 'to_entries[] | (.key + " " + .value.cap),
                    (.value.closure | to_entries[] | .key + " " + .value)' "$m")
}
closure_keys() { jq -r --arg p "$2" '.[$p].closure | keys[]' "$1"; }
cap_of() { jq -r --arg p "$2" '.[$p].cap' "$1"; }

cat >foo.c <<'C'
int foo(void) { return 42; }
C
cat >abs.c <<'C'
int absval(void) { return 7; }
C
cat >ver.c <<'C'
int foo(void);
int bar_v1(void) { return 1; }
int bar_v2(void) { return foo() + 1; }
__asm__(".symver bar_v1,bar@V1");
__asm__(".symver bar_v2,bar@@V2");
C
printf 'V1 { global: bar; local: *; };\nV2 { global: bar; } V1;\n' >ver.map
cat >prog.c <<'C'
#include <stdio.h>
int bar(void);
int absval(void);
int main(void) { printf("abs=%d bar=%d\n", absval(), bar()); return 0; }
C
cat >prog32.c <<'C'
#include <stdio.h>
int foo(void);
int main(void) { printf("foo=%d\n", foo()); return 0; }
C

# ---- package 1: libfoo --------------------------------------------------
FOO=$S/aaaa-libfoo
mkdir -p "$FOO/lib"
gcc -g -shared -fPIC -o "$FOO/lib/libfoo.so" foo.c -Wl,-soname,libfoo.so
fixup 'outputs=out; out=$FOO; erisPatchIgnore="libc.so.6"'
check_manifest "$FOO/nix-support/eris-manifest.json"
[ "$(jq -r 'keys[]' "$FOO/nix-support/eris-manifest.json")" = "$FOO/lib/libfoo.so" ] ||
    fail "libfoo's manifest: $(cat "$FOO/nix-support/eris-manifest.json")"
check_elf "$FOO/lib/libfoo.so"

# ---- package 2: app, outputs out and lib ------------------------------
APP=$S/bbbb-app
APPLIB=$S/cccc-app-lib
mkdir -p "$APP/bin" "$APP/lib32" "$APPLIB/lib"
gcc -g -shared -fPIC -o "$APPLIB/lib/libabs.so" abs.c # no soname
gcc -g -shared -fPIC -o "$APPLIB/lib/libver.so.1" ver.c \
    -Wl,--version-script=ver.map -Wl,-soname,libver.so.1 -L"$FOO/lib" -lfoo
ln -s libver.so.1 "$APPLIB/lib/libver.so"
# libabs.so by absolute path, libver.so.1 by name (found in output lib).
gcc -o "$APP/bin/prog" prog.c "$APPLIB/lib/libabs.so" "$APPLIB/lib/libver.so.1" \
    -Wl,-rpath-link,"$FOO/lib"
printf '#!/bin/sh\necho hello\n' >"$APP/bin/hello.sh"
chmod +x "$APP/bin/hello.sh"
gcc -c -o "$APP/lib32/object.o" foo.c # ELF, but neither program nor library
M32=0
if have_m32; then
    M32=1
    gcc -m32 -shared -fPIC -o "$APP/lib32/libfoo32.so" foo.c -Wl,-soname,libfoo32.so
    gcc -m32 -o "$APP/bin/prog32" prog32.c -L"$APP/lib32" -lfoo32 \
        -Wl,-rpath,'$ORIGIN/../lib32'
else
    echo "note: gcc -m32 cannot build and run programs here; 32-bit part skipped"
fi
assert_needed "$APP/bin/prog" "$APPLIB/lib/libabs.so" libver.so.1 libc.so.6
pre_ver=$(needed_of "$APPLIB/lib/libver.so.1")
echo "$pre_ver" | grep -qx libfoo.so || fail "libver.so.1 does not need libfoo.so"
cp -a "$APP/bin/hello.sh" "$T/hello.before"
cp -a "$APP/lib32/object.o" "$T/object.before"

# A later postFixup hook that rewrites ELF files: the worker registered at
# preFixup time must still run after it.
APP_PKG='outputs="out lib"; out=$APP; lib=$APPLIB; buildInputs="$FOO";
  erisPatchIgnore="libc.so.6"; erisPatchRemoveRpath=1;
  export ERIS_STORE=dir:$T/blocks;
  lateRewrite() { strip --strip-unneeded "$APP/bin/prog"; echo late >"$T/late"; }
  postFixupHooks+=(lateRewrite)'
fixup "$APP_PKG" 2>"$T/app.err" || fail "app fixup failed: $(cat "$T/app.err")"
[ -f "$T/late" ] || fail "the later postFixup hook did not run"
grep -qF "$APP/lib32/object.o: not an executable or shared object" "$T/app.err" ||
    fail "object.o not reported: $(cat "$T/app.err")"

MO=$APP/nix-support/eris-manifest.json
ML=$APPLIB/nix-support/eris-manifest.json
check_manifest "$MO"
check_manifest "$ML"
# Only ELF programs and libraries, each in its own output's manifest.
want_out="$APP/bin/prog"
[ "$M32" = 1 ] && want_out=$(printf '%s\n' "$APP/bin/prog" "$APP/bin/prog32" "$APP/lib32/libfoo32.so")
[ "$(jq -r 'keys[]' "$MO")" = "$want_out" ] || fail "out manifest keys: $(jq -r 'keys[]' "$MO")"
[ "$(jq -r 'keys[]' "$ML")" = "$(printf '%s\n' "$APPLIB/lib/libabs.so" "$APPLIB/lib/libver.so.1")" ] ||
    fail "lib manifest keys: $(jq -r 'keys[]' "$ML")"
cmp "$APP/bin/hello.sh" "$T/hello.before" || fail "a script was changed"
cmp "$APP/lib32/object.o" "$T/object.before" || fail "an object file was changed"
[ -L "$APPLIB/lib/libver.so" ] || fail "symlink replaced"

# DT_NEEDED are the URNs of the libraries as patched; RPATH removed.
for f in "$APP/bin/prog" "$APPLIB/lib/libabs.so" "$APPLIB/lib/libver.so.1"; do
    check_elf "$f"
done
[ "$(needed_of "$APPLIB/lib/libver.so.1")" = \
    "$(echo "$pre_ver" | sed "s/^libfoo\.so\$/$(urn_of "$FOO/lib/libfoo.so")/")" ] ||
    fail "libver.so.1: DT_NEEDED is $(needed_of "$APPLIB/lib/libver.so.1")"
assert_needed "$APP/bin/prog" "$(urn_of "$APPLIB/lib/libabs.so")" \
    "$(urn_of "$APPLIB/lib/libver.so.1")" libc.so.6
readelf -V -W "$APP/bin/prog" | grep -qF "File: $(urn_of "$APPLIB/lib/libver.so.1")" ||
    fail "prog's .gnu.version_r does not name libver's URN"

# Closures are transitive: prog -> libver -> libfoo (from another package).
[ "$(closure_keys "$MO" "$APP/bin/prog")" = "$(printf '%s\n' "$FOO/lib/libfoo.so" \
    "$APPLIB/lib/libabs.so" "$APPLIB/lib/libver.so.1")" ] ||
    fail "prog's closure: $(closure_keys "$MO" "$APP/bin/prog")"
[ "$(closure_keys "$ML" "$APPLIB/lib/libver.so.1")" = "$FOO/lib/libfoo.so" ] ||
    fail "libver's closure: $(closure_keys "$ML" "$APPLIB/lib/libver.so.1")"

# The patched programs run, loading their libraries by URN.
[ "$(LD_LIBRARY_PATH="$T/urns" "$APP/bin/prog")" = "abs=7 bar=43" ] ||
    fail "patched prog does not run"
if [ "$M32" = 1 ]; then
    check_elf "$APP/bin/prog32"
    assert_needed "$APP/bin/prog32" "$(urn_of "$APP/lib32/libfoo32.so")" libc.so.6
    if readelf -d "$APP/bin/prog32" | grep -qE 'RPATH|RUNPATH'; then
        fail "prog32 kept its RUNPATH"
    fi
    [ "$(LD_LIBRARY_PATH="$T/urns" "$APP/bin/prog32")" = "foo=42" ] ||
        fail "patched prog32 does not run"
fi

# ERIS_STORE received the blocks of every patched file.
"$ERIS" get -q --store "dir:$T/blocks" -o "$T/prog.out" "$(cap_of "$MO" "$APP/bin/prog")"
cmp "$T/prog.out" "$APP/bin/prog" || fail "prog from the store differs"

# Idempotent: a second fixup leaves everything as it is.
(cd "$S" && find . -type f -exec md5sum {} + | sort) >"$T/before.sums"
# (Without the stripping hooks, which would rewrite the files themselves.)
fixup "$APP_PKG; fixupOutputHooks=(); postFixupHooks=()" 2>"$T/app2.err" ||
    fail "second fixup failed: $(cat "$T/app2.err")"
grep -q "not running again" "$T/app2.err" || fail "second run: $(cat "$T/app2.err")"
(cd "$S" && find . -type f -exec md5sum {} + | sort) >"$T/after.sums"
diff "$T/before.sums" "$T/after.sums" || fail "second fixup changed files"

# ---- package 3: tool, depends on app's lib from outside ---------------
TOOL=$S/dddd-tool
mkdir -p "$TOOL/bin"
cp -a "$T/src/prog.c" tool.c
# Linked against app's patched libraries (ld finds their URN-named
# dependencies through the URN directory); resolved through $buildInputs.
gcc -o "$TOOL/bin/tool" tool.c "$APPLIB/lib/libabs.so" "$APPLIB/lib/libver.so.1" \
    -Wl,-rpath-link,"$T/urns"
# (buildInputs as an array, as with __structuredAttrs)
fixup 'outputs=out; out=$TOOL; buildInputs=("$APPLIB" "$FOO"); erisPatchIgnore=libc.so.6' ||
    fail "tool fixup failed"
MT=$TOOL/nix-support/eris-manifest.json
check_manifest "$MT"
closure_keys "$MT" "$TOOL/bin/tool" | grep -qx "$FOO/lib/libfoo.so" ||
    fail "tool's closure lacks libfoo (merged from app-lib's manifest)"
check_elf "$TOOL/bin/tool"
[ "$(LD_LIBRARY_PATH="$T/urns" "$TOOL/bin/tool")" = "abs=7 bar=43" ] ||
    fail "patched tool does not run"

# ---- package 4: big endian (powerpc) ------------------------------------
BE=$S/eeee-be
mkdir -p "$BE/bin" "$BE/lib"
printf '\t.text\n\t.globl answer\n\t.type answer,@function\nanswer:\n\tli 3,42\n\tblr\n' >lib.s
printf '\t.text\n\t.globl _start\n_start:\n\tli 0,1\n\tsc\n' >main.s
powerpc-linux-gnu-as -o lib.o lib.s
powerpc-linux-gnu-ld --secure-plt -shared -soname libanswer.so -o "$BE/lib/libanswer.so" lib.o
powerpc-linux-gnu-as -o main.o main.s
powerpc-linux-gnu-ld --secure-plt -o "$BE/bin/be" main.o --no-as-needed \
    -L"$BE/lib" -lanswer --dynamic-linker /lib/ld.so.1
fixup 'outputs=out; out=$BE; erisPatchGenode=1; stripDebug() { :; }' || fail "be fixup failed"
check_manifest "$BE/nix-support/eris-manifest.json"
check_elf "$BE/bin/be"
readelf -h "$BE/bin/be" | grep -q 'big endian' || fail "be is not big endian"
assert_needed "$BE/bin/be" "$(urn_of "$BE/lib/libanswer.so")"

# ---- dontErisPatch -----------------------------------------------------
OFF=$S/ffff-off
mkdir -p "$OFF/lib"
cp "$T/src/foo.c" off.c
gcc -shared -fPIC -o "$OFF/lib/liboff.so" off.c -Wl,--no-as-needed -L"$FOO/lib" -lfoo
fixup 'outputs=out; out=$OFF; dontErisPatch=1; stripDebug() { :; }'
[ ! -e "$OFF/nix-support" ] || fail "dontErisPatch still wrote a manifest"
needed_of "$OFF/lib/liboff.so" | grep -qx libfoo.so || fail "dontErisPatch patched"

# ---- failures: nothing is changed -------------------------------------
snapshot() { (cd "$1" && find . -type f -exec md5sum {} + | sort); }

# A dependency cycle names the files.
CYC=$S/gggg-cyc
mkdir -p "$CYC/lib"
echo 'int a(void) { return 1; }' >a.c
echo 'int b(void) { return 2; }' >b.c
gcc -shared -fPIC -o "$CYC/lib/libb.so" b.c -Wl,-soname,libb.so
gcc -shared -fPIC -o "$CYC/lib/liba.so" a.c -Wl,-soname,liba.so -Wl,--no-as-needed -L"$CYC/lib" -lb
gcc -shared -fPIC -o "$CYC/lib/libb.so" b.c -Wl,-soname,libb.so -Wl,--no-as-needed -L"$CYC/lib" -la
snapshot "$CYC" >"$T/cyc.before"
if fixup 'outputs=out; out=$CYC; erisPatchIgnore=libc.so.6; stripDebug() { :; }' 2>"$T/cyc.err"; then
    fail "a dependency cycle was accepted"
fi
grep -q "dependency cycle among:.*$CYC/lib/liba.so.*$CYC/lib/libb.so" "$T/cyc.err" ||
    fail "cycle message: $(cat "$T/cyc.err")"
snapshot "$CYC" | diff "$T/cyc.before" - || fail "files changed after a cycle"

# A library that resolves nowhere, unless ignored.
MISS=$S/hhhh-miss
mkdir -p "$MISS/bin" "$T/gone"
gcc -shared -fPIC -o "$T/gone/libgone.so" foo.c -Wl,-soname,libgone.so
gcc -o "$MISS/bin/miss" prog32.c -L"$T/gone" -lgone
snapshot "$MISS" >"$T/miss.before"
if fixup 'outputs=out; out=$MISS; erisPatchIgnore=libc.so.6; stripDebug() { :; }' 2>"$T/miss.err"; then
    fail "an unresolvable library was accepted"
fi
grep -qF "$MISS/bin/miss: cannot find libgone.so" "$T/miss.err" ||
    fail "missing-library message: $(cat "$T/miss.err")"
snapshot "$MISS" | diff "$T/miss.before" - || fail "files changed after a missing library"
fixup 'outputs=out; out=$MISS; erisPatchIgnore="libc.so.6 libgone.so"; stripDebug() { :; }' ||
    fail "ignored library still fails"
assert_needed "$MISS/bin/miss" libgone.so libc.so.6
check_manifest "$MISS/nix-support/eris-manifest.json"

# A malformed shared object in an output: the hook fails before changing
# anything.
BAD=$S/iiii-bad
mkdir -p "$BAD/lib"
gcc -shared -fPIC -o "$BAD/lib/libok.so" abs.c -L"$FOO/lib" -lfoo
head -c 2500 "$FOO/lib/libfoo.so" >"$BAD/lib/libbroken.so"
snapshot "$BAD" >"$T/bad.before"
if fixup 'outputs=out; out=$BAD; buildInputs=$FOO; erisPatchIgnore=libc.so.6; stripDebug() { :; }' \
    2>"$T/bad.err"; then
    fail "a malformed ELF file was accepted"
fi
grep -qF "erispatch: $BAD/lib/libbroken.so: " "$T/bad.err" ||
    fail "malformed-file message: $(cat "$T/bad.err")"
snapshot "$BAD" | diff "$T/bad.before" - || fail "files changed after a malformed file"

# ---- the boot store: tar and bundle -----------------------------------
"$ERISPATCH" pack --tar "$T/boot.tar" "$MO" "$ML" "$MT"
"$ERISPATCH" pack --tar "$T/boot2.tar" "$MT" "$ML" "$MO"
cmp "$T/boot.tar" "$T/boot2.tar" || fail "the tar is not reproducible"
[ $(($(stat -c %s "$T/boot.tar") % 10240)) -eq 0 ] || fail "tar not padded to records"
[ "$(dd if="$T/boot.tar" bs=1 skip=257 count=8 status=none | od -An -c | tr -s ' ')" = \
    " u s t a r \0" ] || fail "not a GNU tar header"
want=$(jq -r '.[] | .cap, (.closure[])' "$MO" "$ML" "$MT" | sort -u)
[ "$(tar -tf "$T/boot.tar")" = "$want" ] || fail "tar members: $(tar -tf "$T/boot.tar")"
mkdir "$T/untar"
tar -xf "$T/boot.tar" -C "$T/untar"
for urn in $want; do
    cmp "$T/untar/$urn" "$T/urns/$urn" || fail "tar member $urn differs"
done

"$ERISPATCH" pack --bundle "$T/boot.cbor" "$MO" "$ML"
for urn in $(jq -r '.[] | .cap, (.closure[])' "$MO" "$ML" | sort -u); do
    "$ERIS" get -q --store "cbor:$T/boot.cbor" -o "$T/from-bundle" "$urn"
    cmp "$T/from-bundle" "$T/urns/$urn" || fail "bundle content $urn differs"
done

# A URN list works too, with content from a store when the file is gone.
printf 'prog %s\n' "$(cap_of "$MO" "$APP/bin/prog")" >"$T/list"
(cd "$T" && ERIS_STORE="dir:$T/blocks" "$ERISPATCH" pack --tar list.tar list)
tar -xOf "$T/list.tar" | cmp - "$APP/bin/prog" || fail "list pack from the store"
# Content that no longer matches its URN is refused.
cp "$MO" "$T/stale.json"
chmod u+w "$APP/bin/hello.sh"
jq --arg p "$APP/bin/hello.sh" --arg u "$(cap_of "$MO" "$APP/bin/prog")" \
    '. + {($p): {cap: $u, closure: {}}}' "$MO" >"$T/stale.json"
expect_failure "content does not match" "$ERISPATCH" pack --tar "$T/stale.tar" "$T/stale.json"
[ ! -e "$T/stale.tar" ] || fail "a failed pack left its output"
left=$(ls -A "$T" | grep -F stale.tar || true)
[ -z "$left" ] || fail "a failed pack left a temporary file: $left"

echo "hook tests passed"
