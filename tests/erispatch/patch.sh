#!/usr/bin/env bash
# patch.sh - `erispatch patch` on real ELF files built here by gcc (and by
# the powerpc cross binutils for big endian): DT_NEEDED replaced by URNs,
# .gnu.version_r updated, RPATH removal, readelf/eu-elflint clean,
# programs still run, idempotence, mode kept, malformed input untouched.
set -euo pipefail
here=${BASH_SOURCE[0]%/*}
[ "$here" != "${BASH_SOURCE[0]}" ] || here=.
. "$here/common.sh" || exit 1

cd "$T"
mkdir lib urns

cat >foo.c <<'C'
int foo(void) { return 42; }
C
cat >prog.c <<'C'
#include <stdio.h>
int foo(void);
int main(void) { printf("foo=%d\n", foo()); return 0; }
C
cat >ver.c <<'C'
int bar_v1(void) { return 1; }
int bar_v2(void) { return 2; }
__asm__(".symver bar_v1,bar@V1");
__asm__(".symver bar_v2,bar@@V2");
C
printf 'V1 { global: bar; local: *; };\nV2 { global: bar; } V1;\n' >ver.map
cat >vprog.c <<'C'
#include <stdio.h>
int bar(void);
int main(void) { printf("bar=%d\n", bar()); return 0; }
C

gcc -shared -fPIC -o lib/libfoo.so foo.c -Wl,-soname,libfoo.so
gcc -shared -fPIC -o lib/libver.so.1 ver.c -Wl,--version-script=ver.map \
    -Wl,-soname,libver.so.1
gcc -o pie prog.c -Llib -lfoo -Wl,-rpath,"$T/lib"
gcc -no-pie -o exec vprog.c lib/libver.so.1 -Wl,-rpath,"$T/lib"
[ "$(./pie)" = "foo=42" ] || fail "unpatched pie does not run"
[ "$(./exec)" = "bar=2" ] || fail "unpatched exec does not run"

U_FOO=$(urn_of lib/libfoo.so)
U_VER=$(urn_of lib/libver.so.1)
ln -s "$T/lib/libfoo.so" "urns/$U_FOO"
ln -s "$T/lib/libver.so.1" "urns/$U_VER"

# print-needed agrees with readelf.
[ "$("$ERISPATCH" print-needed pie)" = "$(needed_of pie)" ] ||
    fail "print-needed differs from readelf"

# A PIE (ET_DYN) program; the mode is kept.
chmod 750 pie
"$ERISPATCH" patch --replace libfoo.so "$U_FOO" pie
check_elf pie
assert_needed pie "$U_FOO" libc.so.6
[ "$(stat -c %a pie)" = 750 ] || fail "mode not kept: $(stat -c %a pie)"
[ "$(LD_LIBRARY_PATH="$T/urns" ./pie)" = "foo=42" ] || fail "patched pie"
# Without the URN directory the library is not found any more.
if env -u LD_LIBRARY_PATH ./pie >/dev/null 2>&1; then
    fail "patched pie still loads libfoo.so by its old name"
fi

# Through a symbolic link the file it names is patched; the link stays.
gcc -o linked prog.c -Llib -lfoo
ln -s linked link
"$ERISPATCH" patch --replace libfoo.so "$U_FOO" link
[ -L link ] || fail "the symbolic link was replaced"
assert_needed linked "$U_FOO" libc.so.6

# Idempotent: a second run changes nothing.
cp pie pie.before
"$ERISPATCH" patch --replace libfoo.so "$U_FOO" pie
"$ERISPATCH" patch --replace "$U_FOO" "$U_FOO" pie
cmp pie pie.before || fail "second patch changed the file"

# A non-PIE (ET_EXEC) program using versioned symbols: .gnu.version_r
# must name the URN too, or glibc refuses to start it.
readelf -h exec | grep -q 'EXEC (Executable file)' || fail "exec is not ET_EXEC"
"$ERISPATCH" patch --remove-rpath --replace libver.so.1 "$U_VER" exec
check_elf exec
assert_needed exec "$U_VER" libc.so.6
readelf -V -W exec | grep -q "File: $U_VER" || fail "vn_file not updated"
if readelf -d exec | grep -qE 'RPATH|RUNPATH'; then
    fail "--remove-rpath left an RPATH"
fi
[ "$(LD_LIBRARY_PATH="$T/urns" ./exec)" = "bar=2" ] || fail "patched exec"

# A shared library's own DT_NEEDED.
gcc -shared -fPIC -o libuser.so ver.c -Wl,--version-script=ver.map \
    -Wl,--no-as-needed -Llib -lfoo
before=$(needed_of libuser.so)
echo "$before" | grep -qx libfoo.so || fail "libuser.so does not need libfoo.so"
"$ERISPATCH" patch --replace libfoo.so "$U_FOO" libuser.so
check_elf libuser.so
[ "$(needed_of libuser.so)" = "$(echo "$before" | sed "s/^libfoo\.so\$/$U_FOO/")" ] ||
    fail "libuser.so: DT_NEEDED is $(needed_of libuser.so)"

# --genode: gcc's programs have more than 9 program headers, so the new
# PT_LOAD would exceed Genode's 10; refused, file untouched.
gcc -o many prog.c -Llib -lfoo
phnum=$(readelf -h many | sed -n 's/.*Number of program headers: *//p')
if [ "$phnum" -ge 10 ]; then
    cp many many.before
    expect_failure "program headers" \
        "$ERISPATCH" patch --genode --replace libfoo.so "$U_FOO" many
    cmp many many.before || fail "refused --genode patch changed the file"
fi

# 32-bit little endian.
if have_m32; then
    gcc -m32 -shared -fPIC -o lib/libfoo32.so foo.c -Wl,-soname,libfoo32.so
    gcc -m32 -o prog32 prog.c -Llib -lfoo32
    U32=$(urn_of lib/libfoo32.so)
    ln -s "$T/lib/libfoo32.so" "urns/$U32"
    "$ERISPATCH" patch --replace libfoo32.so "$U32" prog32
    check_elf prog32
    readelf -h prog32 | grep -q 'ELF32' || fail "prog32 is not ELF32"
    assert_needed prog32 "$U32" libc.so.6
    [ "$(LD_LIBRARY_PATH="$T/urns" ./prog32)" = "foo=42" ] || fail "prog32"
else
    echo "note: gcc -m32 cannot build and run programs here; 32-bit part skipped"
fi

# Big endian: a tiny powerpc shared object and program.
printf '\t.text\n\t.globl answer\n\t.type answer,@function\nanswer:\n\tli 3,42\n\tblr\n' >lib.s
printf '\t.text\n\t.globl _start\n_start:\n\tli 0,1\n\tsc\n' >main.s
powerpc-linux-gnu-as -o lib.o lib.s
powerpc-linux-gnu-ld --secure-plt -shared -soname libanswer.so -o libanswer.so lib.o
powerpc-linux-gnu-as -o main.o main.s
powerpc-linux-gnu-ld --secure-plt -o be main.o --no-as-needed -L. -lanswer \
    --dynamic-linker /lib/ld.so.1
readelf -h be | grep -q 'big endian' || fail "be is not big endian"
check_elf be
U_BE=$(urn_of libanswer.so)
"$ERISPATCH" patch --genode --replace libanswer.so "$U_BE" be
check_elf be
assert_needed be "$U_BE"
phnum=$(readelf -h be | sed -n 's/.*Number of program headers: *//p')
[ "$phnum" -le 10 ] || fail "--genode left $phnum program headers"
cp be be.before
"$ERISPATCH" patch --replace libanswer.so "$U_BE" be
cmp be be.before || fail "second big-endian patch changed the file"

# Malformed or unsupported input: a clear error, the file untouched.
check_untouched() {
    local f=$1 text=$2
    cp "$f" "$f.before"
    expect_failure "$text" "$ERISPATCH" patch --replace libfoo.so "$U_FOO" "$f"
    cmp "$f" "$f.before" || fail "$f was changed"
    ! ls -A | grep -F ".$f." >/dev/null || fail "temporary file left for $f"
    return 0
}
cp lib/libfoo.so whole.so
head -c 3000 whole.so >truncated.so
check_untouched truncated.so "out of"
head -c 30 whole.so >header.so
check_untouched header.so "truncated ELF header"
gcc -c -o object.o foo.c
check_untouched object.o "unsupported ELF type 1"
printf 'not an ELF file at all\n' >text.so
check_untouched text.so "not an ELF file"
# e_phoff far beyond the end of the file.
cp whole.so phoff.so
printf '\377\377\377\377' | dd of=phoff.so bs=1 seek=32 conv=notrunc status=none
check_untouched phoff.so "program header table out of bounds"
expect_failure "No such file" "$ERISPATCH" patch --replace a b "$T/missing"
# A FIFO is refused at once (open() used to wait for a writer forever);
# timeout bounds only a hang.
mkfifo fifo.so
expect_failure "not a regular file (a FIFO)" timeout 60 "$ERISPATCH" patch \
    --replace libfoo.so "$U_FOO" fifo.so
expect_failure "not a regular file (a FIFO)" timeout 60 "$ERISPATCH" \
    print-needed fifo.so

echo "patch tests passed"
