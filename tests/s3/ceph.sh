#!/bin/sh
# ceph.sh up DIR | down DIR | run DIR COMMAND...
#
# The loopback Ceph cluster (with radosgw) the s3:// tests share, as a
# ctest fixture: "up" starts it with tools/ceph-up.sh DIR --rgw and keeps
# its variables in DIR/env; "run" runs COMMAND with them (exit 77,
# skipped, with the reason when there is no cluster because Ceph is not
# installed); "down" stops it with tools/ceph-down.sh.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TOOLS=$HERE/../../tools
[ $# -ge 2 ] || { echo "usage: ceph.sh up|down|run DIR [COMMAND...]" >&2; exit 2; }
cmd=$1
DIR=$2
shift 2
case $cmd in
up)
	rm -rf "$DIR"
	mkdir -p "$DIR"
	if [ ! -x "$TOOLS/ceph-up.sh" ]; then
		echo "no tools/ceph-up.sh" > "$DIR/absent"
		exit 0
	fi
	rc=0
	"$TOOLS/ceph-up.sh" "$DIR/cluster" --rgw > "$DIR/env.tmp" \
		2> "$DIR/up.err" || rc=$?
	cat "$DIR/up.err" >&2
	if [ "$rc" = 77 ]; then
		# ceph-up.sh's own reason (which program is missing).
		tail -n 1 "$DIR/up.err" > "$DIR/absent"
		exit 0
	fi
	[ "$rc" = 0 ] || exit "$rc"
	mv "$DIR/env.tmp" "$DIR/env"
	;;
down)
	if [ -d "$DIR/cluster" ] && [ -x "$TOOLS/ceph-down.sh" ]; then
		"$TOOLS/ceph-down.sh" "$DIR/cluster"
	fi
	;;
run)
	if [ ! -f "$DIR/env" ]; then
		echo "SKIP: no Ceph cluster: $(cat "$DIR/absent" 2>/dev/null ||
			echo 'the fixture did not run')"
		exit 77
	fi
	set -a
	. "$DIR/env"
	set +a
	exec "$@"
	;;
*)
	echo "usage: ceph.sh up|down|run DIR [COMMAND...]" >&2
	exit 2
	;;
esac
