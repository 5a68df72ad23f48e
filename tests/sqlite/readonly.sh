#!/usr/bin/env bash
# An sqlite store this process cannot write is still readable: by an
# unprivileged user (uid 65534) when root owns the database (0644) and
# its directory (0755, or a sticky world-writable one), and by root on a
# read-only bind mount. get, verify, info, export, store stats and fsck
# succeed, a read-only erisd serves it, and put is refused as
# "read-only" without touching the files.
# Usage: readonly.sh user|mount ERIS ERISD
set -euo pipefail
mode=$1 ERIS=$2 ERISD=$3
skip() { echo "SKIP: $*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root (to make files of another owner, or to mount)"
tmp=$(mktemp -d /tmp/eris-sqlite-ro-XXXXXX)
pid=''
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
	if [ -n "${mnt:-}" ]; then umount "$mnt" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
chmod 755 "$tmp"
export HOME=$tmp/home XDG_DATA_HOME=$tmp/data
unset ERIS_STORE

head -c 300000 /dev/urandom >"$tmp/content"
chmod 644 "$tmp/content"
mkdir -m 755 "$tmp/s"
urn=$("$ERIS" put -q --store "sqlite:$tmp/s/x.sqlite" "$tmp/content")
chmod 644 "$tmp/s/x.sqlite"
[ ! -e "$tmp/s/x.sqlite-shm" ] || fail "the writer left a -shm file"

# reads DB AS...: every read-only command against sqlite:DB, run as AS.
reads() {
	local db=$1; shift
	local st="sqlite:$db"
	"$@" "$ERIS" get --store "$st" "$urn" >"$tmp/out.$mode" ||
		fail "get from $db"
	cmp -s "$tmp/out.$mode" "$tmp/content" || fail "get: wrong bytes"
	"$@" "$ERIS" verify --store "$st" "$urn" >/dev/null || fail "verify"
	"$@" "$ERIS" info --store "$st" "$urn" >/dev/null || fail "info"
	"$@" "$ERIS" export --store "$st" "$urn" >/dev/null || fail "export"
	"$@" "$ERIS" store stats --store "$st" | grep -q '^32 KiB blocks: 11$' ||
		fail "stats"
	"$@" "$ERIS" store fsck --store "$st" | grep -q ': 0 bad' || fail "fsck"
	local rc=0
	echo more >"$tmp/more.$mode"
	chmod 644 "$tmp/more.$mode"
	"$@" "$ERIS" put --store "$st" "$tmp/more.$mode" 2>"$tmp/err" || rc=$?
	[ "$rc" != 0 ] || fail "put into a read-only store succeeded"
	grep -q 'read-only' "$tmp/err" || { cat "$tmp/err" >&2; fail "put: no read-only message"; }
}

# serve DB AS...: a read-only erisd, run as AS, serves the content.
serve() {
	local db=$1; shift
	"$@" "$ERISD" --listen 127.0.0.1:0 --store "sqlite:$db" 2>"$tmp/erisd.log" &
	pid=$!
	for _ in $(seq 600); do
		grep -q '^erisd: listening on' "$tmp/erisd.log" && break
		if ! kill -0 "$pid" 2>/dev/null; then
			cat "$tmp/erisd.log" >&2
			grep -q io_uring "$tmp/erisd.log" && { pid=''; return 0; }
			fail "erisd died"
		fi
		sleep 0.1
	done
	local http=http://$(sed -n 's/^erisd: listening on //p' "$tmp/erisd.log")
	"$ERIS" get --store "$http" "$urn" | cmp -s - "$tmp/content" ||
		fail "get through a read-only erisd"
	kill "$pid"
	wait "$pid" || true
	pid=''
}

case $mode in
user)
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	# The build tree may be out of that user's reach (under a 0700
	# directory): it runs copies of eris, erisd and liberis.
	mkdir -m 755 "$tmp/bin"
	cp "$ERIS" "$ERISD" "$tmp/bin/"
	cp "$(ldd "$ERIS" | awk '$1 == "liberis.so.1" { print $3 }')" \
		"$tmp/bin/liberis.so.1"
	chmod 755 "$tmp/bin/"*
	ERIS=$tmp/bin/$(basename "$ERIS") ERISD=$tmp/bin/$(basename "$ERISD")
	as=(setpriv --reuid=65534 --regid=65534 --clear-groups
		env LD_LIBRARY_PATH="$tmp/bin")
	reads "$tmp/s/x.sqlite" "${as[@]}"
	serve "$tmp/s/x.sqlite" "${as[@]}"
	# A world-writable sticky directory: the database alone is
	# read-only for the user.
	mkdir -m 1777 "$tmp/w"
	cp "$tmp/s/x.sqlite" "$tmp/w/x.sqlite"
	chmod 644 "$tmp/w/x.sqlite"
	reads "$tmp/w/x.sqlite" "${as[@]}"
	;;
mount)
	mnt=$tmp/m
	mkdir "$mnt"
	mount --bind "$tmp/s" "$mnt" 2>"$tmp/err" ||
		{ mnt=''; skip "mounting is not permitted here: $(cat "$tmp/err")"; }
	mount -o remount,bind,ro "$mnt" 2>"$tmp/err" ||
		skip "cannot remount read-only: $(cat "$tmp/err")"
	touch "$mnt/probe" 2>/dev/null && fail "the bind mount is writable"
	reads "$mnt/x.sqlite" env
	serve "$mnt/x.sqlite" env
	;;
*) fail "unknown mode $mode" ;;
esac
# Nothing was written beside the database.
[ "$(ls "$tmp/s")" = x.sqlite ] || fail "files appeared: $(ls "$tmp/s")"
echo "ok: $mode"
