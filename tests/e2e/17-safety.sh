# No destructive surprises (issue 8): typos never delete, rm never removes
# a bucket, references go only when nothing can need them, orphans are
# found, killed downloads leave nothing that is uploaded later, and a
# hijacked cache directory is never trusted or followed.
. "$TESTS_DIR/lib/harness.sh"
. "$TESTS_DIR/lib/archives.sh"

s3rver_start --bucket b || { echo "not ok - s3rver start"; exit 1; }
export DG_CACHE_DIR="$T/cache"
make_family "$T/rel" 3
raw() { awsx s3 ls "$1" --recursive 2>/dev/null | awk '{print $4}'; }
# The lock folder of a DeltaSpace: .deltaglider/locks/<128 bits of SHA-256>/
lockdir() { echo ".deltaglider/locks/$(printf %s "$1" | sha256sum | cut -c1-32)/"; }
empty_put() { awsx s3api put-object --bucket b --key "$1" >/dev/null 2>&1; }

# --- rm never removes a bucket ---------------------------------------------------
check "seed an object" dg cp "$T/rel/app-1.zip" s3://b/keep/
for arg in s3://b/ s3://b; do
    check_fail "rm $arg without a key is refused" 2 '^rm: s3://b/? names no object' dg rm "$arg"
done
check "the bucket is still there" awsx s3api head-bucket --bucket b
expect "and its objects" "$(raw s3://b/keep/ | tr '\n' ' ')" "keep/app-1.zip.delta keep/reference.bin "

# --- a missing local source is an error, not an empty folder ----------------------
mkdir -p "$T/src" && cp "$T/rel/app-1.zip" "$T/rel/app-2.zip" "$T/src/"
check "sync a folder up" dg sync "$T/src" s3://b/mirror/
check_fail "cp -r of a typo" 2 'the user-provided path .*/typo does not exist' dg cp -r "$T/typo" s3://b/mirror/
check_fail "sync --delete of a typo" 2 '^sync failed: the user-provided path .*/typo does not exist' \
    dg sync "$T/typo" s3://b/mirror/ --delete
check_fail "sync of a file, not a folder" 2 'is not a directory' dg sync "$T/src/app-1.zip" s3://b/mirror/ --delete
expect "nothing was deleted" "$(dg ls s3://b/mirror/ | awk '{print $4}' | tr '\n' ' ')" "app-1.zip app-2.zip "
# A source that cannot be listed completely drives no deletion.
ln -s "$T/nowhere" "$T/src/dangling"
rm "$T/src/app-2.zip"
"$DG" --endpoint-url "$S3_ENDPOINT" sync "$T/src" s3://b/mirror/ --delete >"$T/out" 2>"$T/err"
expect "an incomplete source listing fails" "$?" 1
expect_match "it names what it skipped" "$T/err" '^warning: skipping .*/dangling: broken symbolic link$'
expect_match "and says it deletes nothing" "$T/err" '^warning: not deleting anything: '
expect "app-2.zip is still there" "$(dg ls s3://b/mirror/ | awk '{print $4}' | tr '\n' ' ')" "app-1.zip app-2.zip "
rm "$T/src/dangling"
# A folder that opens but whose reading fails (strace makes the source's
# first getdents64 fail; readdir() then returns NULL as at its end): its
# files are not taken as gone. (LeakSanitizer cannot run under ptrace.)
if command -v strace >/dev/null && strace -qq -o /dev/null true 2>/dev/null; then
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        strace -f -qq -o /dev/null -e trace=getdents64 -e inject=getdents64:error=EIO:when=1 \
        "$DG" --endpoint-url "$S3_ENDPOINT" sync "$T/src" s3://b/mirror/ --delete >"$T/out" 2>"$T/err"
    expect "a failed read of a folder fails" "$?" 1
    expect_match "it names the folder" "$T/err" '^warning: skipping .*/src/?: (I/O|Input/output) error$'
    expect_match "and deletes nothing" "$T/err" '^warning: not deleting anything: '
    expect "everything is still there" "$(dg ls s3://b/mirror/ | awk '{print $4}' | tr '\n' ' ')" "app-1.zip app-2.zip "
fi
check "a complete listing deletes" dg sync "$T/src" s3://b/mirror/ --delete
expect_match "the delete" "$T/out" '^delete: s3://b/mirror/app-2\.zip$'
# A store has no folders: a mistyped source prefix lists as empty.
mkdir -p "$T/down" && dg cp -r s3://b/mirror/ "$T/down/" >/dev/null
check_fail "sync --delete from a typo prefix" 2 \
    '^sync: s3://b/mirrr/ holds no objects: not deleting the 1 file\(s\) under .*down' \
    dg sync s3://b/mirrr/ "$T/down" --delete
expect "the local copy is still there" "$(ls "$T/down")" "app-1.zip"
check_fail "sync --delete from an empty file:// prefix" 2 'holds no objects: not deleting the 1 file' \
    dg sync "file://$T/nostore/p/" s3://b/mirror/ --delete
expect "the mirror is still there" "$(dg ls s3://b/mirror/ | awk '{print $4}')" "app-1.zip"

# --- a killed download's temp file is never uploaded ------------------------------------
mkdir -p "$T/up" && cp "$T/rel/app-3.zip" "$T/up/" && echo partial >"$T/up/.app-3.zip.dg-Ab12Cd"
check "cp -r skips temp files" dg cp -r "$T/up" s3://b/up/
expect "only the real file" "$(raw s3://b/up/ | grep -c dg-)" 0
check "sync skips temp files" dg sync "$T/up" s3://b/up2/
expect "only the real file, again" "$(dg ls s3://b/up2/ | awk '{print $4}')" "app-3.zip"

# --- orphan references: rm -r and gc ---------------------------------------------------
sha=$(sha256sum <"$T/rel/app-1.zip" | cut -c1-64)
put_orphan() {
    awsx s3api put-object --bucket b --key "$1reference.bin" --body "$T/rel/app-1.zip" \
        --metadata "dg-file-sha256=$sha,dg-note=reference,dg-tool=deltaglider/6.1.0" >/dev/null
}
put_orphan orphan/
dg ls s3://b/orphan/ --recursive --summarize >"$T/out" 2>"$T/err"
expect "ls does not show an orphan reference (nothing listed: exit 1, as aws)" "$?" 1
expect_match "no objects" "$T/out" 'Total Objects: 0'
check "rm -r of the folder" dg rm -r s3://b/orphan/
expect "rm -r removed the orphan reference" "$(raw s3://b/orphan/)" ""

put_orphan gc1/
put_orphan gc2/sub/
check "gc --dryrun" dg gc s3://b --dryrun
expect_match "dryrun names the orphan" "$T/out" '^\(dryrun\) delete: s3://b/gc1/reference\.bin \(no delta uses it\)$'
expect "dryrun removed nothing" "$(raw s3://b/gc1/)" "gc1/reference.bin"
check "gc" dg gc s3://b
expect_match "gc removes orphans" "$T/out" '^delete: s3://b/gc2/sub/reference\.bin \(no delta uses it\)$'
expect_match "gc summary" "$T/out" '^gc: 2 unused reference\(s\) removed'
expect "both gone" "$(raw s3://b/gc1/; raw s3://b/gc2/)" ""
expect "references in use stay" "$(raw s3://b/keep/ | grep -c reference.bin)" 1

# A delta whose reference is gone is reported, never deleted.
check "two versions" dg cp "$T/rel/app-2.zip" s3://b/lost/
check "two versions, second" dg cp "$T/rel/app-3.zip" s3://b/lost/
awsx s3 rm s3://b/lost/reference.bin >/dev/null
"$DG" --endpoint-url "$S3_ENDPOINT" gc s3://b/lost/ >"$T/out" 2>"$T/err"
expect "gc exits 1 when data is unreadable" "$?" 1
expect "both deltas named" "$(grep -c 'cannot be downloaded' "$T/err")" 2
expect_match "naming the missing reference" "$T/err" \
    '^warning: s3://b/lost/app-2\.zip\.delta cannot be downloaded: its reference s3://b/lost/reference\.bin is missing$'
expect "and kept" "$(raw s3://b/lost/ | wc -l)" 2
awsx s3 rm s3://b/lost/ --recursive >/dev/null

# A file:// write a killed process left (its temp file) is gc's, as an
# abandoned multipart upload is on S3: hidden, kept by rm -r, aborted when old.
mkdir -p "$T/fst/w"
check "a file:// object" "$DG" cp "$T/rel/app-1.zip" "file://$T/fst/w/"
printf half >"$T/fst/w/.app-2.zip.dg-Ab12Cd"
printf keep >"$T/fst/w/.app-2.zip.dg-x"
printf '{}' >"$T/fst/w/.app-3.zip.delta.dgmeta"   # metadata whose object never came
check "ls hides the unfinished write" "$DG" ls "file://$T/fst/w/"
if grep -q -e 'Ab12Cd' -e ' app-2\.zip$' "$T/out"; then not_ok "hidden" "$(cat "$T/out")"; else ok "hidden"; fi
check "gc keeps a recent one" "$DG" gc "file://$T/fst/w/"
[ -f "$T/fst/w/.app-2.zip.dg-Ab12Cd" ] && ok "still there" || not_ok "still there" "removed"
check "gc --older-than 0s --dryrun" "$DG" gc "file://$T/fst/w/" --older-than 0s --dryrun
expect_match "names it by the object it was to be" "$T/out" \
    "^\(dryrun\) abort: file://$T/fst/w/app-2\.zip \(unfinished write started "
expect_match "and the metadata without its object" "$T/out" \
    "^\(dryrun\) abort: file://$T/fst/w/app-3\.zip\.delta \(unfinished write started "
check "gc --older-than 0s" "$DG" gc "file://$T/fst/w/" --older-than 0s
[ ! -e "$T/fst/w/.app-2.zip.dg-Ab12Cd" ] && [ ! -e "$T/fst/w/.app-3.zip.delta.dgmeta" ] &&
    [ -f "$T/fst/w/.app-2.zip.dg-x" ] && [ -f "$T/fst/w/app-1.zip.delta" ] &&
    [ -f "$T/fst/w/.app-1.zip.delta.dgmeta" ] && ok "removes those, and only those" ||
    not_ok "removes those, and only those" "$(ls -a "$T/fst/w")"
check "the object still downloads" "$DG" cp "file://$T/fst/w/app-1.zip" "$T/fst-1.zip"
same "byte-identical" "$T/rel/app-1.zip" "$T/fst-1.zip"

# --- the delete protocol: a live lease keeps the reference, a marker holds uploads ------
check "a space with one delta" dg cp "$T/rel/app-1.zip" s3://b/leased/
future=$(($(date +%s) + 3600))
lease="$(lockdir leased/)lease-$future-otherhost.1.4242.cafe0001"
empty_put "$lease"
check "rm of the last delta while another host holds a lease" dg rm s3://b/leased/app-1.zip
expect "the reference stays while the lease lives" "$(raw s3://b/leased/)" "leased/reference.bin"
check_fail "rm of the reference itself is refused while leased" 1 'an upload may be using it' \
    dg rm s3://b/leased/reference.bin
awsx s3 rm "s3://b/$lease" >/dev/null
check "gc once the lease is gone" dg gc s3://b/leased/
expect "then it goes" "$(raw s3://b/leased/)" ""
# A lease whose expiry passed, or whose holder died on this host, counts for nothing.
check "again" dg cp "$T/rel/app-1.zip" s3://b/leased/
empty_put "$(lockdir leased/)lease-$(($(date +%s) - 600))-otherhost.1.4242.cafe0002"
dead=$(sh -c 'echo $$')   # a process that has exited
ns=$(readlink /proc/self/ns/pid | tr -cd 0-9)
empty_put "$(lockdir leased/)lease-$future-$(uname -n | tr -c 'A-Za-z0-9-\n' _).$ns.$dead.cafe0003"
check "rm with only an expired and a dead holder's lease" dg rm s3://b/leased/app-1.zip
expect "the reference went" "$(raw s3://b/leased/)" ""
check "gc removes expired and dead locks" dg gc s3://b
expect "no lock objects left" "$(raw s3://b/.deltaglider/locks/ | wc -l)" 0
# An upload waits for a delete in progress (a marker) before using the reference.
check "a space to upload into" dg cp "$T/rel/app-1.zip" s3://b/held/
empty_put "$(lockdir held/)delete-$(($(date +%s) + 3))-otherhost.1.4243.cafe0004"
start=$(date +%s)
check "an upload during a delete" dg cp "$T/rel/app-2.zip" s3://b/held/
waited=$(($(date +%s) - start))
[ "$waited" -ge 2 ] && ok "it waited for the delete marker ($waited s)" ||
    not_ok "it waited for the delete marker" "took $waited s"
check "both download" dg cp s3://b/held/app-2.zip "$T/got2.zip"
same "after waiting" "$T/rel/app-2.zip" "$T/got2.zip"
expect "no lock objects left by our runs" "$(raw s3://b/.deltaglider/locks/ | grep -vc cafe0004)" 0

# --- the cache directory is never trusted blindly -------------------------------------
unset DG_CACHE_DIR
check "a delta to fetch" dg cp "$T/rel/app-2.zip" s3://b/cache/
check "and its reference" dg cp "$T/rel/app-1.zip" s3://b/cache/
mkdir -p "$T/victim" && echo precious >"$T/victim/file"
ln -s "$T/victim" "$T/evil"
DG_CACHE_DIR="$T/evil" "$DG" --endpoint-url "$S3_ENDPOINT" cp s3://b/cache/app-2.zip "$T/c1.zip" \
    >"$T/out" 2>"$T/err"
expect "a symlinked cache directory: the download works" "$?" 0
same "byte-identical through the bypass" "$T/rel/app-2.zip" "$T/c1.zip"
expect_match "with a warning" "$T/err" '^WARNING: reference cache bypassed: cannot open cache directory .*/evil'
expect "nothing written through the symlink" "$(ls "$T/victim")" "file"
mkdir -m 0777 "$T/open" && chmod 0777 "$T/open"
DG_CACHE_DIR="$T/open" "$DG" --endpoint-url "$S3_ENDPOINT" cp s3://b/cache/app-2.zip "$T/c2.zip" \
    >"$T/out" 2>"$T/err"
expect "a world-writable cache directory: the download works" "$?" 0
expect_match "and is refused" "$T/err" 'cache directory .*/open is writable by others'
if [ "$(id -u)" = 0 ]; then
    mkdir "$T/theirs" && chown nobody "$T/theirs"
    DG_CACHE_DIR="$T/theirs" "$DG" --endpoint-url "$S3_ENDPOINT" cp s3://b/cache/app-2.zip "$T/c3.zip" \
        >"$T/out" 2>"$T/err"
    expect "another user's cache directory: the download works" "$?" 0
    expect_match "and is refused" "$T/err" 'cache directory .*/theirs belongs to another user'
fi
# The reaper of dead processes' directories never follows a symlink.
mkdir -m 0700 "$T/base"
ln -s "$T/victim" "$T/base/proc-999999-aaaaaa"
mkdir -m 0700 "$T/base/proc-999998-bbbbbb" && ln -s "$T/victim/file" "$T/base/proc-999998-bbbbbb/link"
check "a run that reaps" env DG_CACHE_DIR="$T/base" "$DG" --endpoint-url "$S3_ENDPOINT" \
    cp s3://b/cache/app-2.zip "$T/c4.zip"
expect "the victim's files survive" "$(cat "$T/victim/file")" "precious"
expect "the planted links are gone" "$(ls "$T/base")" ""
# A FIFO where an entry should be cannot hang a run.
key=$(head -c 32 /dev/urandom | base64)
ref_sha=$(sha256sum <"$T/rel/app-1.zip" | cut -c1-64)
mkdir -p -m 0700 "$T/fifo/refs" && mkfifo "$T/fifo/refs/$ref_sha.dgref"
check "a FIFO in the cache" timeout 60 env DG_CACHE_DIR="$T/fifo" DG_CACHE_ENCRYPTION_KEY="$key" \
    "$DG" --endpoint-url "$S3_ENDPOINT" cp s3://b/cache/app-2.zip "$T/c5.zip"
same "download past the FIFO" "$T/rel/app-2.zip" "$T/c5.zip"
# A cache directory that cannot be made is bypassed, not fatal.
echo file >"$T/notadir"
DG_CACHE_DIR="$T/notadir/sub" "$DG" --endpoint-url "$S3_ENDPOINT" cp s3://b/cache/app-2.zip "$T/c6.zip" \
    >"$T/out" 2>"$T/err"
expect "an unusable cache directory: the download works" "$?" 0
same "byte-identical" "$T/rel/app-2.zip" "$T/c6.zip"
expect "one warning" "$(grep -c '^WARNING: reference cache bypassed' "$T/err")" 1
# A cache that fills up mid-reference is bypassed, and the fetch made again
# (needs root for a small tmpfs; skipped where mounting is not allowed).
mkdir -p "$T/full"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=256k tmpfs "$T/full" 2>/dev/null; then
    key=$(head -c 32 /dev/urandom | base64)
    DG_CACHE_DIR="$T/full/c" DG_CACHE_ENCRYPTION_KEY="$key" "$DG" --endpoint-url "$S3_ENDPOINT" \
        cp s3://b/cache/app-2.zip "$T/c7.zip" >"$T/out" 2>"$T/err"
    expect "a full cache: the download works" "$?" 0
    same "byte-identical past a full cache" "$T/rel/app-2.zip" "$T/c7.zip"
    expect_match "with one warning naming the cause" "$T/err" \
        '^WARNING: reference cache bypassed: .*no space left on device'
    expect "and no partial entry left in it" "$(find "$T/full" -type f | wc -l)" 0
    umount "$T/full"
fi
