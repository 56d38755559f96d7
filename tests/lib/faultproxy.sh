# Put faultproxy.js between a client and a server for one test script, and
# break chosen requests at run time. Source this file (POSIX sh) with
# TESTS_DIR set to the tests/ directory; needs node and curl.
#
#   faultproxy_start UPSTREAM_PORT
#       Starts the proxy on a free 127.0.0.1 port, forwarding to
#       127.0.0.1:UPSTREAM_PORT (e.g. $S3_PORT), and exports FP_PORT, FP_PID,
#       FP_ENDPOINT (point the client here), FP_LOG (a line per request:
#       "<n> <METHOD> <target> -> <status|FAULT:mode|ABORTED|ERROR:why>") and
#       FP_TMP (holds FP_LOG and the proxy's stdout/stderr; removed on stop).
#   faultproxy_set MODE [COUNT] [MATCH]
#       The next COUNT (default 1) requests whose "METHOD target" contains
#       MATCH (default: all) get MODE: 503 500 slowdown 429 403 reset hang
#       badstatus truncate badxml close-idle (see faultproxy.js). Replaces
#       any fault still pending.
#   faultproxy_clear
#       Drops the pending fault.
#   faultproxy_stats
#       Prints {"requests":R,"connections":C,"faults":F} (see faultproxy.js).
#   faultproxy_reset_stats
#       Zeroes those counters.
#   faultproxy_stop
#       Stops it and removes FP_TMP. Safe to call twice, e.g. from a trap.

faultproxy_start() {
    if [ -z "${TESTS_DIR:-}" ] || [ -z "${1:-}" ]; then
        echo "faultproxy_start: set TESTS_DIR and pass the upstream port" >&2
        return 1
    fi
    FP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/faultproxy.XXXXXX") || return 1
    FP_LOG=$FP_TMP/log
    : >"$FP_LOG"
    # --port 0 and READY as in s3rver.sh: no race for a port.
    "${NODE:-node}" "$TESTS_DIR/lib/faultproxy.js" --upstream "127.0.0.1:$1" --port 0 \
        --log "$FP_LOG" >"$FP_TMP/stdout" 2>"$FP_TMP/stderr" </dev/null &
    FP_PID=$!
    export FP_TMP FP_LOG FP_PID

    _fp_tries=100 # 10 s at 0.1 s
    while :; do
        FP_PORT=$(sed -n 's/^READY \([0-9][0-9]*\)$/\1/p' "$FP_TMP/stdout")
        if [ -n "$FP_PORT" ]; then break; fi
        if ! kill -0 "$FP_PID" 2>/dev/null || [ "$_fp_tries" -le 0 ]; then
            echo "faultproxy_start: proxy did not become ready" >&2
            faultproxy_stop
            return 1
        fi
        _fp_tries=$((_fp_tries - 1))
        sleep 0.1
    done
    FP_ENDPOINT=http://127.0.0.1:$FP_PORT
    export FP_PORT FP_ENDPOINT
}

# GET a control URL; extra arguments are curl's. --noproxy: an http_proxy in
# the environment must not catch calls to 127.0.0.1. -G with --data-urlencode
# puts the parameters in the query, encoded, so a MATCH may hold spaces, & or ?.
_faultproxy_call() {
    _fp_what=$1
    shift
    curl -sS --fail-with-body --noproxy '*' --max-time 10 -G "$FP_ENDPOINT/__fault/$_fp_what" "$@"
}

faultproxy_set() {
    if [ -z "${1:-}" ]; then
        echo "faultproxy_set: MODE [COUNT] [MATCH]" >&2
        return 1
    fi
    _faultproxy_call set --data-urlencode "mode=$1" --data-urlencode "count=${2:-1}" \
        --data-urlencode "match=${3:-}" >/dev/null
}

faultproxy_clear() {
    _faultproxy_call clear >/dev/null
}

faultproxy_stats() {
    _faultproxy_call stats
}

faultproxy_reset_stats() {
    _faultproxy_call reset-stats >/dev/null
}

faultproxy_stop() {
    if [ -n "${FP_PID:-}" ]; then
        # `|| :` throughout: callers may run under set -e.
        kill "$FP_PID" 2>/dev/null || :
        _fp_tries=50
        while kill -0 "$FP_PID" 2>/dev/null && [ "$_fp_tries" -gt 0 ]; do
            _fp_tries=$((_fp_tries - 1))
            sleep 0.1
        done
        kill -9 "$FP_PID" 2>/dev/null || :
        wait "$FP_PID" 2>/dev/null || :
    fi
    if [ -s "${FP_TMP:-}/stderr" ]; then
        echo "faultproxy_stop: proxy stderr:" >&2
        cat "$FP_TMP/stderr" >&2
    fi
    if [ -n "${FP_TMP:-}" ]; then rm -rf "$FP_TMP"; fi
    unset FP_PID FP_PORT FP_ENDPOINT FP_LOG FP_TMP
    return 0
}
