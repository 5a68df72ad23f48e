#!/usr/bin/env bash
# attrs.sh - what `erispatch patch` keeps of the file it replaces, as
# root, on a program built here by gcc:
#
#  - owner, group and set-ID bits: mode 4755 owned by 1000:1000 stays
#    4755 1000:1000 (not a set-user-ID root program), 2755 with group
#    1000 stays 2755 0:1000;
#  - file capabilities (setcap/getcap) and extended attributes user.*,
#    trusted.* and security.* other than the capability (getfattr);
#  - a capability an unprivileged owner cannot set again: the patch
#    fails (exit 1, the attribute named) and the file stays as it was;
#  - a file with two hard links: a warning naming the file on stderr,
#    the other name keeps the old content.
#
# Root only (chown, setcap, trusted.*); skipped (77) otherwise, or when
# no directory at hand supports user extended attributes.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
    echo "SKIP: attrs.sh must run as root (chown, setcap, trusted.*)"
    exit 77
fi
for tool in gcc setcap getcap setfattr getfattr setpriv stat cmp; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIP: $tool is not installed (gcc, libcap2-bin, attr, util-linux)"
        exit 77
    fi
done

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# A directory whose file system keeps user extended attributes: $TMPDIR
# or /tmp (tmpfs has them since Linux 6.6 only), else the build tree.
T=
for base in "${TMPDIR:-/tmp}" "${ATTRS_FALLBACK_DIR:-}"; do
    [ -n "$base" ] && [ -d "$base" ] || continue
    d=$(mktemp -d "$base/erispatch-attrs.XXXXXX")
    touch "$d/probe"
    if setfattr -n user.probe -v 1 "$d/probe" 2>/dev/null; then
        T=$d
        break
    fi
    rm -rf "$d"
done
if [ -z "$T" ]; then
    echo "SKIP: no directory with user extended attributes"
    exit 77
fi
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
cd "$T"
rm probe
unset ERIS_STORE

printf 'int main(void) { return 0; }\n' >prog.c
gcc -o prog prog.c
old=$("$ERISPATCH" print-needed prog | head -n1)
[ -n "$old" ] || fail "the test program has no DT_NEEDED"
n=0
patch_it() {
    n=$((n + 1))
    "$ERISPATCH" patch --replace "$old" "urn:eris:ATTRS-TEST-$n" "$@"
}
patched() {
    "$ERISPATCH" print-needed "$1" | grep -q '^urn:eris:ATTRS-TEST-'
}

# ---- owner, group, set-ID bits ------------------------------------------

cp prog suid
chown 1000:1000 suid
chmod 4755 suid
patch_it suid
patched suid || fail "suid was not patched"
[ "$(stat -c '%a %u:%g' suid)" = "4755 1000:1000" ] ||
    fail "a 4755 file of 1000:1000 became $(stat -c '%a %u:%g' suid)"

cp prog sgid
chown 0:1000 sgid
chmod 2755 sgid
patch_it sgid
patched sgid || fail "sgid was not patched"
[ "$(stat -c '%a %u:%g' sgid)" = "2755 0:1000" ] ||
    fail "a 2755 file of 0:1000 became $(stat -c '%a %u:%g' sgid)"

# ---- capabilities and extended attributes --------------------------------

# Every attribute but the capability, by name and value (hex).
attrs() {
    getfattr --absolute-names -h -d -e hex -m - "$1" |
        grep -v -e '^#' -e '^security.capability=' -e '^$' | sort
}

cp prog caps
chown 1000:1000 caps
chmod 750 caps
setfattr -n user.origin -v build-42 caps
setfattr -n trusted.note -v kept caps
setfattr -n security.eris-test -v label caps 2>/dev/null || true
setcap cap_net_raw,cap_net_bind_service+ep caps
want_caps=$(getcap caps | sed 's/^caps //')
want_attrs=$(attrs caps)
[ -n "$want_caps" ] || fail "setcap left no capability"
echo "$want_attrs" | grep -q '^user.origin=' || fail "setfattr left no user.origin"
patch_it caps
patched caps || fail "caps was not patched"
got=$(getcap caps | sed 's/^caps //')
[ "$got" = "$want_caps" ] || fail "capabilities '$want_caps' became '$got'"
got=$(attrs caps)
[ "$got" = "$want_attrs" ] || fail "extended attributes
$want_attrs
became
$got"
[ "$(stat -c '%a %u:%g' caps)" = "750 1000:1000" ] ||
    fail "caps: mode and owner became $(stat -c '%a %u:%g' caps)"

# An unprivileged owner cannot set a capability: rather than drop it, the
# patch fails and the file is left as it was.
mkdir own
chown 65534:65534 own
cp prog own/capped
chown 65534:65534 own/capped
setcap cap_net_raw+ep own/capped
cp own/capped before
# The build tree may be out of that user's reach (under a 0700
# directory): it runs copies of erispatch and liberis.
mkdir -m 755 nbin
cp "$ERISPATCH" nbin/erispatch
cp "$(ldd "$ERISPATCH" | awk '$1 == "liberis.so.1" { print $3 }')" nbin/liberis.so.1
chmod 755 nbin/erispatch nbin/liberis.so.1
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups \
    env LD_LIBRARY_PATH="$PWD/nbin" "$PWD/nbin/erispatch" patch --replace "$old" urn:eris:ATTRS-TEST-X own/capped \
    2>err || rc=$?
[ "$rc" = 1 ] || fail "unprivileged patch of a capable file: exit $rc: $(cat err)"
grep -qF "cannot keep the extended attribute security.capability of 'own/capped'" err ||
    fail "unprivileged patch of a capable file: message: $(cat err)"
cmp own/capped before || fail "the capable file changed"
[ "$(getcap own/capped | sed 's/^own.capped //')" = cap_net_raw=ep ] ||
    fail "the capable file lost its capability: $(getcap own/capped)"
[ "$(ls -A own)" = capped ] || fail "left behind: $(ls -A own)"

# ---- hard links -----------------------------------------------------------

cp prog linked
ln linked other
patch_it linked 2>err
patched linked || fail "linked was not patched"
grep -qF "warning: 'linked' has 2 hard links" err ||
    fail "no warning about hard links: $(cat err)"
cmp other prog || fail "the other hard link changed"
[ "$(stat -c %h linked)" = 1 ] || fail "linked still has $(stat -c %h linked) links"

# A file with one name: no warning.
cp prog single
patch_it single 2>err
[ ! -s err ] || fail "a warning for a file with one name: $(cat err)"

echo "attribute tests passed"
