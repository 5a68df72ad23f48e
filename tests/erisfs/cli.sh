#!/bin/sh
# cli.sh - ERIS-FS through the eris command: `put -r` of a tree with
# nested and empty directories, empty files, executables, symlinks and
# unicode names; the same URN for the same tree built another way;
# `ls` and `ls -l`; `get -r` restoring it exactly (modes, links),
# through a temporary directory; every refusal with its exit code and
# message.
#
# Usage: cli.sh ERIS
set -u
eris=$1
fails=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/eris-fs-XXXXXX") || exit 1
trap 'chmod -R u+rwx "$tmp"; rm -rf "$tmp"' EXIT
ERIS_STORE=dir:$tmp/store
export ERIS_STORE
umask 022

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# WANT-RC WANT-MESSAGE COMMAND...: exit WANT-RC, stderr holding WANT-MESSAGE.
refused() {
	want_rc=$1
	want_msg=$2
	shift 2
	"$@" >"$tmp/stdout" 2>"$tmp/err"
	rc=$?
	[ "$rc" = "$want_rc" ] || fail "$*: exit $rc, expected $want_rc"
	grep -qF -- "$want_msg" "$tmp/err" ||
		fail "$*: message lacks '$want_msg': $(cat "$tmp/err")"
}

# The tree, in two orders with different modes and times.
mktree() {
	d=$1
	if [ "$2" = 1 ]; then
		mkdir -p "$d/bin" "$d/lib/deep/er/still" "$d/share/empty"
		printf '#!/bin/sh\necho ran\n' >"$d/bin/tool"
		chmod 755 "$d/bin/tool"
		: >"$d/lib/empty-file"
		head -c 100000 /dev/urandom >"$tmp/big"
		cp "$tmp/big" "$d/lib/deep/er/still/big"
		ln -s deep/er/still/big "$d/lib/big-link"
		ln -s ../bin/tool "$d/lib/tool-link"
		printf 'grüße\n' >"$d/lib/grüße ✓.txt"
		printf 'hello\n' >"$d/hello"
	else
		mkdir -p "$d/lib/deep/er/still"
		printf 'hello\n' >"$d/hello"
		chmod 600 "$d/hello"
		printf 'grüße\n' >"$d/lib/grüße ✓.txt"
		ln -s ../bin/tool "$d/lib/tool-link"
		ln -s deep/er/still/big "$d/lib/big-link"
		cp "$tmp/big" "$d/lib/deep/er/still/big"
		: >"$d/lib/empty-file"
		mkdir "$d/bin"
		printf '#!/bin/sh\necho ran\n' >"$d/bin/tool"
		chmod 700 "$d/bin/tool"
		touch -d 2001-01-01 "$d/hello" "$d/bin/tool"
	fi
}

mktree "$tmp/a" 1
mktree "$tmp/b" 2
urn_a=$("$eris" put -r -q "$tmp/a" 2>"$tmp/warn") || fail "put -r a"
grep -qF "share/empty: empty directory not recorded" "$tmp/warn" ||
	fail "no warning for the empty directory: $(cat "$tmp/warn")"
urn_b=$("$eris" put -r --threads 1 "$tmp/b" 2>/dev/null) || fail "put -r b"
[ "$urn_a" = "$urn_b" ] || fail "same tree, two URNs: $urn_a $urn_b"
case $urn_a in
urn:eris:*) ;;
*) fail "put -r printed '$urn_a'" ;;
esac

# ls: the canonical order (fewer components first, shorter names first).
"$eris" ls "$urn_a" >"$tmp/ls" || fail "ls"
cat >"$tmp/ls.want" <<'END'
hello
bin/tool
lib/big-link
lib/tool-link
lib/empty-file
lib/grüße ✓.txt
lib/deep/er/still/big
END
cmp -s "$tmp/ls" "$tmp/ls.want" || fail "ls: $(cat "$tmp/ls")"
"$eris" ls -l "$urn_a" >"$tmp/lsl" || fail "ls -l"
grep -q '^exec  *19 urn:eris:[A-Z0-9]* bin/tool$' "$tmp/lsl" ||
	fail "ls -l: no exec line: $(cat "$tmp/lsl")"
grep -q '^file  *100000 urn:eris:[A-Z0-9]* lib/deep/er/still/big$' "$tmp/lsl" ||
	fail "ls -l: no big file line"
grep -q '^file  *0 urn:eris:[A-Z0-9]* lib/empty-file$' "$tmp/lsl" ||
	fail "ls -l: no empty file line"
grep -qF 'lib/big-link -> deep/er/still/big' "$tmp/lsl" ||
	fail "ls -l: no link line"

# get -r: the same tree back.
"$eris" get -r -q "$urn_a" -o "$tmp/out" || fail "get -r"
rm -rf "$tmp/a/share"  # not representable
diff -r --no-dereference "$tmp/a" "$tmp/out" >"$tmp/diff" 2>&1 ||
	fail "get -r: trees differ: $(cat "$tmp/diff")"
[ "$("$tmp/out/bin/tool")" = ran ] || fail "the extracted tool does not run"
[ "$(stat -c %a "$tmp/out/bin/tool")" = 755 ] || fail "tool mode"
[ "$(stat -c %a "$tmp/out/hello")" = 644 ] || fail "hello mode"
[ "$(readlink "$tmp/out/lib/tool-link")" = ../bin/tool ] || fail "link target"
ls -a "$tmp" | grep -q '\.eris-' && fail "a temporary directory was left"

# Refusals.
refused 4 "exists; give a new directory" "$eris" get -r "$urn_a" -o "$tmp/out"
refused 2 "-r needs -o DIR" "$eris" get -r "$urn_a"
refused 4 "-r needs a directory, not" "$eris" put -r "$tmp/a/hello"
file_urn=$("$eris" put -q "$tmp/a/hello")
refused 5 "not an ERIS-FS index: starts with a text string" "$eris" ls "$file_urn"
refused 5 "not an ERIS-FS index" "$eris" get -r "$file_urn" -o "$tmp/x"
[ -e "$tmp/x" ] && fail "get -r of a non-index created the directory"
ln -s /etc "$tmp/a/abs"
refused 5 "ERIS-FS path 'abs': an absolute symlink target" "$eris" put -r "$tmp/a"
ext=$("$eris" put -r -q --allow-external-links "$tmp/a") || fail "put external"
refused 5 "'abs' has an absolute symlink target" "$eris" get -r "$ext" -o "$tmp/y"
"$eris" get -r -q --allow-external-links "$ext" -o "$tmp/y" || fail "get external"
[ "$(readlink "$tmp/y/abs")" = /etc ] || fail "external link target"
rm "$tmp/a/abs"
ln -s ../../outside "$tmp/a/lib/up"
refused 5 "ERIS-FS path 'lib/up': a symlink target leading out of the tree" "$eris" put -r "$tmp/a"
rm "$tmp/a/lib/up"
mkfifo "$tmp/a/fifo"
refused 5 "fifo: a FIFO; ERIS-FS holds only files, directories and symlinks" "$eris" put -r "$tmp/a"
rm "$tmp/a/fifo"

# A missing block: nothing is left behind.
big_ref=$(sed -n 's/^file  *100000 \(urn:eris:[A-Z0-9]*\) .*/\1/p' "$tmp/lsl")
"$eris" ls -l "$urn_a" >/dev/null || fail "ls again"
find "$tmp/store" -type f | sort | head -n 200 >"$tmp/blocks"
# Remove every block of the big file: the ones `put` of it alone adds.
mkdir "$tmp/one"
ERIS_STORE=dir:$tmp/one "$eris" put -q "$tmp/big" >/dev/null
(cd "$tmp/one" && find . -type f) | while read -r f; do
	rm -f "$tmp/store/$f"
done
refused 1 "lib/deep/er/still/big" "$eris" get -r "$urn_a" -o "$tmp/z"
[ -e "$tmp/z" ] && fail "a failed get -r left the directory"
ls -a "$tmp" | grep -q '\.eris-' && fail "a failed get -r left its temporary directory"
: "$big_ref"

[ "$fails" = 0 ] && echo "erisfs cli: all passed"
[ "$fails" = 0 ]
