# Start and stop a private s3mini (tests/lib/s3mini.js: an in-memory S3 that
# keeps keys byte for byte, honours conditional writes and breaks answers on
# request) for one test script. Source this file (POSIX sh) with TESTS_DIR set
# to the tests/ directory; needs node and curl (for the control helpers).
#
#   s3mini_start [--bucket NAME]... [--min-part-size BYTES] [--region R]
#       (options as in s3mini.js)
#       Starts s3mini on a free 127.0.0.1 port and exports S3MINI_PORT,
#       S3MINI_PID, S3MINI_ENDPOINT (http://127.0.0.1:PORT) and S3MINI_TMP
#       (holds the server's stdout/stderr; removed on stop). Any
#       credentials work; signatures are not checked. Region us-east-1.
#   s3mini_stop
#       Stops it and removes S3MINI_TMP. Safe to call twice, e.g. from a trap.
#
# Control helpers (see s3mini.js for what each does); they fail (non-zero)
# when the server refuses:
#   s3mini_fault MODE [COUNT] [MATCH] [ARG]
#       The next COUNT (default 1) S3 requests whose "METHOD target"
#       contains MATCH (default: any) and that MODE applies to get MODE:
#       repeat-token token-cycle list-inject huge-body huge-chunked slow-body
#       short-body cut cl-conflict cl-te trailing-garbage drip conflict409
#       status delete-errors. Replaces any fault still pending.
#   s3mini_clear                  drops the pending fault
#   s3mini_put_raw BUCKET KEY FILE [META_JSON]
#       Stores FILE's bytes under KEY exactly as given ("../../x", "/abs",
#       "a//b"...), with optional metadata {"name":"value",...}.
#   s3mini_keys BUCKET            prints {"keys":[...]}
#   s3mini_log                    prints the request log, a line per S3
#                                 request: "<n> METHOD target -> status|FAULT:mode"
#   s3mini_clear_log              empties it
#   s3mini_backdate BUCKET SECONDS
#       Makes B's objects and multipart uploads SECONDS older.
#   s3mini_stats                  prints {"requests":R,"faults":F,"methods":{...},...}
#   s3mini_reset_stats            zeroes those counters

s3mini_start() {
    if [ -z "${TESTS_DIR:-}" ]; then
        echo "s3mini_start: set TESTS_DIR to the tests directory" >&2
        return 1
    fi
    S3MINI_TMP=$(mktemp -d "${TMPDIR:-/tmp}/s3mini.XXXXXX") || return 1
    # Created here: the background job below opens it only when it gets to.
    : >"$S3MINI_TMP/stdout"
    # The port is chosen by the kernel (--port 0) and read back, so parallel
    # runs cannot race for it.
    "${NODE:-node}" "$TESTS_DIR/lib/s3mini.js" --port 0 "$@" \
        >"$S3MINI_TMP/stdout" 2>"$S3MINI_TMP/stderr" </dev/null &
    S3MINI_PID=$!
    export S3MINI_TMP S3MINI_PID

    _s3m_tries=200 # 20 s at 0.1 s
    while :; do
        S3MINI_PORT=$(sed -n 's/^READY \([0-9][0-9]*\)$/\1/p' "$S3MINI_TMP/stdout")
        if [ -n "$S3MINI_PORT" ]; then break; fi
        if ! kill -0 "$S3MINI_PID" 2>/dev/null || [ "$_s3m_tries" -le 0 ]; then
            echo "s3mini_start: server did not become ready" >&2
            s3mini_stop
            return 1
        fi
        _s3m_tries=$((_s3m_tries - 1))
        sleep 0.1
    done
    S3MINI_ENDPOINT=http://127.0.0.1:$S3MINI_PORT
    export S3MINI_PORT S3MINI_ENDPOINT
}

s3mini_stop() {
    if [ -n "${S3MINI_PID:-}" ]; then
        # `|| :` throughout: callers may run under set -e.
        kill "$S3MINI_PID" 2>/dev/null || :
        _s3m_tries=50
        while kill -0 "$S3MINI_PID" 2>/dev/null && [ "$_s3m_tries" -gt 0 ]; do
            _s3m_tries=$((_s3m_tries - 1))
            sleep 0.1
        done
        kill -9 "$S3MINI_PID" 2>/dev/null || :
        # Reap it so no zombie outlives the stop (only works for our own child).
        wait "$S3MINI_PID" 2>/dev/null || :
    fi
    # The server is silent, so anything on its stderr (a crash, a warning)
    # is worth showing before it is deleted.
    if [ -s "${S3MINI_TMP:-}/stderr" ]; then
        echo "s3mini_stop: server stderr:" >&2
        cat "$S3MINI_TMP/stderr" >&2
    fi
    if [ -n "${S3MINI_TMP:-}" ]; then rm -rf "$S3MINI_TMP"; fi
    unset S3MINI_PID S3MINI_PORT S3MINI_ENDPOINT S3MINI_TMP
    return 0
}

# GET a control URL; extra arguments are curl's. --noproxy: an http_proxy in
# the environment must not catch calls to 127.0.0.1. -G with --data-urlencode
# puts the parameters in the query, encoded, so a MATCH may hold spaces, & or ?.
_s3mini_call() {
    _s3m_what=$1
    shift
    curl -sS --fail-with-body --noproxy '*' --max-time 10 -G "$S3MINI_ENDPOINT/__ctl/$_s3m_what" "$@"
}

# Runs a command whose output is not wanted, but shows it (the server's JSON
# error) on stderr when the command fails.
_s3mini_quiet() {
    _s3m_out=$("$@") && return 0
    _s3m_rc=$?
    printf '%s\n' "$_s3m_out" >&2
    return "$_s3m_rc"
}

s3mini_fault() {
    if [ -z "${1:-}" ]; then
        echo "s3mini_fault: MODE [COUNT] [MATCH] [ARG]" >&2
        return 1
    fi
    _s3mini_quiet _s3mini_call fault --data-urlencode "mode=$1" --data-urlencode "count=${2:-1}" \
        --data-urlencode "match=${3:-}" --data-urlencode "arg=${4:-}"
}

s3mini_clear() {
    _s3mini_quiet _s3mini_call clear
}

s3mini_put_raw() {
    if [ -z "${1:-}" ] || [ -z "${2:-}" ] || [ ! -f "${3:-}" ]; then
        echo "s3mini_put_raw: BUCKET KEY FILE [META_JSON]" >&2
        return 1
    fi
    _s3m_meta=${4:-}
    if [ -z "$_s3m_meta" ]; then _s3m_meta='{}'; fi
    # curl cannot combine -G with -T, so the query is encoded here.
    _s3mini_quiet curl -sS --fail-with-body --noproxy '*' --max-time 60 -T "$3" \
        -H "x-ctl-meta: $_s3m_meta" \
        "$S3MINI_ENDPOINT/__ctl/object?bucket=$(_s3mini_urlencode "$1")&key=$(_s3mini_urlencode "$2")"
}

# Percent-encodes every byte of $1 (od and sed are POSIX; curl's --url-query
# is too new to count on).
_s3mini_urlencode() {
    printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n' | sed 's/../%&/g'
}

s3mini_keys() {
    _s3mini_call keys --data-urlencode "bucket=$1"
}

s3mini_log() {
    _s3mini_call log
}

s3mini_clear_log() {
    _s3mini_quiet _s3mini_call clear-log
}

s3mini_backdate() {
    _s3mini_quiet _s3mini_call backdate --data-urlencode "bucket=$1" --data-urlencode "seconds=$2"
}

s3mini_stats() {
    _s3mini_call stats
}

s3mini_reset_stats() {
    _s3mini_quiet _s3mini_call reset-stats
}
