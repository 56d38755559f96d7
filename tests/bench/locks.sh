#!/bin/sh
# What the safety protocol of issue 8 (create-only references, leases and
# delete markers, the clock check) costs in requests and time, through a
# relay adding a real link's round trip (RTT_MS, default 25). Compares
# ./deltaglider with DG_BEFORE (an older binary) when given. Prints the
# median of RUNS (default 5) and the requests each operation sends.
# Figures only: nothing here passes or fails.
#
#   DG_BEFORE=/tmp/old-dg sh tests/bench/locks.sh
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
TESTS_DIR=$here
export TESTS_DIR
DG=${DG_BIN:-$here/../deltaglider}
RTT=${RTT_MS:-25}
RUNS=${RUNS:-5}
. "$here/lib/s3rver.sh"
W=$(mktemp -d "${BENCH_DIR:-/tmp}/dg-lockbench.XXXXXX")
cleanup() { [ -z "${LAT_PID:-}" ] || kill "$LAT_PID" 2>/dev/null; s3rver_stop; rm -rf "$W"; }
trap cleanup EXIT
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
export DG_CACHE_DIR="$W/cache" HOME="$W"

s3rver_start --bucket bench >/dev/null
: >"$W/lat"
node "$here/bench/latency.js" --upstream "$S3_PORT" --rtt "$RTT" >"$W/lat" &
LAT_PID=$!
while ! grep -q READY "$W/lat"; do sleep 0.1; done
EP=http://127.0.0.1:$(sed -n 's/READY //p' "$W/lat")

# Twenty versions of a small archive.
mkdir -p "$W/v/tree" "$W/many"
openssl enc -aes-128-ctr -nosalt -pass pass:bench -pbkdf2 -in /dev/zero 2>/dev/null |
    head -c 200000 >"$W/v/tree/lib.so"
i=1
while [ $i -le 20 ]; do
    printf 'v%s' $i | dd of="$W/v/tree/lib.so" bs=1 seek=$((i * 5000)) conv=notrunc 2>/dev/null
    (cd "$W/v/tree" && zip -q -X -r "../../many/app-$i.zip" .)
    i=$((i + 1))
done

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# measure LABEL ARGS: median seconds of RUNS runs of $bin ARGS (@N@ becomes
# the run's number), and the requests the last one sent.
measure() {
    label=$1 template=$2
    : >"$W/times"
    r=1
    while [ $r -le "$RUNS" ]; do
        # shellcheck disable=SC2046
        set -- $(echo "$template" | sed "s/@N@/$r/g")
        start=$(date +%s%N)
        "$bin" --debug --endpoint-url "$EP" "$@" >/dev/null 2>"$W/dbg" || { cat "$W/dbg" >&2; exit 1; }
        echo $((($(date +%s%N) - start) / 1000000)) >>"$W/times"
        r=$((r + 1))
    done
    printf '%-44s %-7s %6d ms %4d requests\n' "$label" "$which" "$(median <"$W/times")" \
        "$(grep -c ' (attempt ' "$W/dbg")"
}

for which in before after; do
    bin=$DG
    if [ $which = before ]; then bin=${DG_BEFORE:-}; [ -n "$bin" ] || continue; fi
    p=$which
    "$bin" --endpoint-url "$EP" cp "$W/many/app-1.zip" "s3://bench/$p/one/" >/dev/null
    measure "upload of a delta into an existing folder" "cp $W/many/app-2.zip s3://bench/$p/one/v@N@.zip"
    measure "first upload into an empty folder" "cp $W/many/app-3.zip s3://bench/$p/new@N@/"
    measure "cp -r of 20 archives into one folder" "cp -r $W/many s3://bench/$p/tree@N@/"
    measure "rm of the last delta (the reference goes)" "rm s3://bench/$p/new@N@/app-3.zip"
    measure "download of a delta" "cp s3://bench/$p/one/v1.zip $W/got.zip"
done
echo "(round trip ${RTT} ms through tests/bench/latency.js; median of $RUNS runs)"
