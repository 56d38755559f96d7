#!/bin/sh
# Runs every test suite and ends with "N passed, N failed".
#
#   DG_BIN=./deltaglider DG_UNIT="build/x86_64/unit build/asan/unit" \
#   DG_ASAN_BIN=build/asan/deltaglider sh tests/run.sh [SUITE...]
#
# A suite prints "ok - NAME" / "not ok - NAME: WHY" lines. Suites are the
# unit test binaries and the scripts in tests/e2e (run with the release
# binary, the ones listed in ASAN_SUITES again with the sanitizer build, and
# those in RGW_SUITES again against Ceph RGW instead of s3rver).
# Give suite names (e.g. 10-s3) to run only those scripts. DG_EMULATED=1
# (binaries under qemu) skips the memory figures, which would measure qemu;
# DG_LARGE=1 runs the files-over-4-GiB suite.
set -u
TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
export TESTS_DIR
# Run alone (sh tests/run.sh 10-s3), it takes the binary make built and
# installs the test servers' npm packages as make test does.
if [ -z "${DG_BIN:-}" ] && [ -x "$TESTS_DIR/../deltaglider" ]; then
    DG_BIN=$TESTS_DIR/../deltaglider
    export DG_BIN
fi
: "${DG_BIN:?set DG_BIN to the deltaglider binary (run make first)}"
if [ ! -f "$TESTS_DIR/node_modules/.installed" ]; then
    echo "tests/run.sh: installing the test servers (npm ci in tests/)"
    (cd "$TESTS_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null &&
        touch node_modules/.installed) ||
        { echo "tests/run.sh: npm ci failed; run it in tests/ and retry" >&2; exit 2; }
fi
log=${TEST_LOG:-$TESTS_DIR/../build/test.log}
mkdir -p "$(dirname "$log")"
: >"$log"
ASAN_SUITES=${ASAN_SUITES:-"10-s3 16-hostile 17-safety 20-https 30-delta 32-archive 35-parallel 40-cli 70-proxy 80-creds"}
# Suites run again against Ceph RGW (it checks SigV4 and honours conditional
# writes as AWS does) when radosgw is installed and the binaries are native;
# DG_REQUIRE_RGW=1 (CI) makes its absence a failure.
RGW_SUITES=${RGW_SUITES:-"10-s3 30-delta 32-archive 35-parallel 40-cli 45-library 90-concurrency"}
rgw=
if [ -z "${DG_EMULATED:-}" ] && command -v radosgw >/dev/null 2>&1; then rgw=1; fi
# A CPU with SHA-NI must take the hardware SHA-256 path (cross/test.sh sets
# this for aarch64, whose qemu CPU has the SHA2 instructions).
if [ -z "${DG_EMULATED:-}" ] && grep -qw sha_ni /proc/cpuinfo 2>/dev/null; then
    export DG_EXPECT_SHA_FAST=${DG_EXPECT_SHA_FAST:-1}
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0 failed=0

# run_suite LABEL CMD...: runs it, shows failures, counts results.
run_suite() {
    label=$1
    shift
    out=$(mktemp)
    start=$(date +%s)
    "$@" >"$out" 2>&1
    rc=$?
    p=$(grep -c '^ok - ' "$out")
    f=$(grep -c '^not ok - ' "$out")
    { echo "=== $label (exit $rc)"; cat "$out"; } >>"$log"
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "not ok - $label: exited $rc without reporting a failure" >>"$log"
        echo "not ok - $label: exited $rc; last lines:"
        tail -n 5 "$out" | sed 's/^/    /'
    fi
    grep '^not ok - ' "$out" | sed "s/^/[$label] /"
    echo "$label: $p passed, $f failed ($(($(date +%s) - start)) s)"
    passed=$((passed + p))
    failed=$((failed + f))
    rm -f "$out"
}

filter="$*"
selected() { [ -z "$filter" ] || case " $filter " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# A fuzz target passes when it runs its seeds plus a few seconds of
# mutations without a crash. A crashing input is kept next to the log
# (build/test-fuzz-NAME-crash-...), never in the working directory.
fuzz_smoke() {
    corpus=$(mktemp -d)
    if "$1" -max_total_time="${FUZZ_SMOKE_SECONDS:-8}" -rss_limit_mb=2048 \
        -artifact_prefix="${log%.log}-fuzz-$(basename "$1")-" "$corpus" \
        "$TESTS_DIR/fuzz/seeds/$(basename "$1")" >"$corpus.log" 2>&1; then
        echo "ok - fuzz $(basename "$1"): $(grep -o '#[0-9]* *DONE.*' "$corpus.log" | head -n 1)"
    else
        echo "not ok - fuzz $(basename "$1"): $(grep -m 3 -E 'ERROR|SUMMARY|deadly|Test unit written' "$corpus.log" | tr '\n' ' ')"
        cp "$corpus.log" "${log%.log}-fuzz-$(basename "$1").log"
    fi
    rm -rf "$corpus" "$corpus.log"
}

if [ -z "$filter" ]; then
    for u in ${DG_UNIT:-}; do
        # DG_RUNNER: an emulator for cross-built unit tests (qemu-arm-static).
        run_suite "unit:$(basename "$(dirname "$u")")" ${DG_RUNNER:-} "$u"
    done
    for f in ${DG_FUZZ:-}; do
        run_suite "fuzz:$(basename "$f")" fuzz_smoke "$f"
    done
fi
for s in "$TESTS_DIR"/e2e/*.sh; do
    name=$(basename "$s" .sh)
    selected "$name" || continue
    DG="$DG_BIN" run_suite "$name" sh "$s"
    if [ -n "${DG_ASAN_BIN:-}" ]; then
        case " $ASAN_SUITES " in
        *" $name "*) DG="$DG_ASAN_BIN" DG_SANITIZED=1 run_suite "$name:asan" sh "$s" ;;
        esac
    fi
    if [ -n "$rgw" ]; then
        case " $RGW_SUITES " in
        *" $name "*) DG="$DG_BIN" DG_SERVER=rgw run_suite "$name:rgw" sh "$s" ;;
        esac
    fi
done
if [ -z "$rgw" ] && [ "${DG_REQUIRE_RGW:-}" = 1 ] && [ -z "${DG_EMULATED:-}" ] && [ -z "$filter" ]; then
    echo "not ok - rgw: radosgw is not installed (DG_REQUIRE_RGW=1)"
    failed=$((failed + 1))
fi
echo "full log: $log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
