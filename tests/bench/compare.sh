#!/bin/sh
# deltaglider side by side with aws s3 and rclone on one s3rver, directly
# and through a relay that adds a real link's round trip (RTT_MS, default
# 25). Runs alternate between the tools; each figure is the median of RUNS
# (default 3); ratios are ours/theirs (below 1: we are faster). Cases:
#   1. 500 files x 64 KiB up and down (cp --recursive), 50 files x 8 MiB
#   2. one BIG_MB (default 1024) MiB file up and down, and down through a
#      relay that also caps each connection at RATE_MB (default 50) MB/s
#   3. a real release family (typescript 5.4.2 ... 5.5.2 from npm, as .tgz,
#      .zip and .tar): time of the first upload and of the next ones (next
#      to Debian's xdelta3 -e -6 on the same pairs), bytes stored, download;
#      "dgk" is deltaglider with its reference cache kept between runs
#      (DG_CACHE_ENCRYPTION_KEY), so a next upload fetches no reference
#   4. download + verify of a delta against xdelta3 -d + sha256sum, and
#      against xdelta3 -d alone
#   5. ls of a prefix holding 200 deltas
# Peak RSS is printed for deltaglider. CASES="1 5" picks cases.
# Needs: node and tests/node_modules (make test installs s3rver), aws,
# rclone, xdelta3, npm, zip, GNU time. Figures only: nothing passes or fails.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
TESTS_DIR=$here
export TESTS_DIR
DG=${DG_BIN:-$here/../deltaglider}
RTT=${RTT_MS:-25}
RATE=${RATE_MB:-50}
RUNS=${RUNS:-3}
BIG=${BIG_MB:-1024}
CASES=${CASES:-1 2 3 4 5}
. "$here/lib/s3rver.sh"
. "$here/bench/families.sh"
W=$(mktemp -d "${BENCH_DIR:-/tmp}/dg-compare.XXXXXX")
cleanup() {
    for p in ${LAT_PID:-} ${LAT2_PID:-}; do kill "$p" 2>/dev/null; done
    s3rver_stop
    rm -rf "$W"
}
trap cleanup EXIT
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
export DG_CACHE_DIR="$W/cache" HOME="$W" AWS_PAGER= DG="$DG"
KEPT_KEY=$(openssl rand -base64 32)
export KEPT_KEY
for t in aws rclone xdelta3 node; do
    command -v $t >/dev/null || { echo "compare.sh: $t is not installed" >&2; exit 1; }
done

s3rver_start --bucket bench >/dev/null
node "$here/bench/latency.js" --upstream "$S3_PORT" --rtt "$RTT" >"$W/lat" &
LAT_PID=$!
node "$here/bench/latency.js" --upstream "$S3_PORT" --rtt "$RTT" --rate "$RATE" >"$W/lat2" &
LAT2_PID=$!
while ! grep -q READY "$W/lat" || ! grep -q READY "$W/lat2"; do sleep 0.1; done
DIRECT=$S3_ENDPOINT
RELAY=http://127.0.0.1:$(sed -n 's/READY //p' "$W/lat")
CAPPED=http://127.0.0.1:$(sed -n 's/READY //p' "$W/lat2")
export EP
export RCLONE_CONFIG_B_TYPE=s3 RCLONE_CONFIG_B_PROVIDER=Other RCLONE_CONFIG_B_ACCESS_KEY_ID=S3RVER \
    RCLONE_CONFIG_B_SECRET_ACCESS_KEY=S3RVER RCLONE_CONFIG_B_REGION=us-east-1 \
    RCLONE_CONFIG_B_FORCE_PATH_STYLE=true

# Commands per tool (up, down, put, get, lsp), in a file that timed runs
# load, since /usr/bin/time runs programs, not functions.
cat >"$W/tools.sh" <<'TOOLS'
# up SRC PREFIX, down PREFIX DIR, put FILE KEY, get KEY FILE, lsp PREFIX;
# $EP is the endpoint in use.
# Timed runs set RUN=exec, so the tool replaces the shell (and GNU time
# measures its peak RSS).
dg() { ${RUN:-} "$DG" --endpoint-url "$EP" "$@"; }
aw() { ${RUN:-} aws --endpoint-url "$EP" s3 "$@"; }
# --ignore-times: rclone would skip a file it finds there already.
rc() { ${RUN:-} env -u AWS_CA_BUNDLE rclone --config /dev/null --s3-endpoint "$EP" --s3-no-check-bucket \
    --s3-chunk-size 8M --ignore-times "$@"; }
up() { case $1 in
    dg) dg cp -r --no-progress "$2" "s3://bench/$3/" ;;
    aws) aw cp --recursive --only-show-errors "$2" "s3://bench/$3/" ;;
    rclone) rc copy "$2" "B:bench/$3" ;; esac; }
down() { case $1 in
    dg) dg cp -r --no-progress "s3://bench/$2/" "$3" ;;
    aws) aw cp --recursive --only-show-errors "s3://bench/$2/" "$3" ;;
    rclone) rc copy "B:bench/$2" "$3" ;; esac; }
put() { case $1 in
    dg) dg cp --no-progress "$2" "s3://bench/$3" ;;
    # dg with a cache kept between runs (its key given): no reference fetch
    dgk) DG_CACHE_ENCRYPTION_KEY=$KEPT_KEY dg cp --no-progress "$2" "s3://bench/$3" ;;
    aws) aw cp --only-show-errors "$2" "s3://bench/$3" ;;
    # s3rver refuses rclone's multipart uploads of 512 MiB and more
    # (InvalidPart on completion): one PUT instead.
    rclone) rc copyto --s3-upload-cutoff 5G "$2" "B:bench/$3" ;; esac; }
get() { case $1 in
    dg) dg cp --no-progress "s3://bench/$2" "$3" ;;
    dgk) DG_CACHE_ENCRYPTION_KEY=$KEPT_KEY dg cp --no-progress "s3://bench/$2" "$3" ;;
    aws) aw cp --only-show-errors "s3://bench/$2" "$3" ;;
    rclone) rc copyto "B:bench/$2" "$3" ;; esac; }
lsp() { case $1 in
    dg) dg ls "s3://bench/$2/" ;;
    aws) aw ls "s3://bench/$2/" ;;
    rclone) rc lsl "B:bench/$2" ;; esac; }
TOOLS
. "$W/tools.sh"

# timed TOOL LABEL CMD...: run, append the seconds to $W/t.LABEL.TOOL and
# (for deltaglider) the peak RSS in KiB to $W/m.LABEL.
timed() {
    tool=$1 label=$2
    shift 2
    /usr/bin/time -f '%e %M' -o "$W/time" sh -c 'RUN=exec; . "$0"; "$@"' "$W/tools.sh" "$@" \
        >"$W/out" 2>"$W/err" ||
        { echo "$tool $label failed:"; tail -3 "$W/err"; exit 1; }
    set -- $(tail -n 1 "$W/time")
    echo "$1" >>"$W/t.$label.$tool"
    [ "$tool" != dg ] || echo "$2" >>"$W/m.$label"
}
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
peak() { sort -n "$1" | tail -n 1 | awk '{ printf "%d MiB", $1 / 1024 }'; }
# report LABEL [TOOLS]: one line of medians and ratios.
report() {
    label=$1 tools=${2:-dg aws rclone}
    ours=$(median "$W/t.$label.dg")
    printf '%-34s dg %7.2f s' "$label" "$ours"
    for t in $tools; do
        [ "$t" = dg ] && continue
        theirs=$(median "$W/t.$label.$t")
        printf '   %s %6.2f s (x%.2f)' "$t" "$theirs" "$(echo "$ours $theirs" |
            awk '{ print ($2 > 0 ? $1 / $2 : 0) }')"
    done
    printf '   peak %s\n' "$(peak "$W/m.$label")"
}
clear_prefix() { "$DG" --endpoint-url "$DIRECT" rm -r --only-show-errors "s3://bench/$1/" >/dev/null 2>&1 || true; }

gen() { openssl enc -aes-128-ctr -nosalt -pass "pass:$1" -pbkdf2 -in /dev/zero 2>/dev/null | head -c "$2"; }

# many LABEL COUNT BYTES: case 1 for one shape, directly and via the relay.
many() {
    mkdir -p "$W/src.$1"
    i=1
    while [ $i -le "$2" ]; do gen "$1$i" "$3" >"$W/src.$1/f$i.bin"; i=$((i + 1)); done
    for via in direct relay; do
        [ $via = direct ] && EP=$DIRECT || EP=$RELAY
        r=1
        while [ $r -le "$RUNS" ]; do
            for t in dg aws rclone; do
                clear_prefix "m$1$t"
                rm -rf "$W/back"
                timed $t "$1-up-$via" up $t "$W/src.$1" "m$1$t"
                timed $t "$1-down-$via" down $t "m$1$t" "$W/back"
                cmp -s "$W/back/f1.bin" "$W/src.$1/f1.bin" || { echo "$t: $1 differs"; exit 1; }
            done
            r=$((r + 1))
        done
        report "$1-up-$via"
        report "$1-down-$via"
    done
    rm -rf "$W/src.$1" "$W/back"
}

echo "deltaglider $("$DG" --version | cut -d' ' -f2), $(aws --version 2>&1 | cut -d' ' -f1)," \
    "$(rclone version 2>/dev/null | head -n 1); relay RTT ${RTT} ms; median of $RUNS"
for c in $CASES; do
    case $c in
    1)
        echo "== 1. many files (cp --recursive)"
        many 500x64KiB 500 65536
        many 50x8MiB 50 8388608
        ;;
    2)
        echo "== 2. one ${BIG} MiB file"
        gen big $((BIG << 20)) >"$W/big"
        EP=$DIRECT
        r=1
        while [ $r -le "$RUNS" ]; do
            for t in dg aws rclone; do
                rm -f "$W/big.back"
                clear_prefix "big-$t"
                timed $t big-up put $t "$W/big" "big-$t/big.bin"
                timed $t big-down get $t "big-$t/big.bin" "$W/big.back"
                rm -f "$W/big.back"
                EP=$CAPPED
                timed $t big-down-capped get $t "big-$t/big.bin" "$W/big.back"
                EP=$DIRECT
            done
            r=$((r + 1))
        done
        cmp -s "$W/big" "$W/big.back" || { echo "big file differs"; exit 1; }
        report big-up
        report big-down
        echo "(capped: ${RTT} ms RTT and ${RATE} MB/s per connection, as one connection to S3 gets)"
        report big-down-capped
        rm -f "$W/big" "$W/big.back"
        ;;
    3)
        echo "== 3. typescript 5.4.2 ... 5.5.2: each version uploaded in turn, then the last downloaded"
        F=$(families_fetch)
        EP=$DIRECT
        for ext in tgz zip tar; do
            r=1
            while [ $r -le "$RUNS" ]; do
                for t in dg dgk aws rclone; do
                    clear_prefix "f$ext$t"
                    which=first
                    for f in $(families_list "$F" typescript $ext); do
                        timed $t "ts.$ext-upload-$which" put $t "$f" "f$ext$t/$(basename "$f")"
                        which=next
                    done
                    rm -f "$W/last"
                    timed $t "ts.$ext-download" get $t "f$ext$t/$(basename "$f")" "$W/last"
                    cmp -s "$W/last" "$f" || { echo "$t: $f differs"; exit 1; }
                done
                r=$((r + 1))
            done
            report "ts.$ext-upload-first" "dgk aws rclone"
            report "ts.$ext-upload-next" "dgk aws rclone"
            report "ts.$ext-download" "dgk aws rclone"
            prev=
            for f in $(families_list "$F" typescript $ext); do
                [ -z "$prev" ] || timed xdelta3 "ts.$ext-raw" xdelta3 -e -f -6 -s "$prev" "$f" "$W/raw.d"
                prev=$f
            done
            raw=$(median "$W/t.ts.$ext-raw.xdelta3")
            printf '%-34s %7.2f s per pair (median); next upload / this: dg x%.2f, dg with a kept cache x%.2f\n' \
                "xdelta3 -e -6 of ts.$ext" "$raw" \
                "$(echo "$(median "$W/t.ts.$ext-upload-next.dg") $raw" | awk '{ print ($2 > 0 ? $1 / $2 : 0) }')" \
                "$(echo "$(median "$W/t.ts.$ext-upload-next.dgk") $raw" | awk '{ print ($2 > 0 ? $1 / $2 : 0) }')"
            orig=$(for f in $(families_list "$F" typescript $ext); do wc -c <"$f"; done |
                awk '{ s += $1 } END { print s }')
            stored=$(aws --endpoint-url "$DIRECT" s3 ls --recursive --summarize \
                "s3://bench/f${ext}dg/" | sed -n 's/.*Total Size: //p')
            printf '%-34s %d of %d bytes (%.1f%%); aws and rclone store all of them\n' \
                "ts.$ext stored by deltaglider" "$stored" "$orig" \
                "$(echo "$stored $orig" | awk '{ print 100 * $1 / $2 }')"
        done
        ;;
    4)
        echo "== 4. download + verify of a delta (swc 1.4.0 -> 1.4.5 .tar) vs xdelta3 -d + sha256sum"
        F=$(families_fetch)
        EP=$DIRECT
        clear_prefix swc
        set -- $(families_list "$F" swc tar)
        first=$1
        eval "last=\${$#}"
        dg cp --no-progress "$first" s3://bench/swc/ >/dev/null
        dg cp --no-progress "$last" s3://bench/swc/ >/dev/null
        xdelta3 -e -f -6 -s "$first" "$last" "$W/raw.delta"
        r=1
        while [ $r -le "$RUNS" ]; do
            rm -f "$W/out.tar"
            timed dg swc-delta-download get dg "swc/$(basename "$last")" "$W/out.tar"
            timed xdelta3+sha swc-delta-download sh -c \
                "xdelta3 -d -f -s '$first' '$W/raw.delta' '$W/x.tar' && sha256sum '$W/x.tar'"
            timed xdelta3 swc-delta-download xdelta3 -d -f -s "$first" "$W/raw.delta" "$W/x.tar"
            r=$((r + 1))
        done
        cmp -s "$W/out.tar" "$last" || { echo "swc download differs"; exit 1; }
        report swc-delta-download "dg xdelta3+sha xdelta3"
        rm -f "$W/out.tar" "$W/x.tar" "$W/raw.delta"
        ;;
    5)
        echo "== 5. ls of a prefix with 200 deltas"
        EP=$DIRECT
        clear_prefix lsp
        mkdir -p "$W/ls"
        gen ls 100000 >"$W/ls/base"
        i=1
        while [ $i -le 200 ]; do
            cp "$W/ls/base" "$W/ls/v$i.tar"
            printf 'v%s' $i | dd of="$W/ls/v$i.tar" bs=1 seek=5000 conv=notrunc 2>/dev/null
            i=$((i + 1))
        done
        dg cp --no-progress "$W/ls/v1.tar" s3://bench/lsp/ >/dev/null
        rm "$W/ls/base" "$W/ls/v1.tar"
        dg cp -r --no-progress "$W/ls" s3://bench/lsp/ >/dev/null
        for via in direct relay; do
            [ $via = direct ] && EP=$DIRECT || EP=$RELAY
            r=1
            while [ $r -le "$RUNS" ]; do
                for t in dg aws rclone; do timed $t "ls-200-deltas-$via" lsp $t lsp; done
                r=$((r + 1))
            done
            report "ls-200-deltas-$via"
        done
        rm -rf "$W/ls"
        ;;
    esac
done
