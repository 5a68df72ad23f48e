#!/usr/bin/env bash
# fuse.sh - the boot store end to end. gcc builds two packages here: a
# library (no SONAME) and a program linked against it by absolute path, as
# a Nix package would be. `erispatch hook` patches them with ERIS_STORE set
# to a fresh store (a directory store, then an sqlite store), so the
# program's DT_NEEDED is the library's URN and the blocks of both land in
# the store. The packages are then deleted, eris-fuse mounts the store, and
# the program is run from the mount by its URN with LD_LIBRARY_PATH at the
# mount: the dynamic loader loads the library from the mount by URN.
# Without LD_LIBRARY_PATH at the mount, the library cannot be found.
#
# Expects EFUSE (eris-fuse) besides ERISPATCH and ERIS.
# Exits 77 when FUSE cannot be used here.
set -euo pipefail
here=${BASH_SOURCE[0]%/*}
[ "$here" != "${BASH_SOURCE[0]}" ] || here=.
. "$here/common.sh" || exit 1
export LC_ALL=C

skip() {
    echo "SKIP: $*" >&2
    exit 77
}
[ -c /dev/fuse ] || skip "/dev/fuse is not available"
command -v fusermount3 >/dev/null || skip "fusermount3 is not installed (fuse3)"

mnt=$T/mnt log=$T/eris-fuse.log
fuse_pid=''
mounted() { grep -qF " $mnt fuse" /proc/mounts; }
cleanup() {
    if mounted 2>/dev/null; then
        fusermount3 -u -z "$mnt" 2>/dev/null || true
    fi
    [ -z "$fuse_pid" ] || kill -9 "$fuse_pid" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
mkdir "$mnt" "$T/empty"
export HOME=$T/home XDG_DATA_HOME=$T/data
unset ERIS_STORE LD_LIBRARY_PATH

# mount_store STORE: eris-fuse in the foreground; wait (60 s at most) for
# the mount to appear.
mount_store() {
    : >"$log"
    "$EFUSE" --store "$1" "$mnt" -f 2>"$log" &
    fuse_pid=$!
    for _ in $(seq 600); do
        mounted && return 0
        if ! kill -0 "$fuse_pid" 2>/dev/null; then
            wait "$fuse_pid" || true
            fuse_pid=''
            if grep -qi "fuse: device not found\|permission denied\|operation not permitted\|fusermount3:" "$log"; then
                skip "cannot mount here: $(head -n 3 "$log")"
            fi
            fail "eris-fuse exited before mounting: $(cat "$log")"
        fi
        sleep 0.1
    done
    fail "eris-fuse did not mount within 60 s: $(cat "$log")"
}

# unmount_store: fusermount3 -u, after which eris-fuse must exit 0.
unmount_store() {
    fusermount3 -u "$mnt" || fail "fusermount3 -u failed"
    local rc=0
    wait "$fuse_pid" || rc=$?
    fuse_pid=''
    [ "$rc" -eq 0 ] || fail "eris-fuse exited $rc after unmount: $(cat "$log")"
    ! mounted || fail "still mounted after unmount"
}

cat >"$T/greet.c" <<'C'
int greet(int n) { return 6 * n; }
C
cat >"$T/main.c" <<'C'
#include <stdio.h>
int greet(int n);
int main(int argc, char **argv) {
    (void)argv;
    printf("hello from the boot store: %d\n", greet(argc + 5));
    return 0;
}
C

# boot_store KIND STORE: build, patch, delete the packages, mount, run.
boot_store() {
    local kind=$1 store=$2
    local S=$T/$kind/nix/store
    local LIB=$S/1111-libgreet APP=$S/2222-greeter
    mkdir -p "$LIB/lib" "$APP/bin"

    # No SONAME: the program's DT_NEEDED is the library's absolute path.
    gcc -shared -fPIC -o "$LIB/lib/libgreet.so" "$T/greet.c" ||
        fail "cannot build the library"
    gcc -o "$APP/bin/greeter" "$T/main.c" "$LIB/lib/libgreet.so" ||
        fail "cannot build the program"
    assert_needed "$APP/bin/greeter" "$LIB/lib/libgreet.so" libc.so.6

    # The fixup phase of each package, the library's first.
    ERIS_STORE=$store "$ERISPATCH" hook --output "$LIB" --ignore libc.so.6 ||
        fail "$kind: erispatch hook (library) failed"
    ERIS_STORE=$store "$ERISPATCH" hook --output "$APP" --input "$LIB" \
        --ignore libc.so.6 || fail "$kind: erispatch hook (program) failed"

    # The URNs, from the program's manifest; checked against `eris sum`.
    local m=$APP/nix-support/eris-manifest.json urn_prog urn_lib
    urn_prog=$(jq -r --arg p "$APP/bin/greeter" '.[$p].cap' "$m")
    urn_lib=$(jq -r --arg p "$APP/bin/greeter" --arg l "$LIB/lib/libgreet.so" \
        '.[$p].closure[$l]' "$m")
    [[ $urn_prog == urn:eris:* ]] || fail "$kind: no URN for the program in $(cat "$m")"
    [[ $urn_lib == urn:eris:* ]] || fail "$kind: no URN for the library in $(cat "$m")"
    [ "$(urn_of "$APP/bin/greeter")" = "$urn_prog" ] || fail "$kind: program URN"
    [ "$(urn_of "$LIB/lib/libgreet.so")" = "$urn_lib" ] || fail "$kind: library URN"
    assert_needed "$APP/bin/greeter" "$urn_lib" libc.so.6

    # From now on only the store holds the files.
    rm -rf "$T/$kind/nix"

    mount_store "$store"
    local prog=$mnt/$urn_prog out rc

    # The program as read from the mount needs its library by URN.
    [ -x "$prog" ] || fail "$kind: $prog is not executable"
    assert_needed "$prog" "$urn_lib" libc.so.6

    # Run from the mount by its URN, the library loaded from the mount.
    out=$(LD_LIBRARY_PATH=$mnt "$prog" a b 2>"$T/err") ||
        fail "$kind: the program failed from the mount: $(cat "$T/err")"
    [ "$out" = "hello from the boot store: 48" ] ||
        fail "$kind: the program printed '$out'"
    LD_DEBUG=libs LD_LIBRARY_PATH=$mnt "$prog" >/dev/null 2>"$T/debug" ||
        fail "$kind: the program failed under LD_DEBUG"
    grep -qF "calling init: $mnt/$urn_lib" "$T/debug" ||
        fail "$kind: the library was not loaded from the mount: $(cat "$T/debug")"
    echo "$kind: program run from the mount by URN, library loaded by URN: ok"

    # Without LD_LIBRARY_PATH at the mount the loader cannot find it.
    for where in unset "$T/empty"; do
        rc=0
        if [ "$where" = unset ]; then
            "$prog" >/dev/null 2>"$T/err" || rc=$?
        else
            LD_LIBRARY_PATH=$where "$prog" >/dev/null 2>"$T/err" || rc=$?
        fi
        [ "$rc" -eq 127 ] ||
            fail "$kind: LD_LIBRARY_PATH $where: exited $rc, expected 127: $(cat "$T/err")"
        grep -qF "$urn_lib: cannot open shared object file" "$T/err" ||
            fail "$kind: LD_LIBRARY_PATH $where: unexpected error: $(cat "$T/err")"
    done
    echo "$kind: library not found without the mount: ok"

    unmount_store
}

boot_store dir "dir:$T/dir/blocks"
boot_store sqlite "sqlite:$T/sqlite/store.sqlite"
echo "1 passed, 0 failed"
