# A server that keeps keys byte for byte and misbehaves on purpose
# (tests/lib/s3mini.js): nothing is written outside a destination, endless
# or huge listings stop, short or mis-framed answers fail and leave no file,
# a dripping server cannot hold a request, a streamed download resumes
# without duplicating bytes, conditional-write conflicts are retried, and
# gc aborts stale multipart uploads.
. "$TESTS_DIR/lib/harness.sh"
. "$TESTS_DIR/lib/s3mini.sh"

s3mini_start --bucket hst --bucket hst2 --log-header x-amz-request-payer --log-header authorization \
    --log-header x-amz-server-side-encryption-customer-key-md5 \
    --log-header x-amz-copy-source-server-side-encryption-customer-key-md5 ||
    { echo "not ok - s3mini start"; exit 1; }
trap 's3mini_stop; h_cleanup' EXIT
export DG_CACHE_DIR="$T/cache"
hm() { "$DG" --endpoint-url "$S3MINI_ENDPOINT" "$@"; }
awsm() { "$AWS" --endpoint-url "$S3MINI_ENDPOINT" "$@"; }

# --- keys that climb out of the destination are skipped ---------------------------------
echo fine >"$T/fine" && echo evil >"$T/evil"
s3mini_put_raw hst "ok/file" "$T/fine" >/dev/null
for k in "../../x1" "a/../../x2" "../sibling/x3" "ok/../../../x4"; do
    s3mini_put_raw hst "$k" "$T/evil" >/dev/null || not_ok "store $k" "s3mini refused it"
done
mkdir -p "$T/dl"
for cmd in "cp -r" sync; do
    d="$T/dl/$(echo "$cmd" | tr -d ' -')/inner"
    # shellcheck disable=SC2086
    hm $cmd s3://hst/ "$d" >"$T/out" 2>"$T/err"
    expect "$cmd with escaping keys exits 1" "$?" 1
    for k in "../../x1" "a/../../x2" "../sibling/x3" "ok/../../../x4"; do
        expect_match "$cmd names $k" "$T/err" "^warning: skipping s3://hst/$(echo "$k" | sed 's/\./\\./g'): its key leads outside "
    done
    expect "$cmd wrote the safe key" "$(cat "$d/ok/file")" "fine"
done
found=$(find "$T" -name 'x[1-4]' | head -n 3)
expect "nothing was written outside the destinations" "$found" ""
# s3rver would have normalised these keys; a file:// store refuses them.
awsm s3 rm s3://hst/ --recursive >/dev/null 2>&1

# --- listings that never end, or never fit ------------------------------------------------
echo x >"$T/small" && hm cp "$T/small" s3://hst/list/a.txt >/dev/null
s3mini_fault repeat-token 10000 list-type
check_fail "a repeated continuation token ends the listing" 1 'ls failed: s3://hst/list/: the listing of s3://hst repeats a continuation token' \
    hm ls s3://hst/list/
s3mini_fault token-cycle 10000 list-type
check_fail "a cycle of tokens ends the listing" 1 'repeats a continuation token' hm ls s3://hst/list/
s3mini_fault repeat-token 10000 list-type
check_fail "sync --delete does not act on an endless listing" 1 'sync failed: s3://hst/list/: ' \
    hm sync "$T/dl" s3://hst/list/ --delete
s3mini_clear
expect "the object is still there" "$(hm ls s3://hst/list/ | awk '{print $4}')" "a.txt"
s3mini_fault huge-body 1 list-type
rss=$(peak_rss "$DG" --endpoint-url "$S3MINI_ENDPOINT" ls s3://hst/list/)
expect "a 1 GiB listing page fails" "$rss" ""
expect_match "as too large" "$T/err" 'response document larger than 16 MiB'
s3mini_fault huge-body 1 list-type
/usr/bin/time -f %M -o "$T/rss" "$DG" --endpoint-url "$S3MINI_ENDPOINT" ls s3://hst/list/ >/dev/null 2>&1
kib=$(tail -n 1 "$T/rss")
[ -n "${DG_SANITIZED:-}${DG_EMULATED:-}" ] || { [ "$kib" -lt 65536 ] && ok "within bounded memory ($kib KiB)" ||
    not_ok "bounded memory for a huge listing" "$kib KiB"; }
s3mini_fault huge-chunked 1 list-type
check_fail "an endless chunked listing fails too" 1 'response document larger than 16 MiB' hm ls s3://hst/list/

# --- answers shorter than the object, or framed two ways -----------------------------------
gen_file "$T/plain" 3000000 plain
awsm s3 cp "$T/plain" s3://hst/plain.bin >/dev/null
s3mini_fault short-body 3 "GET /hst/plain.bin"
check_fail "a short but well-framed body fails" 1 'got 1500000 bytes, but the object has 3000000 \(truncated answer\)' \
    hm cp s3://hst/plain.bin "$T/short"
[ -e "$T/short" ] && not_ok "no file after a short body" "exists" || ok "no file after a short body"
expect "no temp file left" "$(find "$T" -name '.short.dg-*' | wc -l)" 0
s3mini_fault cl-conflict 1 "GET /hst/plain.bin"
check_fail "conflicting Content-Length headers are refused" 1 'bad or conflicting Content-Length' \
    hm cp s3://hst/plain.bin "$T/conflict"
[ -e "$T/conflict" ] && not_ok "no file after conflicting lengths" "exists" || ok "no file after conflicting lengths"
s3mini_fault cl-te 1 "GET /hst/plain.bin"
check "Content-Length with chunked coding: the coding wins" hm cp s3://hst/plain.bin "$T/clte"
same "and the body is whole" "$T/plain" "$T/clte"
s3mini_fault trailing-garbage 1 "HEAD /hst/plain.bin"
check "bytes after an answer are never taken for the next one" hm cp s3://hst/plain.bin "$T/garbage"
same "the download after the stray bytes" "$T/plain" "$T/garbage"

# --- a server that drips ----------------------------------------------------------------------
s3mini_fault drip 3 list-type 400
start=$(date +%s)
check_fail "a dripping answer is given up" 1 'less than 1024 bytes/s for 2 s \(stalled transfer\)' \
    hm --cli-read-timeout 2 ls s3://hst/list/
took=$(($(date +%s) - start))
[ "$took" -le 20 ] && ok "within a few read timeouts ($took s)" || not_ok "a drip is given up quickly" "$took s"
# Fast enough for the rate rule (4 KiB/s), endless all the same: a listing
# must be over within 15 read timeouts. One attempt: each would take 15 s.
s3mini_fault slow-body 1 list-type 4096
start=$(date +%s)
check_fail "a slow endless answer meets the whole-request deadline" 1 \
    'the exchange took longer than its 15 s deadline' \
    timeout 60 env AWS_MAX_ATTEMPTS=1 "$DG" --endpoint-url "$S3MINI_ENDPOINT" --cli-read-timeout 1 ls s3://hst/list/
took=$(($(date +%s) - start))
[ "$took" -ge 14 ] && [ "$took" -le 25 ] && ok "at its deadline ($took s)" ||
    not_ok "a slow answer is given up at its deadline" "$took s"

# --- a streamed download that is cut resumes, never duplicating bytes ------------------------------
s3mini_fault cut 1 "GET /hst/plain.bin" 1000000
hm cp s3://hst/plain.bin - >"$T/piped" 2>"$T/err"
expect "cp to stdout survives a cut connection" "$?" 0
same "the piped bytes are the object, once" "$T/plain" "$T/piped"
hm cp "$T/plain" s3://hst/dg/plain.bin >/dev/null
s3mini_fault cut 2 "GET /hst/dg/plain.bin" 700000
hm cp s3://hst/dg/plain.bin - >"$T/piped2" 2>"$T/err"
expect "two cuts of a DeltaGlider object" "$?" 0
same "resumed twice, verified" "$T/plain" "$T/piped2"
s3mini_fault cut-change 1 "GET /hst/plain.bin" 1000000
hm cp s3://hst/plain.bin - >"$T/piped3" 2>"$T/err"
expect "an object that changes mid-stream fails" "$?" 1
expect_match "and says so" "$T/err" 'the object changed during the download'
[ "$(wc -c <"$T/piped3")" -le 1000000 ] && ok "nothing after the cut was taken from the new object" ||
    not_ok "stop at the change" "$(wc -c <"$T/piped3") bytes out"

# --- a reference fetched while the encoder reads it --------------------------------------------------
# (3 MiB: references of 1 MiB and more stream into the encoder.)
gen_file "$T/st-1.tar" 3145728 stream
{ head -c 1000000 "$T/st-1.tar"; echo changed; tail -c +1000001 "$T/st-1.tar"; } >"$T/st-2.tar"
hm cp "$T/st-1.tar" s3://hst/st/ >/dev/null
s3mini_clear_log
s3mini_fault cut 1 "GET /hst/st/reference.bin" 1500000
hm --debug cp "$T/st-2.tar" s3://hst/st/ >"$T/out" 2>"$T/err"
expect "a version whose reference's fetch is cut" "$?" 0
expect_match "is encoded as the reference arrives" "$T/err" 'fetching reference st/reference\.bin \(encoding as it arrives\)'
expect_match "and stored as a delta" "$T/out" '\(delta: '
s3mini_log >"$T/log"
expect "the fetch resumed once, at the byte reached, bound to its ETag" \
    "$(grep -c 'GET /hst/st/reference.bin' "$T/log")" 2
check "it downloads" hm cp s3://hst/st/st-2.tar "$T/st-back.tar"
same "byte-identical" "$T/st-2.tar" "$T/st-back.tar"
# A reference whose bytes are not those its metadata names: no delta is stored.
cp "$T/st-1.tar" "$T/st-bad.tar" && printf 'x' | dd of="$T/st-bad.tar" bs=1 seek=2000000 conv=notrunc 2>/dev/null
sha=$(sha256sum <"$T/st-1.tar" | cut -c1-64)
s3mini_put_raw hst st2/reference.bin "$T/st-bad.tar" \
    "{\"dg-file-sha256\":\"$sha\",\"dg-tool\":\"deltaglider/6.1.0\",\"dg-note\":\"reference\"}" >/dev/null
check_fail "a reference that is not what its metadata says" 1 'reference SHA-256 mismatch' \
    hm cp "$T/st-2.tar" s3://hst/st2/
expect "no delta was stored against it" "$(s3mini_keys hst | grep -c 'st2/st-2')" 0
gen_file "$T/st-z.zip" 2000000 unrelated
check_fail "nor a file that would go whole" 1 'reference SHA-256 mismatch' hm cp "$T/st-z.zip" s3://hst/st2/
expect "which is not stored either" "$(s3mini_keys hst | grep -c 'st2/st-z')" 0

# --- a large download runs in ranges; each is checked, none is mixed ------------------------------
# 20 MiB in 8 MiB parts: bytes=0-8388607 streams, the other two ranges run
# in parallel, bound to the first answer's ETag.
head -c 20971520 /dev/urandom >"$T/large"
awsm s3 cp --quiet "$T/large" s3://hst/large.bin
s3mini_clear_log
hm cp s3://hst/large.bin "$T/large.dl" 2>"$T/err"
expect "a ranged download" "$?" 0
same "reassembles the object in order" "$T/large" "$T/large.dl"
expect "in three ranged GETs" "$(s3mini_log | grep -c 'GET /hst/large.bin')" 3
hm cp s3://hst/large.bin - 2>"$T/err" | cmp -s - "$T/large" && ok "ranges stream to stdout in order" ||
    not_ok "ranges to stdout" "$(cat "$T/err")"
s3mini_fault cut 1 "Range: bytes=16777216-" 100000
hm cp s3://hst/large.bin "$T/large.cut" 2>"$T/err"
expect "a cut range is fetched again" "$?" 0
same "and the file is whole" "$T/large" "$T/large.cut"
s3mini_fault short-body 3 "Range: bytes=8388608-"
rm -f "$T/large.short"
check_fail "a short range fails" 1 "s3://hst/large.bin to .*truncated answer" hm cp s3://hst/large.bin "$T/large.short"
[ ! -e "$T/large.short" ] && ok "and leaves no file" || not_ok "short range" "a file was written"
s3mini_fault cut-change 1 "Range: bytes=8388608-" 100000
rm -f "$T/large.chg"
check_fail "an object that changes between ranges fails" 1 "changed during the download" hm cp s3://hst/large.bin "$T/large.chg"
[ ! -e "$T/large.chg" ] && ok "and leaves no file" || not_ok "changed object" "a file was written"
: >"$T/empty"
awsm s3 cp --quiet "$T/empty" s3://hst/empty.bin
hm cp s3://hst/empty.bin "$T/empty.dl" 2>"$T/err"
expect "an empty object (no byte 0 to range) downloads" "$?" 0
[ -f "$T/empty.dl" ] && [ ! -s "$T/empty.dl" ] && ok "as an empty file" || not_ok "empty object" "$(cat "$T/err")"

# --- storage class and encryption reach every object, the reference too -------------------------
head -c 65536 /dev/urandom >"$T/s-1.zip" && { cat "$T/s-1.zip"; echo more; } >"$T/s-2.zip"
hm cp "$T/s-1.zip" s3://hst/sc/ --storage-class STANDARD_IA --sse aws:kms --sse-kms-key-id key-1 >/dev/null
hm cp "$T/s-2.zip" s3://hst/sc/ --storage-class STANDARD_IA --sse AES256 >"$T/out"
expect_match "a delta" "$T/out" '\(delta: '
awsm s3api head-object --bucket hst --key sc/reference.bin >"$T/head"
expect_match "the reference's storage class" "$T/head" '"StorageClass": "STANDARD_IA"'
expect_match "and encryption" "$T/head" '"ServerSideEncryption": "aws:kms"'
expect_match "with its KMS key" "$T/head" '"SSEKMSKeyId": "key-1"'
awsm s3api head-object --bucket hst --key sc/s-2.zip.delta >"$T/head"
expect_match "the delta's storage class" "$T/head" '"StorageClass": "STANDARD_IA"'
expect_match "and encryption" "$T/head" '"ServerSideEncryption": "AES256"'
head -c 9437184 /dev/urandom >"$T/big.bin"
hm cp "$T/big.bin" s3://hst/sc/ --storage-class STANDARD_IA --content-type application/x-big >/dev/null
awsm s3api head-object --bucket hst --key sc/big.bin >"$T/head"
expect_match "a multipart upload's storage class" "$T/head" '"StorageClass": "STANDARD_IA"'
expect_match "and type" "$T/head" '"ContentType": "application/x-big"'
check_fail "--sse takes what S3 does" 2 "--sse takes AES256 or aws:kms" hm cp "$T/s-1.zip" s3://hst/sc/ --sse rot13

# --- conditional writes: honoured, conflicts retried -----------------------------------------------
. "$TESTS_DIR/lib/archives.sh"
make_family "$T/rel" 2
s3mini_clear_log
s3mini_fault conflict409 1 "reference.bin"
check "a 409 ConditionalRequestConflict is retried" hm cp "$T/rel/app-1.zip" s3://hst/cond/
# The first upload into a folder is the one that probes the bucket.
if grep -q 'conditional writes' "$T/err"; then
    not_ok "no warning on a server that honours conditional writes" "$(cat "$T/err")"
else
    ok "no warning on a server that honours conditional writes"
fi
s3mini_log >"$T/log"
expect "the bucket is probed: two creates of one key, the second refused" \
    "$(grep -E '^[0-9]+ PUT /hst/\.deltaglider/probe-' "$T/log" | awk '{print $5}' | tr '\n' ' ')" "200 412 "
expect "two conditional PUTs of the reference" "$(grep -c 'PUT /hst/cond/reference.bin' "$T/log")" 2
check "a second version" hm cp "$T/rel/app-2.zip" s3://hst/cond/
check "download" hm cp s3://hst/cond/app-2.zip "$T/c2.zip"
same "byte-identical" "$T/rel/app-2.zip" "$T/c2.zip"

# --- what every request carries: --request-payer, SSE-C keys, --source-region ----------------------
s3mini_clear_log
check "--request-payer" hm cp "$T/rel/app-1.zip" s3://hst/rp/ --request-payer
check "--request-payer requester, on ls" hm ls s3://hst/rp/ --request-payer requester
s3mini_log >"$T/log"
expect "every request says the requester pays" "$(grep -c -v 'x-amz-request-payer=requester' "$T/log")" 0
check_fail "--request-payer takes only requester" 2 "takes requester, not me" hm ls s3://hst/ --request-payer=me
KEY=0123456789abcdef0123456789abcdef KEY2=fedcba9876543210fedcba9876543210
md5_of() { printf %s "$1" | openssl md5 -binary | base64; }
s3mini_clear_log
check "--sse-c: a reference" hm cp "$T/rel/app-1.zip" s3://hst/ssec/ --sse-c --sse-c-key "$KEY"
check "--sse-c AES256: a delta" hm cp "$T/rel/app-2.zip" s3://hst/ssec/ --sse-c AES256 --sse-c-key "$KEY"
expect_match "stored as a delta" "$T/out" '\(delta: '
printf %s "$KEY" >"$T/key.bin"
check "the key from fileb://" hm cp s3://hst/ssec/app-2.zip "$T/sc2.zip" --sse-c --sse-c-key "fileb://$T/key.bin"
same "its bytes" "$T/rel/app-2.zip" "$T/sc2.zip"
s3mini_log >"$T/log"
bad=$(grep -E '^[0-9]+ (PUT|GET|HEAD) /hst/ssec/' "$T/log" | grep -v "customer-key-md5=$(md5_of "$KEY")")
[ -z "$bad" ] && grep -q 'PUT /hst/ssec/app-2.zip.delta' "$T/log" && ok "every read and write of an object sends the key" ||
    not_ok "every read and write of an object sends the key" "$bad"
bad=$(grep -E '^[0-9]+ (DELETE /hst/|GET /hst/\?)' "$T/log" | grep 'customer-key')
[ -z "$bad" ] && ok "listings and deletes do not" || not_ok "listings and deletes do not" "$bad"
check_fail "--sse-c needs its key" 2 "--sse-c and --sse-c-key go together" hm cp "$T/rel/app-1.zip" s3://hst/ssec/ --sse-c
check_fail "and the key its --sse-c" 2 "--sse-c-copy-source and --sse-c-copy-source-key go together" \
    hm cp s3://hst/ssec/app-1.zip s3://hst2/ --sse-c-copy-source-key "$KEY"
check_fail "a key of 32 bytes" 2 "takes a 32-byte AES-256 key" hm cp "$T/rel/app-1.zip" s3://hst/ssec/ --sse-c --sse-c-key short
check_fail "--sse and --sse-c" 2 "exclude each other" hm cp "$T/rel/app-1.zip" s3://hst/ssec/ --sse AES256 --sse-c --sse-c-key "$KEY"
s3mini_clear_log
check "a copy to another bucket, region and key" hm cp -r s3://hst/ssec/ s3://hst2/ssec/ --source-region eu-west-3 \
    --sse-c-copy-source --sse-c-copy-source-key "$KEY" --sse-c --sse-c-key "$KEY2"
s3mini_log >"$T/log"
bad=$(grep -E '^[0-9]+ [A-Z]+ /hst/' "$T/log" | grep -v '/eu-west-3/s3/aws4_request')
[ -z "$bad" ] && grep -q 'GET /hst/ssec/' "$T/log" && ok "the source is signed for --source-region" || not_ok "source region" "$bad"
bad=$(grep -E '^[0-9]+ [A-Z]+ /hst2/' "$T/log" | grep -v '/us-east-1/s3/aws4_request')
[ -z "$bad" ] && ok "the destination for its own" || not_ok "destination region" "$bad"
bad=$(grep -E '^[0-9]+ (GET|HEAD) /hst/ssec/' "$T/log" | grep -v "customer-key-md5=$(md5_of "$KEY")")
[ -z "$bad" ] && ok "the source is read with the copy source's key" || not_ok "source key" "$bad"
bad=$(grep -E '^[0-9]+ PUT /hst2/ssec/' "$T/log" | grep -v "customer-key-md5=$(md5_of "$KEY2")")
[ -z "$bad" ] && grep -q 'PUT /hst2/ssec/app-2.zip.delta' "$T/log" && ok "the destination is written with its own" ||
    not_ok "destination key" "$bad"
check "the copy downloads" hm cp s3://hst2/ssec/app-2.zip "$T/sc3.zip" --sse-c --sse-c-key "$KEY2"
same "byte-identical" "$T/rel/app-2.zip" "$T/sc3.zip"

# --- rm -r: a key the server refuses is named, and the others still go -----------------------------
for f in app-1.zip app-2.zip; do hm cp "$T/rel/$f" s3://hst/rmk/ >/dev/null; done
echo a >"$T/a.txt"
hm cp "$T/a.txt" s3://hst/rmk/deny.txt >/dev/null && hm cp "$T/a.txt" s3://hst/rmk/b.txt >/dev/null
s3mini_fault delete-errors 1 "" deny
hm rm -r s3://hst/rmk/ >"$T/out" 2>"$T/err"
expect "rm -r with a refused key exits 1" "$?" 1
expect_match "names the refused key and why" "$T/err" \
    '^delete failed: s3://hst/rmk/deny\.txt: AccessDenied: Access Denied$'
expect "and nothing else failed" "$(grep -c . "$T/err")" 1
expect "the others are reported deleted" "$(sort "$T/out" | tr '\n' ' ')" \
    "delete: s3://hst/rmk/app-1.zip delete: s3://hst/rmk/app-2.zip delete: s3://hst/rmk/b.txt "
expect "only the refused key is left (the reference went with its deltas)" \
    "$(awsm s3 ls s3://hst/rmk/ --recursive | awk '{print $4}')" "rmk/deny.txt"

# --- gc: stale multipart uploads ---------------------------------------------------------------------
awsm s3api create-multipart-upload --bucket hst --key big/old.bin >/dev/null
s3mini_backdate hst 172800 >/dev/null
awsm s3api create-multipart-upload --bucket hst --key big/new.bin >/dev/null
check "gc --dryrun" hm gc s3://hst/big/ --dryrun
expect_match "names the stale upload" "$T/out" '^\(dryrun\) abort: s3://hst/big/old\.bin \(multipart upload started '
expect "aborts nothing" "$(awsm s3api list-multipart-uploads --bucket hst --query 'length(Uploads)')" 2
check "gc" hm gc s3://hst/big/
expect_match "aborts the stale upload" "$T/out" '^abort: s3://hst/big/old\.bin '
expect "keeps the recent one" "$(awsm s3api list-multipart-uploads --bucket hst --query 'Uploads[].Key' --output text)" "big/new.bin"
check "gc --older-than 0s" hm gc s3://hst/big/ --older-than 0s
expect "then none" "$(awsm s3api list-multipart-uploads --bucket hst --query 'length(Uploads || `[]`)')" 0
check_fail "a bad duration" 2 "older-than takes a duration" hm gc s3://hst --older-than soon
