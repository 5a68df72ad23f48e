#!/usr/bin/env bash
# outputs.sh - where erispatch writes (cli/outfile.c).
#
# `erispatch pack --tar` and `--bundle` onto: a character device (1,3)
# made here, a FIFO with a reader, a symbolic link to a regular file, a
# dangling link, /proc/self/fd/1 into a pipe, a regular file with mode
# 0640 and owner 1000:1000, and a read-only directory (as uid 65534).
# `erispatch patch` through a symbolic link, on a file with mode 0750 and
# owner 1000:1000, and in a read-only directory (as uid 65534).
#
# Root only (mknod, chown, setpriv): skipped (77) otherwise. Device nodes
# are made in the test's own directory, never in /dev.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
    echo "SKIP: outputs.sh must run as root (mknod, chown, setpriv)"
    exit 77
fi
for tool in setpriv mknod mkfifo stat cmp; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIP: $tool is not installed"
        exit 77
    fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/erispatch-outputs.XXXXXX")
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
chmod 755 "$T" # the unprivileged runs read the inputs through here
umask 022
unset ERIS_STORE
cd "$T"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# Run as uid/gid 65534 without supplementary groups. The build tree may
# sit where that user cannot reach it (under a 0700 directory), so the
# unprivileged runs use copies of erispatch and liberis in $T/bin.
mkdir "$T/bin"
cp "$ERISPATCH" "$T/bin/erispatch"
cp "$LIBERIS" "$T/bin/liberis.so.1"
chmod 755 "$T/bin" "$T/bin/erispatch"
chmod 644 "$T/bin/liberis.so.1"
as_nobody() {
    setpriv --reuid=65534 --regid=65534 --clear-groups \
        env LD_LIBRARY_PATH="$T/bin" "$@"
}

# The entries of a directory, hidden ones included, on one line.
entries() {
    ls -A "$1" | tr '\n' ' '
}

# ---- pack ---------------------------------------------------------------

head -c 70000 /dev/urandom >content
printf '%s/content %s\n' "$T" "$("$ERIS" sum content | cut -d' ' -f1)" >list
"$ERISPATCH" pack --tar ref.tar list
"$ERISPATCH" pack --bundle ref.bundle list

for kind in tar bundle; do
    opt=--$kind
    ref=$T/ref.$kind
    rm -rf out
    mkdir out

    # A character device: written in place, still the same node.
    mknod out/null c 1 3
    chmod 666 out/null
    chown 1000:1000 out/null
    "$ERISPATCH" pack "$opt" out/null list
    [ "$(stat -c '%F %t,%T %a %u:%g' out/null)" = \
        "character special file 1,3 666 1000:1000" ] ||
        fail "$kind: the device became $(stat -c '%F %t,%T %a %u:%g' out/null)"
    [ "$(entries out)" = "null " ] || fail "$kind: left behind: $(entries out)"
    rm out/null

    # A FIFO with a reader: the reader gets the exact bytes.
    mkfifo -m 640 out/fifo
    cat out/fifo >got &
    reader=$!
    "$ERISPATCH" pack "$opt" out/fifo list
    wait "$reader" || fail "$kind: the FIFO reader failed"
    cmp got "$ref" || fail "$kind: the FIFO reader got other bytes"
    [ "$(stat -c '%F %a' out/fifo)" = "fifo 640" ] ||
        fail "$kind: the FIFO became $(stat -c '%F %a' out/fifo)"
    [ "$(entries out)" = "fifo " ] || fail "$kind: left behind: $(entries out)"
    rm out/fifo got

    # A link to a regular file: the link stays, the file is replaced.
    echo old >out/target
    chmod 600 out/target
    ln -s target out/link
    "$ERISPATCH" pack "$opt" out/link list
    [ "$(readlink out/link)" = target ] || fail "$kind: the link was replaced"
    cmp out/target "$ref" || fail "$kind: the link's target has other bytes"
    [ "$(stat -c %a out/target)" = 600 ] || fail "$kind: target mode changed"
    [ "$(entries out)" = "link target " ] || fail "$kind: left behind: $(entries out)"
    rm out/link out/target

    # A dangling link: its target is created.
    mkdir out/sub
    ln -s sub/made out/dl
    "$ERISPATCH" pack "$opt" out/dl list
    [ "$(readlink out/dl)" = sub/made ] || fail "$kind: the dangling link was replaced"
    cmp out/sub/made "$ref" || fail "$kind: the created target has other bytes"
    [ "$(stat -c '%F %a' out/sub/made)" = "regular file 644" ] ||
        fail "$kind: created $(stat -c '%F %a' out/sub/made)"
    [ "$(entries out) $(entries out/sub)" = "dl sub  made " ] ||
        fail "$kind: left behind: $(entries out) $(entries out/sub)"
    rm -r out/dl out/sub

    # /proc/self/fd/1 into a pipe.
    "$ERISPATCH" pack "$opt" /proc/self/fd/1 list | cat >got
    cmp got "$ref" || fail "$kind: the pipe got other bytes"
    rm got

    # A regular file keeps its mode and owner, and is replaced atomically.
    echo old >out/f
    chmod 640 out/f
    chown 1000:1000 out/f
    ino=$(stat -c %i out/f)
    "$ERISPATCH" pack "$opt" out/f list
    cmp out/f "$ref" || fail "$kind: the regular file has other bytes"
    [ "$(stat -c '%a %u:%g' out/f)" = "640 1000:1000" ] ||
        fail "$kind: mode and owner became $(stat -c '%a %u:%g' out/f)"
    [ "$(stat -c %i out/f)" != "$ino" ] || fail "$kind: not replaced atomically"
    [ "$(entries out)" = "f " ] || fail "$kind: left behind: $(entries out)"

    # A read-only directory, as an unprivileged user: exit status 1 with
    # the reason, the directory and its file unchanged.
    chmod 555 out
    before=$(stat -c '%a %Y %y' out)
    for name in f new; do
        rc=0
        as_nobody "$T/bin/erispatch" pack "$opt" "out/$name" list 2>err || rc=$?
        [ "$rc" = 1 ] || fail "$kind: read-only directory: exit $rc: $(cat err)"
        grep -qF "cannot create a temporary file for 'out/$name': Permission denied" err ||
            fail "$kind: read-only directory: message: $(cat err)"
    done
    [ "$(entries out)" = "f " ] || fail "$kind: read-only directory changed: $(entries out)"
    cmp out/f "$ref" || fail "$kind: the file in the read-only directory changed"
    [ "$(stat -c '%a %Y %y' out)" = "$before" ] || fail "$kind: directory changed"
    chmod 755 out
done

# ---- patch --------------------------------------------------------------

old=$("$ERISPATCH" print-needed "$ERISPATCH" | head -n1)
new=urn:eris:OUTPUTS-TEST
[ -n "$old" ] || fail "erispatch has no DT_NEEDED to replace"
mkdir p
cp "$ERISPATCH" p/prog

# Through a link: the link stays, the file it names is patched.
ln -s prog p/plink
"$ERISPATCH" patch --replace "$old" "$new" p/plink
[ "$(readlink p/plink)" = prog ] || fail "patch replaced the link"
"$ERISPATCH" print-needed p/prog | grep -qxF "$new" || fail "patch through a link"
[ "$(entries p)" = "plink prog " ] || fail "patch left behind: $(entries p)"

# Mode and owner stay.
cp "$ERISPATCH" p/owned
chmod 750 p/owned
chown 1000:1000 p/owned
"$ERISPATCH" patch --replace "$old" "$new" p/owned
"$ERISPATCH" print-needed p/owned | grep -qxF "$new" || fail "patch of p/owned"
[ "$(stat -c '%a %u:%g' p/owned)" = "750 1000:1000" ] ||
    fail "patch: mode and owner became $(stat -c '%a %u:%g' p/owned)"

# A read-only directory, as an unprivileged user.
mkdir rop
cp "$ERISPATCH" rop/prog
chmod 555 rop
before=$(stat -c '%a %Y %y' rop)
rc=0
as_nobody "$T/bin/erispatch" patch --replace "$old" "$new" rop/prog 2>err || rc=$?
[ "$rc" = 1 ] || fail "patch in a read-only directory: exit $rc: $(cat err)"
grep -qF "cannot create a temporary file for 'rop/prog': Permission denied" err ||
    fail "patch in a read-only directory: message: $(cat err)"
cmp rop/prog "$ERISPATCH" || fail "patch changed a file it could not replace"
[ "$(entries rop)" = "prog " ] || fail "patch left behind: $(entries rop)"
[ "$(stat -c '%a %Y %y' rop)" = "$before" ] || fail "read-only directory changed"

echo "output tests passed"
