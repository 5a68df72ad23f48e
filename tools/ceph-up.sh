#!/bin/sh
# ceph-up.sh DIR [--osds N] [--rgw]
#
# Starts a throw-away single-host Ceph cluster on 127.0.0.1 for the tests:
# one monitor, N OSDs keeping their data in memory (memstore), a pool
# `eris` of N replicas and, with --rgw, radosgw with an S3 user and a
# bucket `eris`. Everything lives in DIR (configuration, monitor data,
# logs, sockets); no authentication (cephx off), loopback only. Ports are
# picked free at start. Every daemon runs as a child of this script with
# its PID in DIR/pids, so that tools/ceph-down.sh DIR stops exactly those.
#
# On success prints, for `eval` or `set -a; . DIR/env`:
#   CEPH_CONF=DIR/ceph.conf
#   ERIS_TEST_RADOS_POOL=eris
# and with --rgw:
#   AWS_ENDPOINT_URL=http://127.0.0.1:PORT  AWS_ACCESS_KEY_ID=...
#   AWS_SECRET_ACCESS_KEY=...  AWS_REGION=us-east-1  ERIS_TEST_S3_BUCKET=eris
# (also written to DIR/env). Progress goes to standard error.
#
# Exit status: 0 up; 77 Ceph is not installed; 1 it did not come up
# within 60 s (what was started is stopped again; logs stay in DIR/log).
set -eu

usage() {
	echo "usage: ceph-up.sh DIR [--osds N] [--rgw]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
DIR=$1
shift
OSDS=1
RGW=0
while [ $# -gt 0 ]; do
	case $1 in
	--osds)
		[ $# -ge 2 ] || usage
		OSDS=$2
		shift 2
		;;
	--rgw)
		RGW=1
		shift
		;;
	*) usage ;;
	esac
done
case $OSDS in
'' | *[!0-9]*) usage ;;
esac
if [ "$OSDS" -lt 1 ] || [ "$OSDS" -gt 8 ]; then usage; fi

say() { echo "ceph-up: $*" >&2; }

# Ceph's programs live in sbin on some systems.
PATH=$PATH:/usr/sbin:/sbin
export PATH
need="ceph-mon ceph-osd ceph ceph-authtool monmaptool rados python3"
[ "$RGW" = 1 ] && need="$need radosgw radosgw-admin curl"
for prog in $need; do
	if ! command -v "$prog" >/dev/null 2>&1; then
		say "$prog not found: no test cluster, skipping." \
			"Debian: apt-get install ceph-mon ceph-osd ceph-common" \
			"radosgw curl (tools/install-deps.sh installs them)"
		exit 77
	fi
done

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
if [ -n "$(ls -A "$DIR/pids" 2>/dev/null)" ]; then
	say "$DIR already has a running cluster (stop it: tools/ceph-down.sh $DIR)"
	exit 1
fi
rm -rf "$DIR/mon.a" "$DIR"/osd.* "$DIR/rgw" "$DIR/log" "$DIR/run" \
	"$DIR/pids" "$DIR/env" "$DIR/ceph.conf" "$DIR/keyring" "$DIR/monmap"
mkdir -p "$DIR/log" "$DIR/run" "$DIR/pids"
CONF=$DIR/ceph.conf
HERE=$(cd "$(dirname "$0")" && pwd)

START=$(date +%s)
DEADLINE=$((START + 60))

fail() {
	say "$*"
	for f in "$DIR"/log/*.log; do
		[ -s "$f" ] || continue
		echo "--- last lines of $f" >&2
		tail -n 8 "$f" >&2
	done
	"$HERE/ceph-down.sh" "$DIR" >&2 || true
	exit 1
}

left() {
	now=$(date +%s)
	echo $((DEADLINE - now))
}

# wait_for WHAT COMMAND...: retries COMMAND until it succeeds or the
# 60 s of the whole start-up have gone; each try is itself bounded.
wait_for() {
	what=$1
	shift
	while :; do
		t=$(left)
		[ "$t" -gt 0 ] || fail "timed out waiting for $what"
		[ "$t" -gt 10 ] && t=10
		if timeout "$t" "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.3
	done
}

# A free port for the monitor (and one for radosgw), and a free range of
# 10 ports per OSD above it for the OSDs' messengers; below the kernel's
# ephemeral ports, which any outgoing connection on the machine may take
# between this check and the daemon's bind (radosgw binds a minute later).
PORTS=$(python3 - "$OSDS" <<'EOF'
import random, socket, sys
n = 10 * int(sys.argv[1]) + 2
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        top = int(f.read().split()[0])
except (OSError, ValueError, IndexError):
    top = 32768
if top - n <= 10000:
    top = 60000
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
    finally:
        s.close()
for _ in range(200):
    base = random.randrange(10000, top - n)
    if all(free(p) for p in range(base, base + n)):
        print(base, base + 1, base + 2, base + n - 1)
        sys.exit(0)
sys.exit(1)
EOF
) || fail "no free range of ports on 127.0.0.1"
# shellcheck disable=SC2086 # four numbers, split on purpose
set -- $PORTS
MON_PORT=$1
RGW_PORT=$2
MS_MIN=$3
MS_MAX=$4

MINSIZE=1
[ "$OSDS" -ge 2 ] && MINSIZE=2
FSID=$(python3 -c 'import uuid; print(uuid.uuid4())')

cat >"$CONF" <<EOF
# Written by tools/ceph-up.sh: a test cluster on loopback, no auth.
[global]
fsid = $FSID
mon_host = v2:127.0.0.1:$MON_PORT
mon_initial_members = a
public_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_ipv6 = false
ms_mon_client_mode = crc
ms_bind_port_min = $MS_MIN
ms_bind_port_max = $MS_MAX
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
keyring = $DIR/keyring
run_dir = $DIR/run
admin_socket = $DIR/run/\$name.asok
log_file = $DIR/log/\$name.log
pid_file = $DIR/run/\$name.pid
chdir = $DIR
mon_data = $DIR/mon.\$id
osd_data = $DIR/osd.\$id
osd_pool_default_size = $OSDS
osd_pool_default_min_size = $MINSIZE
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 2
mon_osd_min_down_reporters = 1
client_mount_timeout = 15
rados_mon_op_timeout = 15

[osd]
osd_objectstore = memstore
memstore_device_bytes = 2G
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 1
# A killed OSD is marked down within seconds, not 20 s.
osd_heartbeat_interval = 1
osd_heartbeat_grace = 5

[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw_dns_name = 127.0.0.1
rgw_data = $DIR/rgw
EOF

# start NAME COMMAND...: a daemon in the foreground, as our child, with
# its PID recorded before anything else can go wrong.
start() {
	name=$1
	shift
	"$@" </dev/null >"$DIR/log/$name.out" 2>&1 &
	echo $! >"$DIR/pids/$name.pid"
}

say "monitor on 127.0.0.1:$MON_PORT"
ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. \
	--cap mon 'allow *' >/dev/null 2>&1 || fail "ceph-authtool failed"
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" \
	"$DIR/monmap" >/dev/null 2>&1 || fail "monmaptool failed"
ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" \
	--keyring "$DIR/keyring" >"$DIR/log/mkfs-mon.out" 2>&1 ||
	fail "ceph-mon --mkfs failed"
start mon.a ceph-mon -c "$CONF" -f -i a
wait_for "the monitor" ceph -c "$CONF" --connect-timeout 5 mon stat

i=0
while [ "$i" -lt "$OSDS" ]; do
	uuid=$(python3 -c 'import uuid; print(uuid.uuid4())')
	t=$(left)
	id=$(timeout "$t" ceph -c "$CONF" osd new "$uuid" 2>>"$DIR/log/ceph-cli.out") ||
		fail "ceph osd new failed"
	mkdir -p "$DIR/osd.$id"
	timeout "$(left)" ceph-osd -c "$CONF" -i "$id" --mkfs --osd-uuid "$uuid" \
		>"$DIR/log/mkfs-osd.$id.out" 2>&1 || fail "ceph-osd --mkfs failed"
	start "osd.$id" ceph-osd -c "$CONF" -f -i "$id"
	i=$((i + 1))
done
say "$OSDS OSD(s) started"

wait_for "$OSDS OSD(s) up" sh -c "$(command -v ceph) -c '$CONF' --connect-timeout 5 osd stat -f json |
	python3 -c 'import json, sys
s = json.load(sys.stdin)
sys.exit(0 if s[\"num_up_osds\"] == s[\"num_osds\"] == $OSDS else 1)'"

timeout "$(left)" ceph -c "$CONF" osd pool create eris 8 8 replicated \
	>>"$DIR/log/ceph-cli.out" 2>&1 || fail "creating pool eris failed"
timeout "$(left)" ceph -c "$CONF" osd pool application enable eris eris \
	>>"$DIR/log/ceph-cli.out" 2>&1 || fail "enabling pool eris failed"
echo probe >"$DIR/probe"
wait_for "a first write to pool eris" rados -c "$CONF" -p eris put \
	ceph-up-probe "$DIR/probe"
rados -c "$CONF" -p eris rm ceph-up-probe >/dev/null 2>&1 || true
rm -f "$DIR/probe"

{
	echo "CEPH_CONF=$CONF"
	echo "ERIS_TEST_RADOS_POOL=eris"
} >"$DIR/env.tmp"

if [ "$RGW" = 1 ]; then
	say "radosgw on 127.0.0.1:$RGW_PORT"
	mkdir -p "$DIR/rgw"
	start rgw.a radosgw -c "$CONF" -f -n client.rgw.a
	wait_for "radosgw" curl -sf -o /dev/null "http://127.0.0.1:$RGW_PORT/"
	AK=$(python3 -c 'import secrets, string
print("".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(20)))')
	SK=$(python3 -c 'import secrets; print(secrets.token_urlsafe(30))')
	timeout "$(left)" radosgw-admin -c "$CONF" user create --uid=eris \
		--display-name=eris --access-key="$AK" --secret-key="$SK" \
		>>"$DIR/log/ceph-cli.out" 2>&1 || fail "radosgw-admin user create failed"
	# The key pair goes through a file, not the command line.
	printf 'user = "%s:%s"\n' "$AK" "$SK" >"$DIR/curl-auth"
	chmod 600 "$DIR/curl-auth"
	wait_for "bucket eris" curl -sf -K "$DIR/curl-auth" -X PUT \
		--aws-sigv4 "aws:amz:us-east-1:s3" \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
		"http://127.0.0.1:$RGW_PORT/eris"
	rm -f "$DIR/curl-auth"
	{
		echo "AWS_ENDPOINT_URL=http://127.0.0.1:$RGW_PORT"
		echo "AWS_ACCESS_KEY_ID=$AK"
		echo "AWS_SECRET_ACCESS_KEY=$SK"
		echo "AWS_REGION=us-east-1"
		echo "ERIS_TEST_S3_BUCKET=eris"
	} >>"$DIR/env.tmp"
fi

chmod 600 "$DIR/env.tmp"
mv "$DIR/env.tmp" "$DIR/env"
say "up in $(($(date +%s) - START)) s ($DIR)"
cat "$DIR/env"
