# Parallel work (issue 10): cp -r, sync and migrate copy their files on
# s3.max_concurrent_requests threads, listings and stats HEAD their deltas
# in parallel. What lands, what comes back, the lines and the exit codes
# are those of a sequential run (only the order of lines may differ); one
# file's failure stops no other.
. "$TESTS_DIR/lib/harness.sh"

server_start --bucket par --bucket stats || { echo "not ok - server start"; exit 1; }
export DG_CACHE_DIR="$T/cache"
mkdir -p "$HOME/.aws"
# threads N: the profile's s3.max_concurrent_requests, as aws reads it.
threads() { printf '[default]\ns3 =\n    max_concurrent_requests = %s\n' "$1" >"$HOME/.aws/config"; }
threads 8

# A tree: 30 small files in three folders, six releases of an archive in a
# fourth.
mkdir -p "$T/src/a" "$T/src/b" "$T/src/c" "$T/src/rel" "$T/v/tree"
for d in a b c; do
    i=1
    while [ $i -le 10 ]; do gen_file "$T/src/$d/f$i.bin" $((1000 + i * 37)) "$d$i"; i=$((i + 1)); done
done
gen_file "$T/v/tree/lib.so" 200000 base
for i in 1 2 3 4 5 6; do
    printf 'version %s' "$i" | dd of="$T/v/tree/lib.so" bs=1 seek=$((i * 20000)) conv=notrunc 2>/dev/null
    (cd "$T/v/tree" && zip -q -X -r "$T/src/rel/app-$i.zip" .)
done
nfiles=36

check "cp -r up, 8 at a time" dg cp -r "$T/src" s3://par/t1/
expect "a line for every file" "$(grep -c '^upload: ' "$T/out")" $nfiles
expect "nothing on stderr" "$(wc -c <"$T/err" | tr -d ' ')" 0
awsx s3 ls s3://par/t1/rel/ >"$T/raw"
expect "one reference for the six releases" "$(grep -c ' reference\.bin$' "$T/raw")" 1
expect "every release is a delta against it" "$(grep -c '\.zip\.delta$' "$T/raw")" 6
expect_match "the first release is the reference" "$T/out" 'rel/app-1\.zip \(reference'
check "cp -r down, 8 at a time" dg cp -r s3://par/t1/ "$T/back"
check "the tree comes back byte for byte" diff -r "$T/src" "$T/back"
check "ls of the deltas" dg ls s3://par/t1/rel/
(cd "$T/src/rel" && for f in *; do echo "$(wc -c <"$f") $f"; done) | sort >"$T/want"
awk '{ print $3, $4 }' "$T/out" | sort >"$T/got"
same "ls gives every delta its original size" "$T/want" "$T/got"

# The same tree one at a time says the same, line for line (sorted).
threads 1
check "cp -r up, one at a time" dg cp -r "$T/src" s3://par/t2/
sed 's|/t2/|/t/|' "$T/out" | sort >"$T/seq"
threads 8
check "cp -r up again, 8 at a time" dg cp -r "$T/src" s3://par/t3/
sed 's|/t3/|/t/|' "$T/out" | sort >"$T/par"
same "parallel lines are the sequential ones" "$T/seq" "$T/par"

# One bad object fails alone, named; every other file arrives.
zeros=$(printf '0%.0s' $(seq 64))
awsx s3api put-object --bucket par --key t1/b/f4.bin --body "$T/src/b/f4.bin" \
    --metadata "dg-file-sha256=$zeros" >/dev/null
check_fail "a bad object among many: one error line" 1 \
    '^download failed: s3://par/t1/b/f4\.bin to .*SHA-256 mismatch' dg cp -r s3://par/t1/ "$T/back2"
expect "the other files all arrive" "$(find "$T/back2" -type f | wc -l | tr -d ' ')" $((nfiles - 1))
[ -e "$T/back2/b/f4.bin" ] && not_ok "the bad file is not written" "it exists" ||
    ok "the bad file is not written"
dg cp s3://par/t2/b/f4.bin - | awsx s3 cp - s3://par/t1/b/f4.bin --metadata "dg-file-sha256=$(sha256sum "$T/src/b/f4.bin" | cut -c1-64)" >/dev/null 2>&1

# sync: parallel, then nothing left to do; --delete after a removal.
check "sync up, parallel" dg sync "$T/src" s3://par/t4/
expect "sync copies every file" "$(grep -c '^upload: ' "$T/out")" $nfiles
check "a second sync" dg sync "$T/src" s3://par/t4/
expect "finds nothing to copy" "$(wc -c <"$T/out" | tr -d ' ')" 0
check "sync down, parallel" dg sync s3://par/t4/ "$T/mirror"
check "the mirror is the tree" diff -r "$T/src" "$T/mirror"

# migrate: store to store, in parallel, with its summary.
check "migrate, parallel" dg migrate --yes s3://par/t1/rel/ s3://par/m/
expect_match "migrate's summary counts every file" "$T/out" 'done: 6 file\(s\) copied'
check "a migrated release downloads" dg cp s3://par/m/rel/app-6.zip "$T/m6.zip"
same "byte for byte" "$T/src/rel/app-6.zip" "$T/m6.zip"

# A file:// store, without any S3 configuration.
check "cp -r into file://" "$DG" cp -r "$T/src" "file://$T/store/"
check "and back" "$DG" cp -r "file://$T/store/" "$T/fback"
check "file:// round trip" diff -r "$T/src" "$T/fback"

# stats: the HEADs of --detailed and --sampled run in parallel.
dg cp -r "$T/src/rel" s3://stats/r1/ >/dev/null && dg cp -r "$T/src/rel" s3://stats/r2/ >/dev/null
want=$(( $(cat "$T/src/rel"/* | wc -c) * 2 ))
check "stats --detailed" dg stats stats --detailed --json --no-cache
expect_match "detailed: every original size" "$T/out" "\"total_size\": $want,"
check "stats --sampled" dg stats stats --sampled --json --no-cache
expect_match "sampled: no delta left unsized" "$T/out" '"unknown_size_deltas": 0'

threads 0
check_fail "a bad concurrency setting is refused" 2 's3\.max_concurrent_requests must be between 1 and 64' \
    dg ls s3://par/t1/
