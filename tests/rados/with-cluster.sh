#!/bin/sh
# with-cluster.sh DIR COMMAND [ARG]...
# Runs COMMAND with the variables of the test cluster that
# tools/ceph-up.sh started in DIR (DIR/env: CEPH_CONF, ...) exported;
# exit 77 (skipped) when there is none: Ceph is not installed here.
set -eu
DIR=$1
shift
if [ ! -f "$DIR/env" ]; then
	echo "SKIP: no Ceph test cluster in $DIR (Ceph not installed:" \
		"apt-get install ceph-mon ceph-osd ceph-common radosgw)" >&2
	exit 77
fi
set -a
. "$DIR/env"
set +a
exec "$@"
