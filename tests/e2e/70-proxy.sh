# Through a real proxy (tinyproxy on loopback): plain HTTP in absolute form,
# HTTPS tunnelled with CONNECT, basic auth from the proxy URL, NO_PROXY.
command -v tinyproxy >/dev/null || { echo "not ok - tinyproxy is not installed"; exit 1; }
. "$TESTS_DIR/lib/harness.sh"
. "$TESTS_DIR/lib/pki.sh"
. "$TESTS_DIR/lib/tinyproxy.sh"

tinyproxy_start proxyuser p4ss-w0rd || { echo "not ok - tinyproxy start"; exit 1; }
trap 'tinyproxy_stop; h_cleanup' EXIT
PX="http://proxyuser:p%34ss-w0rd@127.0.0.1:$TP_PORT"  # %34 is 4: decoded
gen_file "$T/f" 300000 proxy

s3rver_start --bucket px || { echo "not ok - s3rver start"; exit 1; }
check "HTTP through the proxy" env HTTP_PROXY="$PX" "$DG" --endpoint-url "$S3_ENDPOINT" cp "$T/f" s3://px/f
check "download through the proxy" env http_proxy="$PX" "$DG" --endpoint-url "$S3_ENDPOINT" cp s3://px/f "$T/f.back"
same "proxied round trip" "$T/f" "$T/f.back"
expect_match "the proxy carried them" "$TP_LOG" "GET http://127\.0\.0\.1:$S3_PORT/px/f"
# tinyproxy answers a bad password with 401, others with 407.
check_fail "a wrong proxy password is a clear error" 1 'HTTP 40[17] (Unauthorized|Proxy Authentication Required)' \
    env HTTP_PROXY="http://proxyuser:wrong@127.0.0.1:$TP_PORT" "$DG" --endpoint-url "$S3_ENDPOINT" ls s3://px
: >"$TP_LOG"
check "NO_PROXY bypasses it" env HTTP_PROXY="$PX" NO_PROXY="localhost,127.0.0.1" "$DG" --endpoint-url "$S3_ENDPOINT" ls s3://px
if grep -q "$S3_PORT" "$TP_LOG"; then not_ok "nothing went through the proxy" "$(tail -3 "$TP_LOG")"; else ok "nothing went through the proxy"; fi
check "NO_PROXY with a CIDR" env HTTP_PROXY="$PX" no_proxy="10.0.0.0/8,127.0.0.0/8" "$DG" --endpoint-url "$S3_ENDPOINT" ls s3://px
check_fail "a dead proxy is a clear error" 1 'connection refused by 127\.0\.0\.1:1' env HTTP_PROXY=http://127.0.0.1:1 "$DG" --endpoint-url "$S3_ENDPOINT" ls s3://px
s3rver_stop

make_pki "$T/pki" && mkcert "$T/pki" srv "IP:127.0.0.1,DNS:localhost" || { echo "not ok - pki"; exit 1; }
s3rver_start --https "$T/pki/srv.key" "$T/pki/srv.pem" --bucket pxs || { echo "not ok - s3rver start"; exit 1; }
: >"$TP_LOG"
check "HTTPS through a CONNECT tunnel" env HTTPS_PROXY="$PX" "$DG" --endpoint-url "https://localhost:$S3_PORT" --ca-bundle "$T/pki/ca.pem" cp "$T/f" s3://pxs/f
check "HTTPS download through the tunnel" env https_proxy="$PX" "$DG" --endpoint-url "https://localhost:$S3_PORT" --ca-bundle "$T/pki/ca.pem" cp s3://pxs/f "$T/f.tls"
same "tunnelled round trip" "$T/f" "$T/f.tls"
expect_match "the proxy saw CONNECT" "$TP_LOG" "CONNECT localhost:$S3_PORT"
check_fail "CONNECT refused for a wrong password" 1 "proxy 127\.0\.0\.1:$TP_PORT refused CONNECT to localhost:$S3_PORT: 40[17] " \
    env HTTPS_PROXY="http://proxyuser:nope@127.0.0.1:$TP_PORT" "$DG" --endpoint-url "https://localhost:$S3_PORT" --ca-bundle "$T/pki/ca.pem" ls s3://pxs
check_fail "a TLS proxy URL is refused" 2 'TLS to the proxy is not supported' env HTTPS_PROXY="https://127.0.0.1:$TP_PORT" "$DG" --endpoint-url "https://localhost:$S3_PORT" ls s3://pxs
