#!/bin/sh
# cluster.sh up|down DIR [ceph-up.sh options]
# The ctest fixture of the Ceph tests: one cluster for the whole run.
# "up" stops a cluster a previous, interrupted run may have left in DIR
# and starts a fresh one (77 without Ceph); "down" stops it.
set -eu
TOOLS=$(cd "$(dirname "$0")/../../tools" && pwd)
what=$1
DIR=$2
shift 2
"$TOOLS/ceph-down.sh" "$DIR"
rm -f "$DIR/env"
[ "$what" = down ] && exit 0
"$TOOLS/ceph-up.sh" "$DIR" "$@"
