# libdeltaglider, linked into C programs (tests/api/): an update agent that
# publishes and fetches versions against the S3 server, presigned GET and PUT
# URLs used with curl (expiry enforced by the server), rehydration of deltas
# for presigned downloads and their purge; the CLI's presign and bucket ACL
# commands; the calls the agent does not make (tests/api/apitest.c, on S3
# and on file://); a program that links its own BearSSL, liblzma and zlib
# beside the library; what the library object holds (no main, no CLI);
# and its glibc build. Skipped (one ok line) when the programs were not
# built (DG_AGENT).
. "$TESTS_DIR/lib/harness.sh"
. "$TESTS_DIR/lib/archives.sh"

if [ -z "${DG_AGENT:-}" ] || [ ! -x "${DG_AGENT:-}" ]; then
    ok "library programs not built here (DG_AGENT unset): skipped"
    exit 0
fi
server_start --bucket lib --bucket acl --bucket typed || { echo "not ok - server start"; exit 1; }
export DG_CACHE_DIR="$T/cache"
make_family "$T/rel" 3
A=$DG_AGENT
# The agent's own configuration, passed in a plain dg_config: the library
# must not need (or read) the AWS variables, so they are wrong here.
agent() {
    AGENT_ENDPOINT=$S3_ENDPOINT AGENT_KEY=$AWS_ACCESS_KEY_ID AGENT_SECRET=$AWS_SECRET_ACCESS_KEY \
        AWS_ACCESS_KEY_ID=WRONG AWS_SECRET_ACCESS_KEY=WRONG AWS_ENDPOINT_URL=http://127.0.0.1:9 \
        "$A" "$@"
}
sha() { sha256sum <"$1" | cut -c1-64; }

# --- publish and fetch ----------------------------------------------------------
check "agent publishes v1" agent publish s3://lib/app/app-1.zip "$T/rel/app-1.zip"
expect_match "v1 is the reference" "$T/out" '^reference '
expect_match "progress of the reference: its size" "$T/err" "^progress $(wc -c <"$T/rel/app-1.zip") bytes in"
check "agent publishes v2" agent publish s3://lib/app/app-2.zip "$T/rel/app-2.zip"
expect_match "v2 is a delta" "$T/out" '^delta [0-9]+ -> [0-9]+ bytes \(ratio 0\.[0-9]+\)$'
# A new process: the reference comes over the wire, and does not count.
expect_match "progress of a delta: the file's size, not the reference's" "$T/err" \
    "^progress $(wc -c <"$T/rel/app-2.zip") bytes in"
sleep 1   # a later LastModified for the newest version
check "agent publishes v3" agent publish s3://lib/app/app-3.zip "$T/rel/app-3.zip"
head -c 20M /dev/urandom >"$T/big.bin"
check "agent publishes a file in parts" agent publish s3://lib/big/big.bin "$T/big.bin"
expect_match "progress of parts sent in parallel: the file's size, as they go" "$T/err" \
    '^progress 20971520 bytes in ([2-9]|[1-9][0-9]+) calls$'
check "agent removes it" agent rm s3://lib/big/big.bin
check "agent fetches the newest" agent latest s3://lib/app/ "$T/latest.zip"
expect_match "three versions, the newest verified" "$T/out" '^3 versions; fetched app/app-3\.zip to .* \(verified\)$'
expect "the newest is byte for byte v3" "$(sha "$T/latest.zip")" "$(sha "$T/rel/app-3.zip")"
expect_match "progress of a download: its size" "$T/err" "^progress $(wc -c <"$T/rel/app-3.zip") bytes in"
check "the CLI reads what the library wrote" dg cp s3://lib/app/app-2.zip "$T/cli2.zip"
expect "CLI download of a library upload" "$(sha "$T/cli2.zip")" "$(sha "$T/rel/app-2.zip")"
check "head of a delta" agent head s3://lib/app/app-2.zip
expect_match "head: original size, reference, sha" "$T/out" \
    "^key=app/app-2\.zip\.delta kind=delta size=$(wc -c <"$T/rel/app-2.zip") stored=[0-9]+ sha256=$(sha "$T/rel/app-2.zip") reference=app/reference\.bin$"
check_fail "a missing object is one clear error" 1 'agent: latest: .*(NoSuchBucket|does not exist|not found|NoSuchKey)|no versions' \
    agent latest s3://lib/nothing/ "$T/none"
check "-E takes the CLI's environment" env AWS_ENDPOINT_URL="$S3_ENDPOINT" "$A" -E head s3://lib/app/app-1.zip
check_fail "a plain config reads no environment" 1 'agent: head: ' \
    env AWS_ENDPOINT_URL="$S3_ENDPOINT" "$A" head s3://lib/app/app-1.zip

# --- presigned URLs ------------------------------------------------------------------
check "presign a delta (rehydrated)" agent presign s3://lib/app/app-2.zip 600
url=$(cat "$T/out")
expect_match "the link names a rehydrated copy" "$T/out" '/lib/\.deltaglider/tmp/[0-9a-f]{32}_app-2\.zip\?.*X-Amz-Signature='
curl -sS -o "$T/p2.zip" -D "$T/p2.hdr" "$url"
expect "the link downloads the original bytes" "$(sha "$T/p2.zip")" "$(sha "$T/rel/app-2.zip")"
expect_match "as an attachment under its name" "$T/p2.hdr" '^[Cc]ontent-[Dd]isposition: attachment; filename="app-2\.zip"'
awsx s3api head-object --bucket lib --key "$(echo "$url" | sed 's|.*/lib/||; s|?.*||')" >"$T/meta" 2>&1
expect_match "the copy says when it expires (Python's layout)" "$T/meta" '"dg-expires-at": "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+"'
expect_match "and where it came from" "$T/meta" '"dg-original-key": "app/app-2\.zip\.delta"'
# A different first hex digit of the signature (a 0 would stay a 0).
case ${url##*X-Amz-Signature=} in 0*) d=1 ;; *) d=0 ;; esac
tampered=$(echo "$url" | sed "s/X-Amz-Signature=./X-Amz-Signature=$d/")
expect "a tampered link is refused" "$(curl -s -o /dev/null -w '%{http_code}' "$tampered")" 403
check "presign a plain object" dg presign s3://lib/app/reference.bin --expires-in 60
expect_match "a plain object is linked as it is" "$T/out" '/lib/app/reference\.bin\?'
check "CLI presign of a delta" dg presign s3://lib/app/app-3.zip --expires-in 2
url3=$(cat "$T/out")
curl -sS -o "$T/p3.zip" "$url3"
expect "the CLI's link downloads the original" "$(sha "$T/p3.zip")" "$(sha "$T/rel/app-3.zip")"
sleep 3
expect "an expired link is refused" "$(curl -s -o /dev/null -w '%{http_code}' "$url3")" 403
check_fail "expiry beyond a week is a usage error" 2 'expires-in takes seconds' \
    dg presign s3://lib/app/app-3.zip --expires-in 604801
check "presign a PUT" agent presign-put s3://lib/incoming/report.txt 300
echo "uploaded with a link" >"$T/report.txt"
expect "curl uploads through it" "$(curl -s -o /dev/null -w '%{http_code}' -T "$T/report.txt" "$(cat "$T/out")")" 200
check "the upload is there" dg cp s3://lib/incoming/report.txt "$T/report.back"
expect "with its bytes" "$(cat "$T/report.back")" "uploaded with a link"

# --- purge of rehydrated copies ---------------------------------------------------------
tmp_count() { awsx s3 ls s3://lib/.deltaglider/tmp/ 2>/dev/null | wc -l; }
expect "two rehydrated copies" "$(tmp_count)" 2
# One the Python SDK made: its dg-expires-at has no zone (UTC).
echo "python's copy" >"$T/pycopy"
awsx s3api put-object --bucket lib --key .deltaglider/tmp/0123456789abcdef0123456789abcdef_old.zip \
    --body "$T/pycopy" --metadata dg-expires-at=2020-01-01T00:00:00.123456,dg-rehydrated=true >/dev/null
check "purge keeps what has not expired" agent purge s3://lib
expect_match "the 3 s and Python's expired copies go, the 600 s one stays" "$T/out" \
    '^purged 2 \([0-9]+ bytes\), kept 1$'
expect "one copy left" "$(tmp_count)" 1
# The rehydrated copy is served as the original would be: its type,
# headers and user metadata, not S3's defaults.
dg cp "$T/rel/app-1.zip" s3://typed/app/app-1.zip >/dev/null
check "a delta with object options" dg cp "$T/rel/app-2.zip" s3://typed/app/app-2.zip \
    --content-type x/y --metadata o=c --cache-control max-age=60
expect_match "stored as a delta" "$T/out" '\(delta: '
check "presign it" dg presign s3://typed/app/app-2.zip --expires-in 600
curl -sS -o /dev/null -D - "$(cat "$T/out")" | tr -d '\r' >"$T/typed.hdr"   # GET: the link signs no HEAD
expect_match "the link serves the original's Content-Type" "$T/typed.hdr" '^[Cc]ontent-[Tt]ype: x/y$'
expect_match "its user metadata" "$T/typed.hdr" '^[Xx]-[Aa]mz-[Mm]eta-[Oo]: c$'
expect_match "and its Cache-Control" "$T/typed.hdr" '^[Cc]ache-[Cc]ontrol: max-age=60$'

# --- buckets and ACLs ---------------------------------------------------------------------
check "stats through the library" agent stats s3://lib
expect_match "stats count the versions (v1's zero-diff delta too)" "$T/out" '^objects=4 total=[0-9]+ stored=[0-9]+ deltas=3$'
if [ "$SERVER" = rgw ]; then
    check "get-bucket-acl" dg get-bucket-acl acl
    expect_match "the owner has full control" "$T/out" '"Permission": "FULL_CONTROL"'
    check "put-bucket-acl public-read" dg put-bucket-acl s3://acl --acl public-read
    expect_match "Python's confirmation line" "$T/out" '^ACL updated for bucket: acl$'
    dg get-bucket-acl acl >"$T/acl" 2>&1
    expect_match "AllUsers may read" "$T/acl" '"URI": "http://acs\.amazonaws\.com/groups/global/AllUsers"'
    # A whole policy, as aws s3api takes it: the owner alone, full control.
    owner=$(sed -n 's/^ *"ID": "\(.*\)",\{0,1\}$/\1/p' "$T/acl" | head -1)
    policy="{\"Owner\": {\"ID\": \"$owner\"}, \"Grants\": [{\"Grantee\": {\"Type\": \"CanonicalUser\", \"ID\": \"$owner\"}, \"Permission\": \"FULL_CONTROL\"}]}"
    check "put-bucket-acl --access-control-policy" dg put-bucket-acl acl --access-control-policy "$policy"
    dg get-bucket-acl acl >"$T/acl2" 2>&1
    expect "the policy replaced the grants" "$(grep -c '"Permission"' "$T/acl2") $(grep -c AllUsers "$T/acl2")" "1 0"
else
    # s3rver has no ACLs: the server's refusal is one clear line.
    check_fail "get-bucket-acl where ACLs are not implemented" 1 \
        '^get-bucket-acl failed: acl: NotImplemented' dg get-bucket-acl acl
fi
check_fail "a bad canned ACL is a usage error" 2 '--acl takes private' dg put-bucket-acl acl --acl everyone
check_fail "put-bucket-acl needs an ACL" 2 'no ACL given' dg put-bucket-acl acl
check_fail "a policy that is not JSON" 2 'access control policy: not a JSON object' \
    dg put-bucket-acl acl --access-control-policy '{"Grants": ['
check "mb of a file:// store" dg mb "file://$T/fs/b1"
expect "mb line" "$(cat "$T/out")" "make_bucket: file://$T/fs/b1"
check "cp into it" dg cp "$T/rel/app-1.zip" "file://$T/fs/b1/app/"
check_fail "rb of a non-empty store fails" 1 'remove_bucket failed' dg rb "file://$T/fs/b1"
check "rb --force of a file:// store" dg rb "file://$T/fs/b1" --force
expect "the directory is gone" "$(ls "$T/fs")" ""

# --- delete through the library -------------------------------------------------------------
check "agent publishes v4 and v5" agent publish s3://lib/app/app-4.zip "$T/rel/app-1.zip"
check "agent publishes v5" agent publish s3://lib/app/app-5.zip "$T/rel/app-2.zip"
check "agent deletes several (one missing)" agent rm s3://lib/app/app-4.zip s3://lib/app/app-5.zip s3://lib/app/none.zip
expect "the deltas are gone" "$(awsx s3 ls s3://lib/app/ | grep -c 'app-[45]')" 0
check_fail "one store per call" 1 'not in the store of' agent rm s3://lib/app/app-1.zip s3://acl/x.zip
check "agent deletes a prefix" agent rm-r s3://lib/app/
expect "three versions deleted" "$(cat "$T/out")" "deleted 3"
expect "no reference left" "$(awsx s3 ls s3://lib/app/ --recursive | wc -l)" 0

# --- the calls the agent does not make ------------------------------------------------------
# Each program line is a check of its own; stderr must stay empty (a lease
# released twice, after its bucket went, would warn there at close).
if [ -n "${DG_APITEST:-}" ]; then
    mkdir -p "$T/api"
    for root in s3://apitest "file://$T/fsapi"; do
        AGENT_ENDPOINT=$S3_ENDPOINT AGENT_KEY=$AWS_ACCESS_KEY_ID AGENT_SECRET=$AWS_SECRET_ACCESS_KEY \
            "$DG_APITEST" "$root" "$T/api" 2>"$T/err" || not_ok "apitest on ${root%%:*}" "exit $?"
        expect "apitest on ${root%%:*}: nothing on stderr" "$(head -c 400 "$T/err")" ""
    done
fi

# --- what the library holds -------------------------------------------------------------------
if [ -n "${DG_LIBA:-}" ] && command -v nm >/dev/null 2>&1; then
    nm -g --defined-only "$DG_LIBA" | awk 'NF == 3 { print $3 }' >"$T/syms"
    expect "the archive defines no global symbol but the API's" "$(grep -vc '^dg_' "$T/syms")" 0
    expect "and every function of the header" "$(sort "$T/syms" | tr '\n' ' ')" \
        "$(sed -n 's/^DG_API [^(]*[ *]\(dg_[a-z_]*\)(.*/\1/p' "$DG_LIBH" | sort | tr '\n' ' ')"
    # Local symbols too: the library has no main and no command line.
    nm "$DG_LIBA" | awk 'NF == 3 && ($3 == "main" || $3 ~ /^cli_/) { print $3 }' >"$T/cli"
    expect "no main and no cli_ function in the library" "$(wc -l <"$T/cli")" 0
fi
# The glibc build of the library (the Makefile's comment): the host gcc at
# -O2 with glibc's headers warns where musl-gcc does not.
if [ -f "$TESTS_DIR/../vendor/.unpacked" ] && command -v gcc >/dev/null 2>&1 &&
    command -v make >/dev/null 2>&1; then
    check "the library compiles with the host gcc -O2 -Werror (make libcheck)" \
        make -s -C "$TESTS_DIR/.." libcheck
fi

# --- a program with its own BearSSL, liblzma and zlib ----------------------------------------
if [ -n "${DG_LINKOWN:-}" ]; then
    mkdir -p "$T/own"
    check "links and runs beside its own BearSSL, liblzma and zlib" "$DG_LINKOWN" "$T/own"
    expect_match "round trip through the library" "$T/out" '^round trip ok$'
    expect_match "an archive delta, made and read with the library's zlib" "$T/out" \
        '^app-2\.tar\.gz: archive delta [0-9]+ -> [0-9]+ bytes$'
    expect_match "its own zlib deflates and inflates" "$T/out" '^own zlib round trip ok$'
fi
