#!/bin/sh
# Benchmark: a generated pair of BENCH_MB-sized files (default 1024), the
# second a release of the first (a 40% section moved to the end, 1 MiB of
# new data, scattered patches). Prints time, peak RSS and delta size of:
#   - Debian's xdelta3 -e -9 on the pair (the raw encoder, 64 MiB window)
#   - deltaglider uploading the pair to a file:// store (default window,
#     and DG_WINDOW_MB=64 for a like-for-like window)
#   - deltaglider downloading the second back, verified
#   - with s3rver installed (make test did), the same upload over HTTP.
# Needs: ./deltaglider (make), xdelta3, openssl, GNU time. Figures only:
# nothing here passes or fails.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
DG=${DG_BIN:-$here/../deltaglider}
MB=${BENCH_MB:-1024}
W=$(mktemp -d "${BENCH_DIR:-/tmp}/dg-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export DG_CACHE_DIR="$W/cache"

stream() { openssl enc -aes-128-ctr -nosalt -pass "pass:$1" -pbkdf2 -in /dev/zero 2>/dev/null; }
echo "generating a ${MB} MiB pair in $W ..."
stream base | head -c $((MB << 20)) >"$W/v1.tar"
a=$((MB * 3 / 10)) b=$((MB * 7 / 10))
{
    head -c $((a << 20)) "$W/v1.tar"
    stream new | head -c 1048576
    tail -c +$(((b << 20) + 1)) "$W/v1.tar"
    head -c $((b << 20)) "$W/v1.tar" | tail -c +$(((a << 20) + 1))
} >"$W/v2.tar"
i=1
while [ $i -le 20 ]; do
    printf 'patch %03d' $i | dd of="$W/v2.tar" bs=1 seek=$((i * (MB << 20) / 21)) conv=notrunc 2>/dev/null
    i=$((i + 1))
done

# run LABEL CMD...: one line of figures.
run() {
    label=$1
    shift
    /usr/bin/time -f '%e %M' -o "$W/time" "$@" >"$W/out" 2>"$W/err" || { cat "$W/err"; exit 1; }
    set -- $(tail -n 1 "$W/time")
    printf '%-44s %8.2f s %8d MiB peak RSS' "$label" "$1" $(($2 / 1024))
}
# stored DELTA: the delta's size, or a note when the ratio rule stored the file.
stored() {
    if [ -f "$1" ]; then printf '  %12d bytes\n' "$(wc -c <"$1")"; else echo "  (over the max ratio: stored in full)"; fi
}
size() { printf '  %12d bytes\n' "$(wc -c <"$1")"; }

printf '%-44s %10s %19s %20s\n' "" "time" "memory" "delta"
run "xdelta3 -e -9 (Debian CLI, 64 MiB window)" xdelta3 -e -f -9 -s "$W/v1.tar" "$W/v2.tar" "$W/cli.delta"
size "$W/cli.delta"
run "xdelta3 -d (Debian CLI)" xdelta3 -d -f -s "$W/v1.tar" "$W/cli.delta" "$W/cli.out"
echo
cmp -s "$W/cli.out" "$W/v2.tar" || echo "xdelta3 round trip differs!"
rm -f "$W/cli.out"

run "deltaglider cp v1 (reference)" "$DG" cp "$W/v1.tar" "file://$W/store/"
echo
run "deltaglider cp v2 (delta, default window)" "$DG" cp "$W/v2.tar" "file://$W/store/"
stored "$W/store/v2.tar.delta"
"$DG" cp "$W/v1.tar" "file://$W/store64/" >/dev/null
run "deltaglider cp v2 (DG_WINDOW_MB=64)" env DG_WINDOW_MB=64 "$DG" cp "$W/v2.tar" "file://$W/store64/"
stored "$W/store64/v2.tar.delta"
rm -rf "$W/store64"
run "deltaglider cp v2 back (decode + verify)" "$DG" cp "file://$W/store/v2.tar" "$W/v2.back"
echo
cmp -s "$W/v2.back" "$W/v2.tar" || echo "deltaglider round trip differs!"
rm -f "$W/v2.back"

if [ -d "$here/node_modules/s3rver" ]; then
    TESTS_DIR=$here
    export TESTS_DIR AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
    . "$here/lib/s3rver.sh"
    s3rver_start --bucket bench >/dev/null
    trap 's3rver_stop; rm -rf "$W"' EXIT
    run "deltaglider cp v1 to s3rver (reference)" "$DG" --endpoint-url "$S3_ENDPOINT" cp "$W/v1.tar" s3://bench/rel/
    echo
    run "deltaglider cp v2 to s3rver (delta)" "$DG" --endpoint-url "$S3_ENDPOINT" cp "$W/v2.tar" s3://bench/rel/
    echo
    run "deltaglider cp v2 from s3rver" "$DG" --endpoint-url "$S3_ENDPOINT" cp s3://bench/rel/v2.tar "$W/v2.back"
    echo
fi
