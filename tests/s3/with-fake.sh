#!/bin/sh
# with-fake.sh [FAKE_FLAGS...] -- COMMAND...
#
# Runs COMMAND against a fault-injecting S3 endpoint (fake_s3.py serve
# FAKE_FLAGS, e.g. --fail-first 1) on a loopback port, with the eris
# programs' variables pointing at it: AWS_ENDPOINT_URL, dummy
# credentials (the fake ignores signatures, but a signed request is what
# a real server gets), and FAKE_S3 (the script, for its control and check
# commands). The server is stopped on every way out; exit 77 (skipped)
# without python3.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
if ! command -v python3 > /dev/null 2>&1; then
	echo "SKIP: no python3 for the fake S3 endpoint"
	exit 77
fi
flags=
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	flags="$flags $1"
	shift
done
[ $# -ge 2 ] || { echo "usage: with-fake.sh [FLAGS...] -- COMMAND..." >&2; exit 2; }
shift

D=$(mktemp -d)
pid=
stop() {
	if [ -n "$pid" ]; then
		kill "$pid" 2> /dev/null || true
		wait "$pid" 2> /dev/null || true
	fi
	rm -rf "$D"
}
trap stop EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# shellcheck disable=SC2086 # the flags are words without blanks
python3 "$HERE/fake_s3.py" serve "$D/port" $flags &
pid=$!
# Start-up only: wait for the port, at most 30 s.
i=0
while [ ! -s "$D/port" ]; do
	if ! kill -0 "$pid" 2> /dev/null || [ $i -ge 300 ]; then
		echo "FAIL: the fake S3 endpoint did not start" >&2
		exit 1
	fi
	sleep 0.1
	i=$((i + 1))
done

AWS_ENDPOINT_URL=http://127.0.0.1:$(cat "$D/port")
AWS_ACCESS_KEY_ID=fake-access-key
AWS_SECRET_ACCESS_KEY=fake-secret-key
AWS_REGION=us-east-1
FAKE_S3=$HERE/fake_s3.py
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION \
	FAKE_S3
rc=0
"$@" || rc=$?
exit $rc
