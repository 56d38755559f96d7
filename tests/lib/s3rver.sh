# Start and stop a private s3rver for one test script. Source this file (POSIX
# sh) with TESTS_DIR set to the tests/ directory; `npm ci` must have run there.
#
#   s3rver_start [--https KEY CERT] [--bucket NAME]... [--allow-chunked]
#                [--no-verify]
#       (options as in s3rver.js)
#       Starts s3rver on a free 127.0.0.1 port with an empty data dir and
#       exports S3_PORT, S3_PID, S3_ENDPOINT, S3_DATA (the data dir) and
#       S3_TMP (holds S3_DATA and the server's stdout/stderr; removed on stop).
#       Requests must be SigV4-signed with S3RVER / S3RVER, region us-east-1.
#   s3rver_stop
#       Stops it and removes S3_TMP. Safe to call twice, e.g. from a trap.

s3rver_start() {
    _s3_dir=${TESTS_DIR:-}
    if [ -z "$_s3_dir" ]; then
        echo "s3rver_start: set TESTS_DIR to the tests directory" >&2
        return 1
    fi
    if [ ! -d "$_s3_dir/node_modules/s3rver" ]; then
        echo "s3rver_start: $_s3_dir/node_modules/s3rver missing; run 'npm ci' in $_s3_dir" >&2
        return 1
    fi
    _s3_scheme=http
    case " $* " in *" --https "*) _s3_scheme=https ;; esac

    S3_TMP=$(mktemp -d "${TMPDIR:-/tmp}/s3rver.XXXXXX") || return 1
    S3_DATA=$S3_TMP/data
    mkdir "$S3_DATA" || return 1
    # The port is chosen by the kernel (--port 0) and read back, so parallel
    # runs cannot race for it.
    "${NODE:-node}" --openssl-legacy-provider "$_s3_dir/lib/s3rver.js" --dir "$S3_DATA" --port 0 "$@" \
        >"$S3_TMP/stdout" 2>"$S3_TMP/stderr" </dev/null &
    S3_PID=$!
    export S3_TMP S3_DATA S3_PID

    _s3_tries=200 # 20 s at 0.1 s
    while :; do
        S3_PORT=$(sed -n 's/^READY \([0-9][0-9]*\)$/\1/p' "$S3_TMP/stdout")
        if [ -n "$S3_PORT" ]; then break; fi
        if ! kill -0 "$S3_PID" 2>/dev/null || [ "$_s3_tries" -le 0 ]; then
            echo "s3rver_start: server did not become ready" >&2
            s3rver_stop
            return 1
        fi
        _s3_tries=$((_s3_tries - 1))
        sleep 0.1
    done
    S3_ENDPOINT=$_s3_scheme://127.0.0.1:$S3_PORT
    export S3_PORT S3_ENDPOINT
}

s3rver_stop() {
    if [ -n "${S3_PID:-}" ]; then
        # `|| :` throughout: callers may run under set -e.
        kill "$S3_PID" 2>/dev/null || :
        _s3_tries=50
        while kill -0 "$S3_PID" 2>/dev/null && [ "$_s3_tries" -gt 0 ]; do
            _s3_tries=$((_s3_tries - 1))
            sleep 0.1
        done
        kill -9 "$S3_PID" 2>/dev/null || :
        # Reap it so no zombie outlives the stop (only works for our own child).
        wait "$S3_PID" 2>/dev/null || :
    fi
    # The server is silent, so anything on its stderr (a crash, a warning)
    # is worth showing before it is deleted.
    if [ -s "${S3_TMP:-}/stderr" ]; then
        echo "s3rver_stop: server stderr:" >&2
        cat "$S3_TMP/stderr" >&2
    fi
    if [ -n "${S3_TMP:-}" ]; then rm -rf "$S3_TMP"; fi
    unset S3_PID S3_PORT S3_ENDPOINT S3_DATA S3_TMP
    return 0
}
