# A private tinyproxy (Debian's) on loopback for proxy tests.
#   tinyproxy_start [USER PASS]  -> exports TP_PORT, TP_LOG; BasicAuth when given
#   tinyproxy_stop
free_port() {
    "${NODE:-node}" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

tinyproxy_start() {
    TP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tinyproxy.XXXXXX")
    TP_PORT=$(free_port)
    TP_LOG=$TP_DIR/log
    {
        echo "Port $TP_PORT"
        echo "Listen 127.0.0.1"
        echo "Timeout 60"
        echo "Allow 127.0.0.1"
        echo "MaxClients 50"
        echo "LogFile \"$TP_LOG\""
        echo "LogLevel Connect"
        echo "PidFile \"$TP_DIR/pid\""
        # No ConnectPort line: CONNECT may go to any port (s3rver's).
        [ -n "${1:-}" ] && echo "BasicAuth $1 $2"
    } >"$TP_DIR/conf"
    : >"$TP_LOG"
    tinyproxy -d -c "$TP_DIR/conf" >"$TP_DIR/out" 2>&1 &
    TP_PID=$!
    _n=100
    while ! grep -q 'listening\|Listening\|Accepting\|Setting' "$TP_LOG" "$TP_DIR/out" 2>/dev/null && [ $_n -gt 0 ]; do
        sleep 0.05
        _n=$((_n - 1))
    done
    sleep 0.2
    kill -0 "$TP_PID" 2>/dev/null || { cat "$TP_DIR/out" >&2; return 1; }
    export TP_PORT TP_LOG TP_PID TP_DIR
}

tinyproxy_stop() {
    [ -n "${TP_PID:-}" ] && kill "$TP_PID" 2>/dev/null && wait "$TP_PID" 2>/dev/null
    [ -n "${TP_DIR:-}" ] && rm -rf "$TP_DIR"
    unset TP_PID TP_DIR TP_PORT TP_LOG
    return 0
}
