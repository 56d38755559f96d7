# Failures between deltaglider and S3, injected by a proxy in front of
# s3rver: what is retried, what is not, and that nothing half-done is left.
. "$TESTS_DIR/lib/harness.sh"
. "$TESTS_DIR/lib/faultproxy.sh"

s3rver_start --bucket f || { echo "not ok - s3rver start"; exit 1; }
faultproxy_start "$S3_PORT" || { echo "not ok - proxy start"; exit 1; }
trap 'faultproxy_stop; h_cleanup' EXIT
fp() { "$DG" --endpoint-url "$FP_ENDPOINT" "$@"; }
# requests METHOD: how many requests with that method the proxy saw.
requests() { grep -c " $1 " "$FP_LOG"; }
fresh() { : >"$FP_LOG"; faultproxy_clear; }

gen_file "$T/obj" 200000 faults
check "upload through the proxy" fp cp "$T/obj" s3://f/obj

fresh; faultproxy_set 503 2 "GET /f/obj"
check "two 503s are retried" fp cp s3://f/obj "$T/got"
same "download after 503s" "$T/obj" "$T/got"
expect "three GET attempts" "$(requests GET)" 3

fresh; faultproxy_set slowdown 2 "GET /f/obj"
check "SlowDown is retried" fp cp s3://f/obj "$T/got"
fresh; faultproxy_set 429 1 "GET /f/obj"
check "429 is retried" fp cp s3://f/obj "$T/got"
fresh; faultproxy_set reset 1 "GET /f/obj"
check "a reset connection is retried" fp cp s3://f/obj "$T/got"
same "download after a reset" "$T/obj" "$T/got"

rm -f "$T/got"
fresh; faultproxy_set 500 3 "GET /f/obj"
check_fail "three 500s give up with the S3 error" 1 '^download failed: s3://f/obj to .*: InternalError: ' fp cp s3://f/obj "$T/got"
expect "three attempts, no more" "$(requests GET)" 3
[ -e "$T/got" ] && not_ok "no file after a failed download" "exists" || ok "no file after a failed download"
fresh; faultproxy_set 503 4 "GET /f/obj"
check "AWS_MAX_ATTEMPTS=5 outlasts four 503s" env AWS_MAX_ATTEMPTS=5 "$DG" --endpoint-url "$FP_ENDPOINT" cp s3://f/obj "$T/got"
fresh; faultproxy_set 403 1 "GET /f/obj"
check_fail "a 403 is final" 1 'AccessDenied' fp cp s3://f/obj "$T/got2"
expect "a 403 is not retried" "$(requests GET)" 1

fresh; faultproxy_set truncate 3 "GET /f/obj"
check_fail "a body cut short fails clearly" 1 'truncated response' fp cp s3://f/obj "$T/cut"
[ -e "$T/cut" ] && not_ok "no file after a truncated body" "exists" || ok "no file after a truncated body"
fresh; faultproxy_set truncate 1 "GET /f/obj"
check "one truncated body is retried" fp cp s3://f/obj "$T/cut"
same "download after truncation" "$T/obj" "$T/cut"

fresh; faultproxy_set badstatus 1
check_fail "a bad status line" 1 'bad status line from 127\.0\.0\.1:[0-9]+: "HTZP/1\.1 200 OK"' fp ls s3://f
fresh; faultproxy_set badxml 1 "list-type"
check_fail "malformed XML" 1 'ls failed: s3://f: malformed XML in the ListBucketResult response' fp ls s3://f
fresh; faultproxy_set hang 3
check_fail "a server that never answers times out" 1 'timed out after 1000 ms' fp --cli-read-timeout 1 ls s3://f

fresh; faultproxy_set 503 2 "PUT /f/up"
check "an upload is retried with its body" fp cp "$T/obj" s3://f/up
check "the retried upload is whole" awsx s3 cp s3://f/up "$T/up"
same "retried upload byte-identical" "$T/obj" "$T/up"

# Multipart: a part retried; a part that keeps failing aborts the upload.
gen_file "$T/big" 18874368 faultbig
fresh; faultproxy_set 503 1 "partNumber=2"
check "a failed part is retried" fp cp "$T/big" s3://f/big
check "aws reads the retried multipart object" awsx s3 cp s3://f/big "$T/big.back"
same "multipart with a retried part" "$T/big" "$T/big.back"
fresh; faultproxy_set 500 3 "partNumber=2"
check_fail "a part that keeps failing fails the upload" 1 'upload failed: .* part 2: InternalError' fp cp "$T/big" s3://f/big2
expect_match "the upload was aborted" "$FP_LOG" 'DELETE /f/big2\?uploadId='
awsx s3 ls s3://f/big2 >"$T/out" 2>&1
expect "no object from the failed upload" "$(cat "$T/out")" ""

# Keep-alive connections the server drops are reopened transparently.
fresh; faultproxy_set close-idle 3
check "dropped keep-alive connections" fp ls s3://f
check "after a dropped connection" fp cp s3://f/obj "$T/got"

# A first upload whose delta fails leaves no reference behind.
make_zip() { (cd "$T" && rm -f "$1" && zip -q "$1" obj); }
make_zip app-1.zip
fresh; faultproxy_set 500 3 "PUT /f/rel/app-1.zip.delta"
check_fail "the zero-diff delta upload fails" 1 'upload failed: .*app-1\.zip' fp cp "$T/app-1.zip" s3://f/rel/
awsx s3 ls s3://f/rel/ --recursive >"$T/out" 2>&1
expect "no orphan reference after a failed first upload" "$(cat "$T/out")" ""
fresh
check "the same upload then works" fp cp "$T/app-1.zip" s3://f/rel/
