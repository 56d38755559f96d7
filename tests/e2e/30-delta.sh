# The DeltaGlider core against s3rver and a file:// store: an archive
# family stored as reference + deltas, byte-identical downloads, logical
# listings, VCDIFF compatibility with Debian's xdelta3 both ways, buckets
# laid out by the Python tool, corruption, ratio fallback, deletes.
. "$TESTS_DIR/lib/harness.sh"
. "$TESTS_DIR/lib/archives.sh"

server_start --bucket dgs || { echo "not ok - server start"; exit 1; }
export DG_CACHE_DIR="$T/cache"
make_family "$T/rel" 5
cd "$T/rel" || exit 1

# --- an archive family: one reference, small deltas ---------------------------
check "first zip becomes the reference" dg cp app-1.zip s3://dgs/releases/
expect_match "reference summary" "$T/out" '^upload: \./app-1\.zip to s3://dgs/releases/app-1\.zip \(reference: '
for v in 2 3 4 5; do
    check "zip $v goes up as a delta" dg cp "app-$v.zip" s3://dgs/releases/
    expect_match "zip $v summary" "$T/out" "^upload: \./app-$v\.zip to s3://dgs/releases/app-$v\.zip \(delta: .* ratio 0\.0"
done
for v in 1 2 3 4 5; do
    check "tar.gz $v up" dg cp "app-$v.tar.gz" s3://dgs/targz/
done
check "raw listing" awsx s3 ls s3://dgs/ --recursive
expect_match "reference.bin stored" "$T/out" ' releases/reference\.bin$'
expect_match "deltas stored" "$T/out" ' releases/app-5\.zip\.delta$'
stored=$(awk '{s += $3} END {print s}' "$T/out")
original=$(cat app-*.zip app-*.tar.gz | wc -c)
[ "$stored" -lt $((original / 4)) ] && ok "10 archives stored in $stored of $original bytes" ||
    not_ok "storage savings" "stored $stored of $original bytes"
for v in 1 2 3 4 5; do
    check "download zip $v" dg cp "s3://dgs/releases/app-$v.zip" "$T/got.zip"
    same "zip $v byte-identical" "app-$v.zip" "$T/got.zip"
    check "download tar.gz $v" dg cp "s3://dgs/targz/app-$v.tar.gz" "$T/got.tgz"
    same "tar.gz $v byte-identical" "app-$v.tar.gz" "$T/got.tgz"
done
check "verify" dg verify s3://dgs/releases/app-3.zip
expect_match "verify says valid" "$T/out" '^valid: s3://dgs/releases/app-3\.zip \(sha256 [0-9a-f]{64}\)$'
check "verify --json" dg verify s3://dgs/releases/app-3.zip --json
want3=$(sha256sum <app-3.zip | cut -c1-64)
expect "as the Python CLI prints it" "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["valid"], d["expected_sha256"], d["actual_sha256"], d["message"])' <"$T/out")" "True $want3 $want3 Verification successful"
awsx s3api put-object --bucket dgs --key odd/wrong.txt --body app-3.zip --metadata \
    "dg-file-sha256=$(printf '0%.0s' $(seq 64)),dg-file-size=$(wc -c <app-3.zip),dg-compression=none" >/dev/null
dg verify s3://dgs/odd/wrong.txt --json >"$T/out" 2>"$T/err"
expect "verify --json of a wrong object exits 1" "$?" 1
expect "and says so" "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["valid"], d["actual_sha256"], d["message"])' <"$T/out")" "False $want3 SHA256 mismatch"
awsx s3 rm s3://dgs/odd/wrong.txt --quiet

# --- the logical view ---------------------------------------------------------------
check "ls shows original names and sizes" dg ls s3://dgs/releases/
expect "ls lists five archives" "$(wc -l <"$T/out")" 5
expect_match "ls shows app-2.zip at its size" "$T/out" " $(wc -c <app-2.zip) app-2\.zip$"
if grep -q 'reference\.bin\|\.delta' "$T/out"; then not_ok "ls hides storage details" "$(cat "$T/out")"; else ok "ls hides storage details"; fi
check "ls --summarize" dg ls s3://dgs/releases/ --summarize
expect "summarize counts logical objects" "$(grep 'Total Objects' "$T/out")" "Total Objects: 5"
expect "summarize totals original sizes" "$(grep 'Total Size' "$T/out")" "   Total Size: $(cat app-*.zip | wc -c)"

# --- names in Unicode: metadata goes as RFC 2047 words (S3 takes ASCII) ----------------------
uni=$(printf 'r\303\251leases/\303\274n\303\257')
cp app-1.zip "$T/caf$(printf '\303\251')-1.zip" && cp app-2.zip "$T/caf$(printf '\303\251')-2.zip"
check "a reference into a folder named in Unicode" dg cp "$T/caf$(printf '\303\251')-1.zip" "s3://dgs/$uni/"
check "a delta beside it" dg cp "$T/caf$(printf '\303\251')-2.zip" "s3://dgs/$uni/"
expect_match "stored as a delta" "$T/out" '\(delta: '
check "aws reads its metadata" awsx s3api head-object --bucket dgs --key "$uni/caf$(printf '\303\251')-2.zip.delta"
expect_match "dg-ref-key went as an encoded word" "$T/out" '"dg-ref-key": "=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?="'
expect_match "so did dg-original-name" "$T/out" '"dg-original-name": "=\?UTF-8\?B\?'
check "it downloads" dg cp "s3://dgs/$uni/caf$(printf '\303\251')-2.zip" "$T/uni.zip"
same "byte-identical, its reference found by the decoded key" app-2.zip "$T/uni.zip"
check "ls of the folder" dg ls "s3://dgs/$uni/"
expect_match "shows the names" "$T/out" " caf$(printf '\303\251')-2\.zip$"
check "and verifies" dg verify "s3://dgs/$uni/caf$(printf '\303\251')-2.zip"

# --- names ending in .delta ------------------------------------------------------------
mkdir -p "$T/named"
check "a delta asked for by its stored name" dg cp s3://dgs/releases/app-3.zip.delta "$T/named/"
same "is saved under the name it holds" app-3.zip "$T/named/app-3.zip"
[ ! -e "$T/named/app-3.zip.delta" ] && ok "not as app-3.zip.delta" || not_ok "stored name" "app-3.zip.delta written"
echo "notes of the release" >"$T/notes"
nsha=$(sha256sum <"$T/notes" | cut -c1-64)
awsx s3api put-object --bucket dgs --key odd/NOTES.DELTA --body "$T/notes" --metadata \
    "dg-tool=deltaglider/6.1.0,dg-original-name=NOTES.DELTA,dg-file-sha256=$nsha,dg-file-size=$(wc -c <"$T/notes"),dg-compression=none" >/dev/null
check "ls of a direct object named .DELTA (as the Python tool writes one)" dg ls s3://dgs/odd/
expect_match "keeps its own name" "$T/out" ' NOTES\.DELTA$'
check "its download" dg cp s3://dgs/odd/NOTES.DELTA "$T/named/"
same "under its own name" "$T/notes" "$T/named/NOTES.DELTA"
check "rm of it" dg rm s3://dgs/odd/NOTES.DELTA
expect "it is gone" "$(awsx s3 ls s3://dgs/odd/)" ""

# --- mv of deltas: the reference goes with the last of them ----------------------------
check "two versions into a folder" dg cp app-1.zip s3://dgs/mvsrc/
check "the second" dg cp app-2.zip s3://dgs/mvsrc/
check "mv -r of the folder" dg mv -r s3://dgs/mvsrc/ s3://dgs/mvdst/
expect "nothing is left behind, reference included" "$(awsx s3 ls s3://dgs/mvsrc/ --recursive)" ""
for v in 1 2; do
    check "moved version $v downloads" dg cp "s3://dgs/mvdst/app-$v.zip" "$T/mv.zip"
    same "moved version $v is intact" "app-$v.zip" "$T/mv.zip"
done
check_fail "a delta moved onto its own logical name fails" 1 "cannot move an object onto itself" \
    dg mv s3://dgs/mvdst/app-2.zip.delta s3://dgs/mvdst/app-2.zip
check "and stays readable" dg cp s3://dgs/mvdst/app-2.zip "$T/mv.zip"
same "intact" app-2.zip "$T/mv.zip"

# --- metadata as the Python tool writes it, seen by awscli -------------------------------
check "aws reads a delta's metadata" awsx s3api head-object --bucket dgs --key releases/app-2.zip.delta
expect_match "dg-tool" "$T/out" '"dg-tool": "deltaglider/'
expect_match "dg-original-name" "$T/out" '"dg-original-name": "app-2\.zip"'
expect_match "dg-file-sha256" "$T/out" "\"dg-file-sha256\": \"$(sha256sum app-2.zip | cut -c1-64)\""
expect_match "dg-file-size" "$T/out" "\"dg-file-size\": \"$(wc -c <app-2.zip)\""
expect_match "dg-ref-key" "$T/out" '"dg-ref-key": "releases/reference\.bin"'
expect_match "dg-ref-sha256" "$T/out" "\"dg-ref-sha256\": \"$(sha256sum app-1.zip | cut -c1-64)\""
expect_match "dg-delta-size" "$T/out" '"dg-delta-size": "[0-9]+"'
expect_match "dg-created-at with Z" "$T/out" '"dg-created-at": "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z"'
expect_match "dg-delta-cmd (the level used)" "$T/out" '"dg-delta-cmd": "xdelta3 -e -6 -s reference\.bin app-2\.zip app-2\.zip\.delta"'
check "aws reads the zero-diff delta's metadata" awsx s3api head-object --bucket dgs --key releases/app-1.zip.delta
expect_match "zero-diff note" "$T/out" '"dg-note": "zero-diff \(reference identical\)"'
check "aws reads the reference's metadata" awsx s3api head-object --bucket dgs --key releases/reference.bin
expect_match "reference note" "$T/out" '"dg-note": "reference"'
expect_match "reference source name" "$T/out" '"dg-source-name": "app-1\.zip"'

# --- our deltas are plain VCDIFF for Debian's xdelta3 -------------------------------------
check "aws fetches the raw reference" awsx s3 cp s3://dgs/releases/reference.bin "$T/ref.bin"
check "aws fetches a raw delta" awsx s3 cp s3://dgs/releases/app-4.zip.delta "$T/d4"
check "xdelta3 decodes our delta" xdelta3 -d -f -s "$T/ref.bin" "$T/d4" "$T/x4.zip"
same "xdelta3 output is byte-identical" app-4.zip "$T/x4.zip"
check "xdelta3 sees LZMA secondary compression" xdelta3 printhdr "$T/d4"
expect_match "secondary compressor" "$T/out" 'secondary compressor: *lzma'
check "aws fetches the tar.gz delta" awsx s3 cp s3://dgs/targz/app-3.tar.gz.delta "$T/dt3"
check "aws fetches the tar.gz reference" awsx s3 cp s3://dgs/targz/reference.bin "$T/reft.bin"
check "xdelta3 decodes our tar.gz delta" xdelta3 -d -f -s "$T/reft.bin" "$T/dt3" "$T/xt3.tar.gz"
same "tar.gz delta is byte-exact, never gunzipped" app-3.tar.gz "$T/xt3.tar.gz"
xdelta3 printhdr "$T/dt3" >"$T/hdr"
if grep -q '/G' "$T/hdr"; then not_ok "no external gzip in our deltas" "$(grep application "$T/hdr")"; else ok "no external gzip in our deltas"; fi

# --- a bucket written by the Python DeltaGlider (deltas by Debian's xdelta3) --------------
# put_py KEY FILE META: upload as Python would, metadata as given.
put_py() { awsx s3api put-object --bucket dgs --key "$1" --body "$2" --metadata "$3" >/dev/null; }
refsha=$(sha256sum app-1.zip | cut -c1-64)
put_py py/reference.bin app-1.zip "dg-tool=deltaglider/6.1.0,dg-source-name=app-1.zip,dg-file-sha256=$refsha,dg-created-at=2025-09-21T12:00:00.123456Z,dg-note=reference"
for opt in default djw none; do
    case $opt in default) S= ;; *) S="-S $opt" ;; esac
    # shellcheck disable=SC2086
    xdelta3 -e -f -9 $S -s app-1.zip app-4.zip "$T/py-$opt.delta" 2>/dev/null
    cp app-4.zip "app-4-$opt.zip"
    sha=$(sha256sum app-4.zip | cut -c1-64)
    put_py "py/app-4-$opt.zip.delta" "$T/py-$opt.delta" "dg-tool=deltaglider/6.1.0,dg-original-name=app-4-$opt.zip,dg-file-sha256=$sha,dg-file-size=$(wc -c <app-4.zip),dg-created-at=2025-09-21T12:00:00.123456Z,dg-ref-key=py/reference.bin,dg-ref-sha256=$refsha,dg-delta-size=$(wc -c <"$T/py-$opt.delta"),dg-delta-cmd=xdelta3 -e -9 -s reference.bin app-4.zip app-4.zip.delta"
    check "Python-written delta ($opt secondary) downloads" dg cp "s3://dgs/py/app-4-$opt.zip" "$T/py.zip"
    same "Python-written delta ($opt) is byte-identical" app-4.zip "$T/py.zip"
done
# Legacy spellings of every field, and a direct upload without the Z.
sha=$(sha256sum app-2.zip | cut -c1-64)
xdelta3 -e -f -9 -s app-1.zip app-2.zip "$T/legacy.delta" 2>/dev/null
put_py py/app-2.zip.delta "$T/legacy.delta" "dg_tool=deltaglider/5.0.0,original_name=app-2.zip,file-sha256=$sha,file_size=$(wc -c <app-2.zip),created_at=2025-09-21T12:00:00,ref-key=py/reference.bin,dg_ref_sha256=$refsha,delta_size=$(wc -c <"$T/legacy.delta")"
check "legacy metadata aliases download" dg cp s3://dgs/py/app-2.zip "$T/legacy.zip"
same "legacy metadata delta is byte-identical" app-2.zip "$T/legacy.zip"
check "legacy metadata aliases verify" dg verify s3://dgs/py/app-2.zip
printf 'notes\n' >"$T/notes.txt"
put_py py/notes.txt "$T/notes.txt" "dg-tool=deltaglider/6.1.0,dg-original-name=notes.txt,dg-file-sha256=$(sha256sum "$T/notes.txt" | cut -c1-64),dg-file-size=6,dg-created-at=2025-09-21T12:00:00.123456,dg-compression=none"
check "Python direct upload downloads" dg cp s3://dgs/py/notes.txt "$T/notes.back"
same "Python direct upload is byte-identical" "$T/notes.txt" "$T/notes.back"
# tar.gz deltas made by the xdelta3 CLI gunzip both sides ("G"); decoding
# re-gzips with gzip -c, which reproduces files made by gzip's defaults.
tsha=$(sha256sum app-1.tar.gz | cut -c1-64)
put_py pyg/reference.bin app-1.tar.gz "dg-tool=deltaglider/6.1.0,dg-source-name=app-1.tar.gz,dg-file-sha256=$tsha,dg-created-at=2025-09-21T12:00:00.123456Z,dg-note=reference"
xdelta3 -e -f -9 -s app-1.tar.gz app-3.tar.gz "$T/g.delta" 2>/dev/null
xdelta3 printhdr "$T/g.delta" >"$T/hdr"
expect_match "the CLI wrote a G delta" "$T/hdr" 'application header: *app-3\.tar\.gz/G/app-1\.tar\.gz/G'
put_py pyg/app-3.tar.gz.delta "$T/g.delta" "dg-tool=deltaglider/6.1.0,dg-original-name=app-3.tar.gz,dg-file-sha256=$(sha256sum app-3.tar.gz | cut -c1-64),dg-file-size=$(wc -c <app-3.tar.gz),dg-created-at=2025-09-21T12:00:00.123456Z,dg-ref-key=pyg/reference.bin,dg-ref-sha256=$tsha,dg-delta-size=$(wc -c <"$T/g.delta")"
check "G delta downloads (external gzip)" dg cp s3://dgs/pyg/app-3.tar.gz "$T/g.tgz"
same "G delta round trip is byte-identical" app-3.tar.gz "$T/g.tgz"
mkdir -p "$T/nogzip"
ln -s "$(command -v env)" "$T/nogzip/env"
check_fail "G delta without gzip: clear error" 1 'needs a gzip program on PATH' env PATH="$T/nogzip" "$DG" --endpoint-url "$S3_ENDPOINT" cp s3://dgs/pyg/app-3.tar.gz "$T/g2.tgz"
[ -e "$T/g2.tgz" ] && not_ok "no output without gzip" "file exists" || ok "no output without gzip"

# --- corruption: clear errors, no output file ----------------------------------------------
awsx s3api head-object --bucket dgs --key releases/app-3.zip.delta --query Metadata --output json >"$T/meta.json"
meta=$(tr -d '{}\n " ' <"$T/meta.json" | sed 's/:/=/g')
awsx s3 cp s3://dgs/releases/app-3.zip.delta "$T/d3" --quiet
cp "$T/d3" "$T/d3.bad"
printf '\377' | dd of="$T/d3.bad" bs=1 seek=$(( $(wc -c <"$T/d3") / 2 )) conv=notrunc 2>/dev/null
put_py releases/app-3.zip.delta "$T/d3.bad" "$meta"
check_fail "flipped byte in a delta" 1 '^download failed: s3://dgs/releases/app-3\.zip to .*: (.*corrupt delta|SHA-256 mismatch)' dg cp s3://dgs/releases/app-3.zip "$T/c3.zip"
[ -e "$T/c3.zip" ] && not_ok "corrupt delta leaves no file" "$T/c3.zip exists" || ok "corrupt delta leaves no file"
check_fail "verify reports the corrupt delta" 1 'verify failed: s3://dgs/releases/app-3\.zip' dg verify s3://dgs/releases/app-3.zip
put_py releases/app-3.zip.delta "$T/d3" "$(echo "$meta" | sed "s/dg-file-sha256=[0-9a-f]*/dg-file-sha256=$(printf '0%.0s' $(seq 64))/")"
check_fail "wrong file-sha256 in the metadata" 1 'SHA-256 mismatch: expected 0{64}, got [0-9a-f]{64}; nothing written' dg cp s3://dgs/releases/app-3.zip "$T/c3.zip"
[ -e "$T/c3.zip" ] && not_ok "hash mismatch leaves no file" "$T/c3.zip exists" || ok "hash mismatch leaves no file"
ls -A "$T" | grep -q '\.dg-' && not_ok "no temp files left in the destination" "$(ls -A "$T")" || ok "no temp files left in the destination"
put_py releases/app-3.zip.delta "$T/d3" "$meta"
check "repaired delta downloads again" dg cp s3://dgs/releases/app-3.zip "$T/c3.zip"
same "repaired delta is byte-identical" app-3.zip "$T/c3.zip"
# A damaged reference: its SHA-256 no longer matches its metadata.
awsx s3api head-object --bucket dgs --key targz/reference.bin --query Metadata --output json >"$T/rmeta.json"
rmeta=$(tr -d '{}\n " ' <"$T/rmeta.json" | sed 's/:/=/g')
cp "$T/reft.bin" "$T/reft.bad"
printf 'X' | dd of="$T/reft.bad" bs=1 seek=1000 conv=notrunc 2>/dev/null
put_py targz/reference.bin "$T/reft.bad" "$rmeta"
check_fail "flipped byte in the reference" 1 'reference targz/reference\.bin: reference SHA-256 mismatch' env DG_CACHE_DIR="$T/cache2" "$DG" --endpoint-url "$S3_ENDPOINT" cp s3://dgs/targz/app-2.tar.gz "$T/t2.tgz"
[ -e "$T/t2.tgz" ] && not_ok "bad reference leaves no file" "exists" || ok "bad reference leaves no file"
put_py targz/reference.bin "$T/reft.bin" "$rmeta"
# A damaged cache file is dropped and fetched again.
key=$(head -c 32 /dev/urandom | base64)
check "download fills a persistent cache" env DG_CACHE_ENCRYPTION_KEY="$key" DG_CACHE_DIR="$T/pcache" "$DG" --endpoint-url "$S3_ENDPOINT" cp s3://dgs/targz/app-2.tar.gz "$T/t2.tgz"
cf=$(ls "$T"/pcache/refs/*.dgref 2>/dev/null | head -n 1)
[ -n "$cf" ] && ok "the cache holds the reference" || not_ok "the cache holds the reference" "$(ls -R "$T/pcache")"
if [ -n "$cf" ] && grep -q "$(head -c 64 app-1.tar.gz | od -An -tx1 | tr -d ' \n' | head -c 16)" "$cf" 2>/dev/null; then :; fi
if cmp -s "$cf" "$T/reft.bin"; then not_ok "cache is encrypted" "plaintext on disk"; else ok "cache is encrypted"; fi
expect "cache directories are private" "$(stat -c %a "$T/pcache" "$T/pcache/refs" | tr '\n' ' ')" "700 700 "
expect "cache files are private" "$(stat -c %a "$cf")" 600
printf 'Z' | dd of="$cf" bs=1 seek=5000 conv=notrunc 2>/dev/null
check "a damaged cache entry is refetched" env DG_CACHE_ENCRYPTION_KEY="$key" DG_CACHE_DIR="$T/pcache" "$DG" --endpoint-url "$S3_ENDPOINT" cp s3://dgs/targz/app-4.tar.gz "$T/t4.tgz"
same "download after cache repair is byte-identical" app-4.tar.gz "$T/t4.tgz"
expect_match "the damage was reported" "$T/err" 'damaged'
check "another key cannot read the cache" env DG_CACHE_ENCRYPTION_KEY="$(head -c 32 /dev/urandom | base64)" DG_CACHE_DIR="$T/pcache" "$DG" --endpoint-url "$S3_ENDPOINT" cp s3://dgs/targz/app-4.tar.gz "$T/t4.tgz"
same "download with another key is byte-identical" app-4.tar.gz "$T/t4.tgz"
check_fail "a bad cache key is a usage error" 2 'DG_CACHE_ENCRYPTION_KEY must be 32 bytes' env DG_CACHE_ENCRYPTION_KEY=short "$DG" --endpoint-url "$S3_ENDPOINT" cp s3://dgs/targz/app-4.tar.gz "$T/t4.tgz"
check "memory cache" env DG_CACHE_BACKEND=memory "$DG" --endpoint-url "$S3_ENDPOINT" cp s3://dgs/targz/app-5.tar.gz "$T/t5.tgz"
same "memory cache download is byte-identical" app-5.tar.gz "$T/t5.tgz"
check "memory cache too small for the reference" env DG_CACHE_BACKEND=memory DG_CACHE_MEMORY_SIZE_MB=1 "$DG" --endpoint-url "$S3_ENDPOINT" cp s3://dgs/releases/app-5.zip "$T/m5.zip"
same "spilled cache download is byte-identical" app-5.zip "$T/m5.zip"
[ -z "$(ls -A "$T/cache" 2>/dev/null)" ] && ok "per-process cache directories are removed" || not_ok "per-process cache directories are removed" "$(ls -A "$T/cache")"

# --- the max-ratio rule, --no-delta, direct uploads ---------------------------------------
# Half random, half text: a delta against the reference costs 0.5-1.0 of it.
gen_file "$T/unrelated.bin" 300000 unrelated
i=0; while [ $i -lt 6000 ]; do echo "unrelated text line $i"; i=$((i + 1)); done >"$T/unrelated.txt"
(cd "$T" && zip -q -0 unrelated.zip unrelated.bin unrelated.txt)
check "an unrelated zip goes direct" dg cp "$T/unrelated.zip" s3://dgs/releases/
expect_match "direct summary" "$T/out" '\(direct: '
check "raw listing after direct" awsx s3 ls s3://dgs/releases/
expect_match "stored as itself" "$T/out" ' unrelated\.zip$'
check "--max-ratio 1 keeps the delta" dg cp "$T/unrelated.zip" s3://dgs/releases/ --max-ratio 1
expect_match "delta summary" "$T/out" '\(delta: '
check "raw listing after delta" awsx s3 ls s3://dgs/releases/
if grep -q ' unrelated\.zip$' "$T/out"; then not_ok "the direct copy was replaced" "$(cat "$T/out")"; else ok "the direct copy was replaced"; fi
check "DG_MAX_RATIO=0 forces direct" env DG_MAX_RATIO=0 "$DG" --endpoint-url "$S3_ENDPOINT" cp app-5.zip s3://dgs/releases/app-5b.zip
expect_match "DG_MAX_RATIO direct" "$T/out" '\(direct: '
check "--no-delta" dg cp app-5.zip s3://dgs/nodelta/ --no-delta
expect_match "--no-delta is direct" "$T/out" '\(direct: '
check "direct upload downloads" dg cp s3://dgs/nodelta/app-5.zip "$T/nd.zip"
same "direct round trip" app-5.zip "$T/nd.zip"
check "direct metadata" awsx s3api head-object --bucket dgs --key nodelta/app-5.zip
expect_match "direct compression none" "$T/out" '"dg-compression": "none"'
expect_match "direct created-at without Z" "$T/out" '"dg-created-at": "[0-9-]+T[0-9:]+\.[0-9]{6}"'
check "a text file goes direct" dg cp "$TESTS_DIR/run.sh" s3://dgs/releases/
expect_match "text file direct" "$T/out" '\(direct: '
check_fail "bad --max-ratio" 2 'max ratio must be between 0\.0 and 1\.0' dg cp app-5.zip s3://dgs/releases/ --max-ratio 2

# --- deletes keep what deltas need ------------------------------------------------------------
check_fail "reference.bin is refused while deltas need it" 1 'deltas still need it' dg rm s3://dgs/releases/reference.bin
check "rm a delta object" dg rm s3://dgs/releases/app-2.zip
check "others still download" dg cp s3://dgs/releases/app-5.zip "$T/after.zip"
same "download after rm" app-5.zip "$T/after.zip"
for f in app-1.zip app-3.zip app-4.zip app-5.zip unrelated.zip app-5b.zip run.sh; do
    dg rm "s3://dgs/releases/$f" >/dev/null 2>&1 || not_ok "rm $f" "$(cat "$T/err" 2>/dev/null)"
done
awsx s3 ls s3://dgs/releases/ --recursive >"$T/out" 2>&1
expect "the reference went with the last delta" "$(cat "$T/out")" ""
check_fail "rm of a missing logical name" 1 '^delete: Object not found: s3://dgs/releases/app-1\.zip$' dg rm s3://dgs/releases/app-1.zip

# --- the same core on a file:// store ---------------------------------------------------------
fs="file://$T/store/rel/"
for v in 1 2 3 4 5; do check "file:// upload $v" "$DG" cp "app-$v.zip" "$fs"; done
expect_match "file:// delta summary" "$T/out" 'delta: '
stored=$(find "$T/store/rel" -type f ! -name '.*' -exec cat {} + | wc -c)
[ "$stored" -lt $(( $(cat app-*.zip | wc -c) / 3 )) ] && ok "file:// stores $stored bytes" || not_ok "file:// savings" "$stored bytes"
[ -f "$T/store/rel/.app-3.zip.delta.dgmeta" ] && ok "file:// metadata sidecar" || not_ok "file:// metadata sidecar" "$(ls -A "$T/store/rel")"
for v in 1 3 5; do
    check "file:// download $v" "$DG" cp "${fs}app-$v.zip" "$T/f.zip"
    same "file:// $v byte-identical" "app-$v.zip" "$T/f.zip"
done
check "file:// ls" "$DG" ls "$fs"
expect "file:// ls is logical" "$(awk '{print $4}' "$T/out" | tr '\n' ' ')" "app-1.zip app-2.zip app-3.zip app-4.zip app-5.zip "
check "file:// verify" "$DG" verify "${fs}app-4.zip"
check "file:// deltas decode with xdelta3" xdelta3 -d -f -s "$T/store/rel/reference.bin" "$T/store/rel/app-5.zip.delta" "$T/x5.zip"
same "file:// delta is VCDIFF" app-5.zip "$T/x5.zip"
printf 'x' | dd of="$T/store/rel/app-2.zip.delta" bs=1 seek=100 conv=notrunc 2>/dev/null
check_fail "file:// corrupt delta" 1 'download failed: .*(corrupt delta|SHA-256 mismatch)' "$DG" cp "${fs}app-2.zip" "$T/f2.zip"
for v in 1 2 3 4 5; do "$DG" rm "${fs}app-$v.zip" >/dev/null || not_ok "file:// rm $v" "failed"; done
expect "file:// store is empty after rm" "$(ls -A "$T/store/rel")" ""
check_fail "file:// keys cannot escape" 2 "'\.\.' is not allowed" "$DG" cp app-1.zip "file://$T/store/../escape.zip"

# --- encoder levels, and encodes that cannot pay off (issue 10) -----------------------------
for lvl in 1 9; do
    lv="file://$T/lv$lvl/rel/"
    "$DG" cp app-1.zip "$lv" >/dev/null
    if [ $lvl = 1 ]; then
        check "--compression-level $lvl" "$DG" cp --compression-level $lvl app-4.zip "$lv"
    else
        check "DG_COMPRESSION_LEVEL=$lvl" env DG_COMPRESSION_LEVEL=$lvl "$DG" cp app-4.zip "$lv"
    fi
    expect_match "level $lvl makes a delta" "$T/out" '\(delta: '
    expect_match "its dg-delta-cmd says -$lvl" "$T/lv$lvl/rel/.app-4.zip.delta.dgmeta" \
        "xdelta3 -e -$lvl -s reference\\.bin"
    check "Debian's xdelta3 decodes level $lvl" xdelta3 -d -f -s "$T/lv$lvl/rel/reference.bin" \
        "$T/lv$lvl/rel/app-4.zip.delta" "$T/xl$lvl.zip"
    same "level $lvl round trip" app-4.zip "$T/xl$lvl.zip"
done
check_fail "a level out of range is refused" 2 'compression level must be between 1 and 9' \
    "$DG" cp --compression-level 10 app-4.zip "file://$T/lv1/rel/"
check_fail "and from the environment" 2 'compression level must be between 1 and 9' \
    env DG_COMPRESSION_LEVEL=0 "$DG" cp app-4.zip "file://$T/lv1/rel/"
# Two unrelated compressed releases: no encode, stored whole, said so at INFO.
mkdir -p "$T/hz"
gen_file "$T/hz/one.zip" 600000 one
gen_file "$T/hz/two.zip" 600000 two
"$DG" cp "$T/hz/one.zip" "file://$T/hstore/" >/dev/null
check "an unrelated compressed release" env DG_LOG_LEVEL=INFO "$DG" cp "$T/hz/two.zip" "file://$T/hstore/"
expect_match "is stored whole" "$T/out" 'two\.zip \(direct: '
expect_match "without encoding" "$T/err" 'compressed data that matches little of the reference'
# A compressed release that shares most of its bytes still becomes a delta.
cp "$T/hz/one.zip" "$T/hz/three.zip"
printf 'patched' | dd of="$T/hz/three.zip" bs=1 seek=300000 conv=notrunc 2>/dev/null
check "a related compressed release" "$DG" cp "$T/hz/three.zip" "file://$T/hstore/"
expect_match "is a delta" "$T/out" 'three\.zip \(delta: '
