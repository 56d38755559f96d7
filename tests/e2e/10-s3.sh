# Plain S3 over HTTP against s3rver: buckets, listing, upload and download
# (single and multipart), awscli cross-checks, errors, memory.
. "$TESTS_DIR/lib/harness.sh"

server_start || { echo "not ok - server start"; exit 1; }

# --- buckets -----------------------------------------------------------------
check "mb" dg mb s3://e2e
expect "mb output" "$(cat "$T/out")" "make_bucket: e2e"
# RGW, like AWS in us-east-1, answers 200 to re-creating a bucket you own.
[ "$SERVER" = rgw ] ||
    check_fail "mb of an existing bucket fails" 1 "make_bucket failed: s3://e2e: BucketAlreadyExists" dg mb s3://e2e
check "ls buckets" dg ls
expect_match "ls bucket line" "$T/out" '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} e2e$'

# --- upload, download, listing ------------------------------------------------
mkdir -p "$T/src" && cd "$T/src" || exit 1
printf 'hello, world\n' >small.txt
check "cp upload to a folder" dg cp small.txt s3://e2e/dir/
expect "upload line" "$(cat "$T/out")" "upload: ./small.txt to s3://e2e/dir/small.txt (direct: 13 Bytes)"
check "cp download" dg cp s3://e2e/dir/small.txt "$T/got.txt"
same "download is byte-identical" small.txt "$T/got.txt"
expect "download line" "$(cat "$T/out")" "download: s3://e2e/dir/small.txt to $T/got.txt"
check "cp download into a directory" dg cp s3://e2e/dir/small.txt "$T/"
same "download keeps the key's name" small.txt "$T/small.txt"
check "cp download creates directories" dg cp s3://e2e/dir/small.txt "$T/new/deep/file.txt"
same "download into new directories" small.txt "$T/new/deep/file.txt"
check "cp upload to an explicit key" dg cp small.txt s3://e2e/dir/renamed.txt
check "ls a folder" dg ls s3://e2e/dir/
expect_match "ls object line" "$T/out" '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}         13 renamed\.txt$'
check "ls the bucket root" dg ls s3://e2e
expect "ls shows the prefix" "$(cat "$T/out")" "                           PRE dir/"
check "ls --recursive --summarize" dg ls s3://e2e --recursive --summarize
expect_match "ls -r shows full keys" "$T/out" ' dir/small\.txt$'
expect "summary objects" "$(grep 'Total Objects:' "$T/out")" "Total Objects: 2"
expect "summary size" "$(grep 'Total Size:' "$T/out")" "   Total Size: 26"
# Exit codes as aws's: 1 only when a prefix lists nothing at all.
check "cp into a folder of folders" dg cp small.txt s3://e2e/nest/a/small.txt
for args in "s3://e2e/nothing-here/" "s3://e2e/nothing-here/ --summarize" "s3://e2e/dir" \
    "s3://e2e/nest/" "s3://e2e/nest/ --summarize" "s3://e2e/nest/a/small.txt"; do
    # shellcheck disable=SC2086
    dg ls $args >"$T/out" 2>"$T/err"
    ours=$?
    # shellcheck disable=SC2086
    awsx s3 ls $args >"$T/aws.out" 2>&1
    expect "ls $args exits as aws s3 ls does" "$ours" "$?"
done
dg ls s3://e2e/dir >"$T/out"
expect "ls of a folder without its slash shows the folder" "$(cat "$T/out")" "                           PRE dir/"
expect "ls of an empty prefix exits 1" "$(dg ls s3://e2e/nothing-here/ --summarize >/dev/null 2>&1; echo $?)" 1

# Keys that need escaping everywhere: URL path, SigV4, XML.
for name in 'with space.txt' 'amp&er+plus=eq.txt' 'caf\303\251.txt' "quote'and\"dq.txt"; do
    f=$(printf "$name")
    printf 'x%s' "$f" >"$f"
    check "upload $f" dg cp "$f" "s3://e2e/odd/$f"
    check "download $f" dg cp "s3://e2e/odd/$f" "$T/odd.out"
    same "round trip $f" "$f" "$T/odd.out"
done
check "ls odd keys" dg ls s3://e2e/odd/
expect "ls lists the odd keys" "$(wc -l <"$T/out")" 4
expect_match "ls decodes a key with &" "$T/out" ' amp&er\+plus=eq\.txt$'

# --- awscli cross-checks ---------------------------------------------------------
gen_file "$T/bin1" 300000 one
check "aws uploads" awsx s3 cp "$T/bin1" s3://e2e/aws/bin1 --metadata k=v
check "deltaglider downloads what aws uploaded" dg cp s3://e2e/aws/bin1 "$T/bin1.dg"
same "aws -> deltaglider byte-identical" "$T/bin1" "$T/bin1.dg"
check "deltaglider uploads" dg cp "$T/bin1" s3://e2e/dg/bin1
check "aws downloads what deltaglider uploaded" awsx s3 cp s3://e2e/dg/bin1 "$T/bin1.aws"
same "deltaglider -> aws byte-identical" "$T/bin1" "$T/bin1.aws"
check "aws lists what deltaglider uploaded" awsx s3api head-object --bucket e2e --key dg/bin1
expect_match "aws sees the right size" "$T/out" '"ContentLength": 300000'

# --- multipart -------------------------------------------------------------------
gen_file "$T/big" 20971520 big
check "multipart upload (20 MiB, 8 MiB parts)" dg --debug cp "$T/big" s3://e2e/big/big.bin
expect "three parts were sent" "$(grep -c 'partNumber=' "$T/err")" 3
check "aws reads the multipart object" awsx s3 cp s3://e2e/big/big.bin "$T/big.aws"
same "multipart round trip via aws" "$T/big" "$T/big.aws"
check "multipart download" dg cp s3://e2e/big/big.bin "$T/big.dg"
same "multipart round trip" "$T/big" "$T/big.dg"
cat >"$T/config" <<CFG
[default]
s3 =
  multipart_threshold = 5MB
  multipart_chunksize = 5MB
CFG
check "multipart with configured part size" env AWS_CONFIG_FILE="$T/config" "$DG" --debug --endpoint-url "$S3_ENDPOINT" cp "$T/big" s3://e2e/big/big5.bin
expect "four 5 MiB parts" "$(grep -c 'partNumber=' "$T/err")" 4
check "download of 5 MiB parts" dg cp s3://e2e/big/big5.bin "$T/big5"
same "5 MiB parts round trip" "$T/big" "$T/big5"
head -c 5242880 "$T/big" >"$T/five"
check "a file of one part's size" env AWS_CONFIG_FILE="$T/config" "$DG" --debug --endpoint-url "$S3_ENDPOINT" cp "$T/five" s3://e2e/big/five.bin
expect "goes in one PUT, not a multipart upload of one part" "$(grep -c 'partNumber=' "$T/err")" 0

# --- memory does not grow with the file -------------------------------------------
# (Not under the sanitizers or qemu, whose own memory would dominate.)
if [ -z "${DG_SANITIZED:-}${DG_EMULATED:-}" ]; then
gen_file "$T/huge" 157286400 huge
rss=$(peak_rss "$DG" --endpoint-url "$S3_ENDPOINT" cp "$T/huge" s3://e2e/huge.bin)
[ -n "$rss" ] && [ "$rss" -lt 30000 ] && ok "150 MiB upload peaks at $rss KiB" || not_ok "upload memory" "peak RSS ${rss:-?} KiB"
# A download runs in ranges on up to max_concurrent_requests connections,
# each holding one multipart_chunksize part: 10 x 8 MiB by default.
rss=$(peak_rss "$DG" --endpoint-url "$S3_ENDPOINT" cp s3://e2e/huge.bin "$T/huge.dg")
[ -n "$rss" ] && [ "$rss" -lt 112000 ] && ok "150 MiB download peaks at $rss KiB (10 x 8 MiB ranges)" ||
    not_ok "download memory" "peak RSS ${rss:-?} KiB"
same "150 MiB in ranges" "$T/huge" "$T/huge.dg"
printf '[default]\ns3 =\n  max_concurrent_requests = 1\n' >"$T/serial"
rss=$(peak_rss env AWS_CONFIG_FILE="$T/serial" "$DG" --endpoint-url "$S3_ENDPOINT" cp s3://e2e/huge.bin "$T/huge.dg1")
[ -n "$rss" ] && [ "$rss" -lt 30000 ] && ok "one connection streams it: peak $rss KiB" ||
    not_ok "download memory, one connection" "peak RSS ${rss:-?} KiB"
same "150 MiB in one GET" "$T/huge" "$T/huge.dg1"
same "150 MiB round trip" "$T/huge" "$T/huge.dg"
rm -f "$T/huge" "$T/huge.dg"
fi

# --- keep-alive -------------------------------------------------------------------
mkdir -p "$T/many"
i=0
while [ $i -lt 1100 ]; do : >"$T/many/f$i"; i=$((i + 1)); done
check "aws uploads 1100 keys" awsx s3 cp "$T/many" s3://e2e/many/ --recursive --only-show-errors
check "ls of two pages" dg --debug ls s3://e2e/many/
expect "ls pages through 1100 keys" "$(wc -l <"$T/out")" 1100
expect "one connection for both pages" "$(grep -c 'connected to' "$T/err")" 1
expect "two list requests" "$(grep -c 'list-type=2' "$T/err")" 2
if grep -q "$AWS_SECRET_ACCESS_KEY\|Signature=" "$T/err"; then not_ok "--debug hides secrets" "secret in log"; else ok "--debug hides secrets"; fi
check "rm -r of 1100 keys" dg --debug rm -r s3://e2e/many/
expect "in two DeleteObjects batches (run in parallel)" "$(grep -c 'POST .*?delete' "$T/err")" 2
expect "a line for each" "$(grep -c '^delete: s3://e2e/many/f' "$T/out")" 1100
expect "nothing left" "$(awsx s3 ls s3://e2e/many/ --recursive | wc -l)" 0

# --- errors -------------------------------------------------------------------------
check_fail "a wrong secret is refused" 1 "ls failed: s3://e2e: SignatureDoesNotMatch" env AWS_SECRET_ACCESS_KEY=wrong "$DG" --endpoint-url "$S3_ENDPOINT" ls s3://e2e
check_fail "no credentials: exit 2" 2 "unable to locate credentials" env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$DG" --endpoint-url "$S3_ENDPOINT" ls s3://e2e
check_fail "missing bucket" 1 "NoSuchBucket" dg ls s3://no-such-bucket
check_fail "missing key" 1 "download failed: s3://e2e/nope.txt to .*: Object not found" dg cp s3://e2e/nope.txt "$T/nope.txt"
[ -e "$T/nope.txt" ] && not_ok "failed download leaves no file" "$T/nope.txt exists" || ok "failed download leaves no file"
[ -z "$(ls -A "$T" | grep '\.dg-')" ] && ok "no temp files left behind" || not_ok "no temp files left behind" "$(ls -A "$T")"
check_fail "missing local file" 1 "upload failed: ./absent.txt to s3://e2e/absent.txt: cannot open absent.txt" dg cp absent.txt s3://e2e/
check_fail "connection refused" 1 "connection refused by 127.0.0.1:1" "$DG" --endpoint-url http://127.0.0.1:1 ls s3://e2e
check_fail "unknown host" 1 "cannot resolve host 'no-such-host.invalid'" "$DG" --endpoint-url http://no-such-host.invalid ls s3://e2e
check_fail "bad URL: exit 2" 2 "unsupported URL" dg ls gs://bucket
check_fail "unknown flag: exit 2" 2 "unknown option --frobnicate" dg ls s3://e2e --frobnicate

# --- object options, as aws s3 cp's --------------------------------------------------------
mkdir -p "$T/opt"
# aws reads /etc/mime.types over Python's table: so do we, where it exists.
MIME_NAMES="a.txt a.json a.html a.png a.zip a.tar a.tar.gz a.tgz a.gz a.unknownext a.deb a.rpm
    a.iso a.7z a.js a.xml a.exe a.TXT A.TAR.GZ a.tbz2 .hidden.txt"
for n in $MIME_NAMES; do echo "$n" >"$T/opt/$n"; done
check "cp -r with object options" dg cp -r "$T/opt" s3://e2e/opt/ --metadata owner=ci,team=rel \
    --cache-control max-age=60 --content-disposition attachment --acl public-read
check "aws uploads the same names" awsx s3 cp --recursive --quiet "$T/opt" s3://e2e/optaws/
bad=
for n in $MIME_NAMES; do
    # Archives are deltas (or the reference's zero-diff delta): the type is on NAME.delta.
    ours=$(awsx s3api head-object --bucket e2e --key "opt/$n" --query ContentType --output text 2>/dev/null ||
        awsx s3api head-object --bucket e2e --key "opt/$n.delta" --query ContentType --output text)
    theirs=$(awsx s3api head-object --bucket e2e --key "optaws/$n" --query ContentType --output text)
    [ "$ours" = "$theirs" ] || bad="$bad $n:$ours/$theirs"
done
[ -z "$bad" ] && ok "Content-Type guessed from the name as aws guesses it" || not_ok "guessed types" "$bad"
awsx s3api head-object --bucket e2e --key opt/a.txt >"$T/head"
expect_match "user metadata" "$T/head" '"owner": "ci"'
expect_match "every k=v of it" "$T/head" '"team": "rel"'
expect_match "beside DeltaGlider's" "$T/head" '"dg-file-sha256": '
expect_match "Cache-Control" "$T/head" '"CacheControl": "max-age=60"'
expect_match "Content-Disposition" "$T/head" '"ContentDisposition": "attachment"'
head -c 65536 /dev/urandom >"$T/r-1.zip" && { cat "$T/r-1.zip"; echo more; } >"$T/r-2.zip"
dg cp "$T/r-1.zip" s3://e2e/opt/rel/ --metadata owner=ci --cache-control max-age=60 >/dev/null
check "a delta with object options" dg cp "$T/r-2.zip" s3://e2e/opt/rel/ --metadata owner=ci --cache-control max-age=60
expect_match "stored as a delta" "$T/out" '\(delta: '
awsx s3api head-object --bucket e2e --key opt/rel/r-2.zip.delta >"$T/head"
expect_match "a delta carries them as its original would" "$T/head" '"ContentType": "application/zip"'
expect_match "its metadata too" "$T/head" '"owner": "ci"'
awsx s3api head-object --bucket e2e --key opt/rel/reference.bin >"$T/head"
if grep -q '"owner"\|CacheControl' "$T/head"; then not_ok "the reference is infrastructure" "$(cat "$T/head")"; else ok "the reference.bin takes neither"; fi
if [ "$SERVER" = rgw ]; then
    check "RGW keeps the ACL" awsx s3api get-object-acl --bucket e2e --key opt/a.txt
    expect_match "public-read: everyone may read" "$T/out" 'http://acs.amazonaws.com/groups/global/AllUsers'
    check "--no-sign-request reads a public object without credentials" env -u AWS_ACCESS_KEY_ID \
        -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE=/dev/null "$DG" --endpoint-url "$S3_ENDPOINT" \
        --no-sign-request cp s3://e2e/opt/a.txt "$T/anon.txt"
    expect "its bytes" "$(cat "$T/anon.txt")" a.txt
    # SSE-C, for real: RGW encrypts with the key and refuses reads without it.
    KEY=0123456789abcdef0123456789abcdef
    head -c 300000 /dev/urandom >"$T/sc-1.zip" && { cat "$T/sc-1.zip"; echo v2; } >"$T/sc-2.zip"
    check "--sse-c: a reference" dg cp "$T/sc-1.zip" s3://e2e/ssec/ --sse-c --sse-c-key "$KEY"
    check "--sse-c: a delta" dg cp "$T/sc-2.zip" s3://e2e/ssec/ --sse-c --sse-c-key "$KEY"
    expect_match "stored as a delta" "$T/out" '\(delta: '
    check "--sse-c: a plain file" dg cp "$T/opt/a.txt" s3://e2e/ssec/ --sse-c --sse-c-key "$KEY"
    if awsx s3api head-object --bucket e2e --key ssec/a.txt >/dev/null 2>&1; then
        not_ok "RGW refuses to show it without the key" "head-object answered"
    else ok "RGW refuses to show it without the key"; fi
    check "aws reads it with the key" awsx s3api head-object --bucket e2e --key ssec/a.txt \
        --sse-customer-algorithm AES256 --sse-customer-key "$KEY"
    expect_match "encrypted with it" "$T/out" '"SSECustomerAlgorithm": "AES256"'
    check "aws downloads it with the key" awsx s3 cp s3://e2e/ssec/a.txt "$T/sc-a.txt" --sse-c AES256 --sse-c-key "$KEY"
    expect "aws gets the bytes" "$(cat "$T/sc-a.txt")" a.txt
    check_fail "without the key: a clear error" 1 "download failed: s3://e2e/ssec/sc-2.zip" dg cp s3://e2e/ssec/sc-2.zip "$T/sc-x.zip"
    [ -e "$T/sc-x.zip" ] && not_ok "and no file" "$T/sc-x.zip exists" || ok "and no file"
    check "with the key, the delta rebuilds" dg cp s3://e2e/ssec/sc-2.zip "$T/sc-2.out" --sse-c --sse-c-key "$KEY"
    same "byte-identical" "$T/sc-2.zip" "$T/sc-2.out"
    check "ls with the key" dg ls s3://e2e/ssec/ --sse-c --sse-c-key "$KEY"
    expect_match "logical sizes" "$T/out" " $(wc -c <"$T/sc-2.zip") sc-2\.zip$"
    check "rm with the key" dg rm s3://e2e/ssec/ --recursive --sse-c --sse-c-key "$KEY"
    expect "all gone" "$(awsx s3 ls s3://e2e/ssec/ --recursive)" ""
else
    # s3rver refuses unsigned requests: the refusal shows none was signed.
    check_fail "--no-sign-request sends no signature (and needs no credentials)" 1 "AccessDenied" \
        env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE=/dev/null \
        "$DG" --endpoint-url "$S3_ENDPOINT" --no-sign-request cp s3://e2e/opt/a.txt "$T/anon.txt"
fi
check "--no-guess-mime-type" dg cp "$T/opt/a.json" s3://e2e/opt/plain.json --no-guess-mime-type
expect "the server's default type" "$(awsx s3api head-object --bucket e2e --key opt/plain.json --query ContentType --output text)" "binary/octet-stream"
check "--content-type" dg cp "$T/opt/a.txt" s3://e2e/opt/given.txt --content-type text/x-release-notes
expect "the given type" "$(awsx s3api head-object --bucket e2e --key opt/given.txt --query ContentType --output text)" "text/x-release-notes"
check "a copy between keys" dg cp s3://e2e/opt/given.txt s3://e2e/opt2/given.txt
awsx s3api head-object --bucket e2e --key opt2/given.txt >"$T/head"
expect_match "keeps the source's type" "$T/head" '"ContentType": "text/x-release-notes"'
# S3->S3 copies keep the source's Cache-Control, Content-Disposition,
# Content-Encoding and Expires, as aws s3 cp/mv do; a delta's are on NAME.delta.
EXP="Wed, 21 Oct 2037 07:28:00 GMT"
# awscli 1 parses Expires; awscli 2 shows it as sent in ExpiresString.
EXP_RE='"(Expires": "2037-10-21T07:28:00\+00:00|ExpiresString": "Wed, 21 Oct 2037 07:28:00 GMT)"'
hdrs="--cache-control max-age=60 --content-disposition attachment --content-encoding identity"
check "a direct object with headers" dg cp "$T/opt/a.txt" s3://e2e/hdr/a.txt $hdrs --expires "$EXP"
check "a delta with headers" dg cp "$T/r-2.zip" s3://e2e/opt/rel/r-3.zip $hdrs --expires "$EXP"
expect_match "stored as a delta" "$T/out" '\(delta: '
check "copy of the direct one" dg cp s3://e2e/hdr/a.txt s3://e2e/hdr2/a.txt
check "mv of the delta" dg mv s3://e2e/opt/rel/r-3.zip s3://e2e/hdr2/r-3.zip
for k in hdr/a.txt hdr2/a.txt hdr2/r-3.zip.delta; do   # the upload, then the copies
    awsx s3api head-object --bucket e2e --key $k >"$T/head" 2>&1
    expect_match "$k: Cache-Control" "$T/head" '"CacheControl": "max-age=60"'
    expect_match "$k: Content-Disposition" "$T/head" '"ContentDisposition": "attachment"'
    expect_match "$k: Content-Encoding" "$T/head" '"ContentEncoding": "identity"'
    expect_match "$k: Expires" "$T/head" "$EXP_RE"
done
check "--expires in ISO 8601" dg cp "$T/opt/a.txt" s3://e2e/hdr/iso.txt --expires 2037-10-21T07:28:00Z
curl -sS -o /dev/null -D - "$(dg presign s3://e2e/hdr/iso.txt)" | tr -d '\r' >"$T/head"
expect_match "goes up as the HTTP date" "$T/head" "^[Ee]xpires: $EXP\$"
check_fail "--expires garbage is a usage error" 2 "^deltaglider: --expires takes an HTTP date .*, not 'soon'" \
    dg cp "$T/opt/a.txt" s3://e2e/hdr/bad.txt --expires soon
check "an option overrides the source's header" dg cp s3://e2e/hdr/a.txt s3://e2e/hdr3/a.txt --cache-control no-cache
awsx s3api head-object --bucket e2e --key hdr3/a.txt >"$T/head" 2>&1
expect_match "the option's Cache-Control" "$T/head" '"CacheControl": "no-cache"'
expect_match "the source's others" "$T/head" '"ContentDisposition": "attachment"'
check "--metadata as JSON, aws's other form" dg cp "$T/opt/a.txt" s3://e2e/opt/json.txt \
    --metadata '{"k":"v","k2":"v, 2"}'
awsx s3api head-object --bucket e2e --key opt/json.txt >"$T/head"
expect_match "its first entry" "$T/head" '"k": "v"'
expect_match "its second, comma and all" "$T/head" '"k2": "v, 2"'
check_fail "bad JSON metadata: one line" 2 "^deltaglider: --metadata: not a JSON object of strings" \
    dg cp "$T/opt/a.txt" s3://e2e/opt/ --metadata '{"k":'
check_fail "JSON values are strings" 2 "--metadata: not a JSON object of strings" \
    dg cp "$T/opt/a.txt" s3://e2e/opt/ --metadata '{"k":1}'
check_fail "JSON may not name DeltaGlider's own" 2 "dg-tool is DeltaGlider's own name" \
    dg cp "$T/opt/a.txt" s3://e2e/opt/ --metadata '{"dg-tool":"x"}'
check_fail "DeltaGlider's own names are refused" 2 "dg-tool is DeltaGlider's own name" dg cp "$T/opt/a.txt" s3://e2e/opt/ --metadata dg-tool=x
check_fail "so are unknown canned ACLs" 2 "--acl takes a canned ACL" dg cp "$T/opt/a.txt" s3://e2e/opt/ --acl everyone
check_fail "and line breaks in values" 2 "printable ASCII, not byte 0x0d" dg cp "$T/opt/a.txt" s3://e2e/opt/ --cache-control "$(printf 'a\r\nX-Evil: 1')"
awsx s3 rm --recursive --quiet s3://e2e/optaws/

# --- mv: the source goes only once the destination is there -----------------------------
printf 'moving\n' >"$T/mv1.txt"
check "mv up" dg mv "$T/mv1.txt" s3://e2e/mv/
expect_match "mv line" "$T/out" "^move: $T/mv1\.txt to s3://e2e/mv/mv1\.txt"
[ ! -e "$T/mv1.txt" ] && ok "the local file is gone" || not_ok "mv up" "the file stayed"
check "mv down" dg mv s3://e2e/mv/mv1.txt "$T/mv2.txt"
expect "the object came down" "$(cat "$T/mv2.txt")" "moving"
expect "and is gone from the bucket" "$(awsx s3 ls s3://e2e/mv/)" ""
check "mv up again" dg mv "$T/mv2.txt" s3://e2e/mv/a.txt
check "mv between keys" dg mv s3://e2e/mv/a.txt s3://e2e/mv/b/a.txt
expect "only the new key is left" "$(awsx s3 ls s3://e2e/mv/ --recursive | awk '{print $4}')" "mv/b/a.txt"
check_fail "mv onto itself fails" 1 "move failed: s3://e2e/mv/b/a.txt to s3://e2e/mv/b/a.txt: cannot move an object onto itself" \
    dg mv s3://e2e/mv/b/a.txt s3://e2e/mv/b/a.txt
check "and keeps it" awsx s3api head-object --bucket e2e --key mv/b/a.txt
check_fail "mv to stdout is a usage error" 2 "^mv: - \(stdin or stdout\) cannot be moved" dg mv s3://e2e/mv/b/a.txt -
mkdir -p "$T/mvtree/sub" && echo 1 >"$T/mvtree/one.txt" && echo 2 >"$T/mvtree/sub/two.txt" && echo 3 >"$T/mvtree/keep.log"
check "mv -r --dryrun" dg mv -r "$T/mvtree" s3://e2e/mvtree/ --exclude '*.log' --dryrun
expect "dryrun lines" "$(grep -c '^(dryrun) move: ' "$T/out")" 2
[ -e "$T/mvtree/one.txt" ] && ok "dryrun moves nothing" || not_ok "dryrun" "a file went"
check "mv -r with a filter" dg mv -r "$T/mvtree" s3://e2e/mvtree/ --exclude '*.log'
expect "what the filter left stays" "$(cd "$T/mvtree" && find . -type f | sort)" "./keep.log"
expect "the rest arrived" "$(awsx s3 ls s3://e2e/mvtree/ --recursive | awk '{print $4}' | sort | tr '\n' ' ')" "mvtree/one.txt mvtree/sub/two.txt "
check "mv -r back down" dg mv -r s3://e2e/mvtree/ "$T/mvback"
expect "the tree came down" "$(cat "$T/mvback/sub/two.txt")" 2
expect "and left the bucket" "$(awsx s3 ls s3://e2e/mvtree/ --recursive)" ""
# A local path and a file:// URL can name one file: moving it onto itself
# must not delete it.
echo precious >"$T/self.txt"
check_fail "mv of a file onto its own file:// URL fails" 1 "cannot move an object onto itself" dg mv "$T/self.txt" "file://$T/self.txt"
expect "and the file is kept" "$(cat "$T/self.txt")" precious
ln -s "$T" "$T/link"
check_fail "also through a symlinked folder" 1 "cannot move an object onto itself" dg mv "$T/link/self.txt" "file://$T/self.txt"
expect "kept" "$(cat "$T/self.txt")" precious

# A destination that fails keeps the source; errors name the missing bucket.
printf 'stays\n' >"$T/mvfail.txt"
check_fail "mv to a missing bucket fails" 1 \
    "^move failed: $T/mvfail\.txt to s3://no-such-bucket/mvfail\.txt: NoSuchBucket" \
    dg mv "$T/mvfail.txt" s3://no-such-bucket/
expect "and keeps the local file" "$(cat "$T/mvfail.txt")" stays
mkdir -p "$T/mvfail/sub" && echo 1 >"$T/mvfail/one.txt" && echo 2 >"$T/mvfail/sub/two.txt"
dg mv -r "$T/mvfail" s3://no-such-bucket/t/ >"$T/out" 2>"$T/err"
expect "mv -r to a missing bucket fails" "$? $(grep -c '^move failed: .*: NoSuchBucket' "$T/err")" "1 2"
expect "and keeps every file" "$(cd "$T/mvfail" && find . -type f | sort | tr '\n' ' ')" "./one.txt ./sub/two.txt "
check_fail "sync into a missing bucket names it" 1 "^sync failed: s3://no-such-bucket/t/: NoSuchBucket" \
    dg sync s3://e2e/mv/ s3://no-such-bucket/t/
check_fail "sync from a missing bucket names it" 1 "^sync failed: s3://no-such-bucket/t/: NoSuchBucket" \
    dg sync s3://no-such-bucket/t/ "$T/nosync"
check_fail "migrate into a missing bucket names it" 1 "^migrate failed: s3://no-such-bucket/t/: NoSuchBucket" \
    dg migrate --yes s3://e2e/mv/ s3://no-such-bucket/t/
check_fail "migrate from a missing bucket names it" 1 "^migrate failed: s3://no-such-bucket/t/: NoSuchBucket" \
    dg migrate --yes s3://no-such-bucket/t/ s3://e2e/m/

# --- rm, rb -------------------------------------------------------------------------
check "rm" dg rm s3://e2e/dir/small.txt
expect "rm output" "$(cat "$T/out")" "delete: s3://e2e/dir/small.txt"
check_fail "rm of a missing key" 1 "^delete: Object not found: s3://e2e/dir/small.txt$" dg rm s3://e2e/dir/small.txt
check_fail "rb of a non-empty bucket" 1 "remove_bucket failed: s3://e2e: BucketNotEmpty" dg rb s3://e2e
check "rb --force" dg rb s3://e2e --force
expect_match "rb --force output" "$T/out" '^remove_bucket: e2e$'
check "bucket is gone" dg ls
expect "no buckets left" "$(cat "$T/out")" ""
