#!/bin/sh
# ceph-down.sh DIR
#
# Stops the cluster that tools/ceph-up.sh started in DIR: exactly the
# processes whose PIDs it recorded in DIR/pids (and only while they still
# run a Ceph program with DIR's configuration, so that a recycled PID is
# never signalled). TERM first, KILL to whatever still runs after 10 s.
# Safe to call twice, or on a DIR where nothing runs. Leaves DIR's files.
set -eu

[ $# -eq 1 ] || {
	echo "usage: ceph-down.sh DIR" >&2
	exit 2
}
[ -d "$1/pids" ] || exit 0
DIR=$(cd "$1" && pwd)

# ours PID: 1 when PID still runs a daemon started with DIR/ceph.conf.
ours() {
	[ -r "/proc/$1/cmdline" ] &&
		tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null |
		grep -qF -- "-c $DIR/ceph.conf "
}

pids=""
for f in "$DIR"/pids/*.pid; do
	[ -e "$f" ] || continue
	pid=$(cat "$f")
	case $pid in
	'' | *[!0-9]*) ;;
	*) if ours "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		pids="$pids $pid"
	fi ;;
	esac
done

i=0
while [ -n "$pids" ] && [ "$i" -lt 100 ]; do
	still=""
	for pid in $pids; do
		ours "$pid" && still="$still $pid"
	done
	pids=$still
	[ -n "$pids" ] || break
	sleep 0.1
	i=$((i + 1))
done
for pid in $pids; do
	echo "ceph-down: $pid did not stop in 10 s: KILL" >&2
	kill -KILL "$pid" 2>/dev/null || true
done
rm -f "$DIR"/pids/*.pid
