# Start and stop a private single-node Ceph RGW for one test script. Source
# this file (POSIX sh). Needs ceph-mon, ceph-osd, radosgw, ceph-common,
# curl and python3; root is not required. Nothing global is used: no
# systemd, no /etc/ceph, no /var/lib/ceph; every daemon gets -c CONF.
#
#   rgw_start [--bucket NAME]...
#       Starts a monitor, one in-memory OSD (memstore) and radosgw on
#       127.0.0.1, creates an S3 user and the buckets (RGW wants names of
#       3-63 characters), and exports S3_PORT, S3_ENDPOINT, RGW_ACCESS_KEY,
#       RGW_SECRET_KEY, RGW_PIDS (radosgw, osd, mon) and RGW_TMP (config,
#       data and logs; removed on stop). Requests must be SigV4-signed with
#       RGW_ACCESS_KEY / RGW_SECRET_KEY, region us-east-1. On failure prints
#       why and the daemons' last log lines, stops everything, returns 1.
#   rgw_stop
#       Stops it and removes RGW_TMP. Safe to call twice, e.g. from a trap.
# Call both in the script's own shell, not a subshell: stop waits for the
# daemons as its children.

# Space the OSD reports; the data lives in its RSS.
: "${RGW_MEMSTORE_BYTES:=2147483648}"

# Two ports the kernel considers free now, on one line. Another process may
# take one before the daemon binds it, so rgw_start retries with fresh ones.
_rgw_free_ports() {
    python3 -c 'import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])'
}

# _rgw_listening PID PORT: whether process PID listens on 127.0.0.1:PORT.
# Someone else may hold a port we picked (then our daemon fails to bind), so
# only a socket the daemon itself owns counts.
_rgw_listening() {
    find "/proc/$1/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null |
        awk -v a="0100007F:$(printf %04X "$2")" '
            FILENAME == "-" { gsub(/[^0-9]/, ""); own[$0] = 1; next }
            $2 == a && $4 == "0A" && ($10 in own) { found = 1 }
            END { exit !found }' - /proc/net/tcp
}

_rgw_conf() {
    cat <<EOF
[global]
fsid = $1
mon host = v2:127.0.0.1:$2
public addr = 127.0.0.1
# msgr2 only: one port for the monitor.
ms bind msgr1 = false
ms bind ipv6 = false
# A taken port must fail fast so rgw_start can pick another.
ms bind retry count = 1
auth cluster required = none
auth service required = none
auth client required = none
# The default modes offer "secure", which needs cephx: radosgw then fails to
# authenticate to the monitor (get_initial_auth_request returned -13).
ms cluster mode = crc
ms service mode = crc
ms client mode = crc
ms mon cluster mode = crc
ms mon service mode = crc
ms mon client mode = crc
run dir = $RGW_TMP/run
crash dir = $RGW_TMP/crash
# Never read /etc/ceph; with auth off no key is needed, so it need not exist.
keyring = $RGW_TMP/keyring
osd pool default size = 1
osd pool default min size = 1
# RGW makes 7 pools; 32 PGs each would near mon max pg per osd (250).
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon warn on pool no redundancy = false
# Each pool creation and the OSD boot wait for a Paxos round: with the
# default 1 s, startup takes ~15 s instead of ~1.6 s.
paxos propose interval = 0.05
[mon]
mon data = $RGW_TMP/mon
log file = $RGW_TMP/log/mon.log
# Else it writes /var/log/ceph/ceph.log.
mon cluster log to file = false
# A nearly full disk on the test machine must not stop the monitor.
mon data avail crit = 0
mon data avail warn = 0
[osd]
osd data = $RGW_TMP/osd
log file = $RGW_TMP/log/osd.log
osd objectstore = memstore
memstore device bytes = $RGW_MEMSTORE_BYTES
# Stop without a goodbye to the monitor, which goes next anyway.
osd fast shutdown notify mon = false
[client.rgw]
log file = $RGW_TMP/log/rgw.log
rgw data = $RGW_TMP/rgw
rgw frontends = beast endpoint=127.0.0.1:$3
# Nothing to expire or collect in a test; fewer threads, quicker stop.
rgw enable lc threads = false
rgw enable gc threads = false
# SSE-C over plain HTTP (production RGW insists on TLS for it).
rgw crypt require ssl = false
# 512 by default: ~450 more threads (tasks under a pids limit) for nothing.
rgw thread pool size = 64
EOF
}

# _rgw_fail WHY [nologs]: print why and (unless nologs) the daemons' last
# log lines, stop everything, fail.
_rgw_fail() {
    echo "rgw_start: $1" >&2
    if [ -z "${2:-}" ]; then
        for _rgw_f in "$RGW_TMP"/log/*; do
            [ -s "$_rgw_f" ] || continue
            echo "rgw_start: last lines of ${_rgw_f##*/}:" >&2
            grep -v '^$' "$_rgw_f" | tail -n 8 | cut -c1-300 >&2
        done
    fi
    rgw_stop
    return 1
}

# Whether our child PID still runs: kill -0 also succeeds on a zombie, which
# a child stays until the shell reaps it with wait.
_rgw_alive() {
    [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# One attempt with fresh ports. Returns 2 when a port was taken (worth a
# retry), 1 on any other failure.
_rgw_try() {
    RGW_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rgw.XXXXXX") || return 1
    RGW_PIDS=
    export RGW_TMP RGW_PIDS
    _rgw_c=$RGW_TMP/ceph.conf
    _rgw_deadline=$(($(date +%s) + 60))
    mkdir "$RGW_TMP/run" "$RGW_TMP/log" "$RGW_TMP/mon" "$RGW_TMP/osd" "$RGW_TMP/rgw" ||
        { rgw_stop; return 1; }
    _rgw_ports=$(_rgw_free_ports) || { _rgw_fail "python3 could not find free ports"; return 1; }
    _rgw_mp=${_rgw_ports% *}
    S3_PORT=${_rgw_ports#* }
    _rgw_fsid=$(cat /proc/sys/kernel/random/uuid)
    _rgw_conf "$_rgw_fsid" "$_rgw_mp" "$S3_PORT" >"$_rgw_c"

    # The monitor's store is made from a map naming its address.
    if ! monmaptool --create --fsid "$_rgw_fsid" --addv a "[v2:127.0.0.1:$_rgw_mp]" \
        "$RGW_TMP/monmap" >"$RGW_TMP/log/setup" 2>&1 ||
        ! ceph-mon -c "$_rgw_c" -i a --mkfs --monmap "$RGW_TMP/monmap" >>"$RGW_TMP/log/setup" 2>&1; then
        _rgw_fail "could not create the monitor"
        return 1
    fi
    # -f: stay in the foreground so $! is the daemon and stop can wait for it.
    ceph-mon -c "$_rgw_c" -i a -f >"$RGW_TMP/log/mon.out" 2>&1 </dev/null &
    RGW_PIDS=$!
    _rgw_named="ceph-mon:$!"

    # Wait for the monitor's own socket: if another process holds the port,
    # the ceph client would talk to it until its timeout.
    until _rgw_listening "$RGW_PIDS" "$_rgw_mp"; do
        _rgw_check || return $?
        sleep 0.05
    done
    # Register osd.0 and make its empty store; the OSD then boots into it.
    _rgw_uuid=$(cat /proc/sys/kernel/random/uuid)
    ceph -c "$_rgw_c" --connect-timeout 20 osd new "$_rgw_uuid" >>"$RGW_TMP/log/setup" 2>&1 ||
        { _rgw_fail "could not register the OSD with the monitor"; return 1; }
    ceph-osd -c "$_rgw_c" -i 0 --mkfs --osd-uuid "$_rgw_uuid" >>"$RGW_TMP/log/setup" 2>&1 ||
        { _rgw_fail "could not create the OSD"; return 1; }
    ceph-osd -c "$_rgw_c" -i 0 -f >"$RGW_TMP/log/osd.out" 2>&1 </dev/null &
    RGW_PIDS="$! $RGW_PIDS"
    _rgw_named="ceph-osd:$! $_rgw_named"
    # radosgw waits for the OSD by itself while it creates its pools.
    radosgw -c "$_rgw_c" -n client.rgw -f >"$RGW_TMP/log/rgw.out" 2>&1 </dev/null &
    RGW_PIDS="$! $RGW_PIDS"
    _rgw_named="radosgw:$! $_rgw_named"

    # Ready when radosgw holds its port and an anonymous GET / gets an HTTP
    # answer.
    until _rgw_listening "${RGW_PIDS%% *}" "$S3_PORT" &&
        curl -s -o /dev/null --noproxy '*' --max-time 2 "http://127.0.0.1:$S3_PORT/"; do
        _rgw_check || return $?
        sleep 0.1
    done
    return 0
}

# During startup: fails (and stops everything) when a daemon has exited or
# time is up; 2 when it was for a taken port.
_rgw_check() {
    for _rgw_p in $_rgw_named; do
        _rgw_alive "${_rgw_p#*:}" && continue
        _rgw_rc=0
        wait "${_rgw_p#*:}" || _rgw_rc=$?
        # radosgw exits with EADDRINUSE (98), not always having logged it;
        # the monitor exits 1 after logging "unable to bind monitor to".
        if [ "$_rgw_rc" = 98 ] || grep -qs 'unable to bind' "$RGW_TMP"/log/*; then
            rgw_stop
            return 2
        fi
        _rgw_fail "${_rgw_p%:*} exited (status $_rgw_rc) during startup"
        return 1
    done
    if [ "$(date +%s)" -ge "$_rgw_deadline" ]; then
        _rgw_fail "not ready within 60 s (radosgw on port $S3_PORT)"
        return 1
    fi
    return 0
}

rgw_start() {
    _rgw_buckets=
    while [ $# -gt 0 ]; do
        case $1 in
        --bucket)
            if [ $# -lt 2 ]; then
                echo "rgw_start: --bucket needs a name" >&2
                return 1
            fi
            # RGW refuses shorter or longer names (InvalidBucketName).
            if [ "${#2}" -lt 3 ] || [ "${#2}" -gt 63 ]; then
                echo "rgw_start: bucket name '$2': RGW wants 3 to 63 characters" >&2
                return 1
            fi
            _rgw_buckets="$_rgw_buckets $2"
            shift 2
            ;;
        *)
            echo "rgw_start: unknown option $1" >&2
            return 1
            ;;
        esac
    done
    for _rgw_b in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool curl python3; do
        if ! command -v "$_rgw_b" >/dev/null 2>&1; then
            echo "rgw_start: $_rgw_b not found (apt-get install ceph-mon ceph-osd radosgw curl)" >&2
            return 1
        fi
    done
    # A CEPH_ARGS or CEPH_CONF of the caller must not reach our commands.
    unset CEPH_ARGS CEPH_CONF

    _rgw_attempt=1
    # In a condition, so a caller's set -e does not end the shell midway.
    until _rgw_try; do
        # 2: a port was taken.
        if [ $? -ne 2 ]; then return 1; fi
        if [ "$_rgw_attempt" -ge 3 ]; then
            echo "rgw_start: ports kept being taken; giving up" >&2
            return 1
        fi
        _rgw_attempt=$((_rgw_attempt + 1))
    done

    RGW_ACCESS_KEY=RGWTEST
    RGW_SECRET_KEY=RGWTESTSECRET
    S3_ENDPOINT=http://127.0.0.1:$S3_PORT
    export S3_PORT S3_ENDPOINT RGW_ACCESS_KEY RGW_SECRET_KEY
    radosgw-admin -c "$_rgw_c" user create --uid rgwtest --display-name rgwtest \
        --access-key "$RGW_ACCESS_KEY" --secret-key "$RGW_SECRET_KEY" >>"$RGW_TMP/log/setup" 2>&1 ||
        { _rgw_fail "radosgw-admin user create failed: $(tail -n 3 "$RGW_TMP/log/setup")" nologs; return 1; }
    for _rgw_b in $_rgw_buckets; do
        # curl signs SigV4 itself but (7.88) sends no x-amz-content-sha256,
        # without which RGW says SignatureDoesNotMatch; this is the empty body's.
        _rgw_code=$(curl -s -o "$RGW_TMP/log/bucket" -w '%{http_code}' --noproxy '*' -X PUT \
            --aws-sigv4 aws:amz:us-east-1:s3 --user "$RGW_ACCESS_KEY:$RGW_SECRET_KEY" \
            -H 'x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' \
            "$S3_ENDPOINT/$_rgw_b") || :
        if [ "$_rgw_code" != 200 ]; then
            _rgw_fail "creating bucket $_rgw_b: HTTP $_rgw_code $(cat "$RGW_TMP/log/bucket")" nologs
            return 1
        fi
    done
}

rgw_stop() {
    # radosgw first: it is a client of the OSD and the monitor. `|| :`
    # throughout: callers may run under set -e.
    for _rgw_p in ${RGW_PIDS:-}; do
        kill "$_rgw_p" 2>/dev/null || :
        _rgw_tries=10
        while _rgw_alive "$_rgw_p" && [ "$_rgw_tries" -gt 0 ]; do
            _rgw_tries=$((_rgw_tries - 1))
            sleep 0.05
        done
        kill -9 "$_rgw_p" 2>/dev/null || :
        # Reap it so no zombie outlives the stop (only works for our own child).
        wait "$_rgw_p" 2>/dev/null || :
    done
    if [ -n "${RGW_TMP:-}" ]; then rm -rf "$RGW_TMP"; fi
    unset RGW_PIDS RGW_TMP S3_PORT S3_ENDPOINT RGW_ACCESS_KEY RGW_SECRET_KEY
    return 0
}
