#!/bin/bash
# erispatch.cjson: libcjson is loaded on demand, not linked. erispatch's
# ELF file names no libcjson in DT_NEEDED (readelf, and erispatch
# print-needed on itself), print-needed does not load it, and a JSON
# manifest still parses: `erispatch pack` of one, which loads it.
# Expects ERISPATCH and ERIS in the environment.
set -euo pipefail

for tool in readelf tar cmp; do
    command -v "$tool" >/dev/null || { echo "SKIP: no $tool"; exit 77; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/erispatch-cjson.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The libraries a command initialises (LD_DEBUG=libs), by file name.
loaded() {
    LD_DEBUG=libs "$@" 2>&1 >/dev/null |
        sed -n 's/.*calling init: \(.*\)$/\1/p' | xargs -rn1 basename | sort -u
}

needed=$(readelf -d -W "$ERISPATCH" |
    sed -n 's/.*(NEEDED).*Shared library: \[\(.*\)\]$/\1/p')
grep -q '^liberis\.so\.' <<<"$needed" || fail "readelf: no liberis in: $needed"
if grep -q cjson <<<"$needed"; then fail "readelf: DT_NEEDED has libcjson: $needed"; fi
echo "ok: readelf -d: $(echo $needed)"

self=$("$ERISPATCH" print-needed "$ERISPATCH")
[ "$self" = "$needed" ] || fail "print-needed on itself: $self, readelf: $needed"
echo "ok: erispatch print-needed on itself agrees"

libs=$(loaded "$ERISPATCH" print-needed "$ERISPATCH")
if grep -q cjson <<<"$libs"; then fail "print-needed loads libcjson: $(echo $libs)"; fi
echo "ok: print-needed does not load libcjson"

# A JSON manifest naming one file: pack writes that file into a tar.
printf 'the content of a library\n' >"$T/liba.so"
urn=$("$ERIS" sum --block-size 32k "$T/liba.so" | cut -d' ' -f1)
printf '{"%s": {"cap": "%s", "closure": {}}}\n' "$T/liba.so" "$urn" >"$T/m.json"
libs=$(loaded "$ERISPATCH" pack --tar "$T/out.tar" "$T/m.json")
grep -q '^libcjson\.so\.' <<<"$libs" ||
    fail "pack of a JSON manifest did not load libcjson: $(echo $libs)"
[ "$(tar -tf "$T/out.tar" | wc -l)" -ge 1 ] || fail "empty tar"
tar -xOf "$T/out.tar" | cmp - "$T/liba.so" || fail "the packed file differs"
echo "ok: a JSON manifest parses (pack, with libcjson loaded on demand)"

# And a malformed one still gets the parser's message.
printf '{"%s": ' "$T/liba.so" >"$T/bad.json"
if "$ERISPATCH" pack --tar "$T/bad.tar" "$T/bad.json" 2>"$T/err"; then
    fail "a truncated manifest was accepted"
fi
grep -q 'invalid JSON near byte' "$T/err" || fail "message: $(cat "$T/err")"
echo "ok: a truncated manifest: $(cat "$T/err")"
