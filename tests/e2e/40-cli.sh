# The whole command line against s3rver: recursive cp, sync, rm -r, stats,
# purge, migrate, analyze, filters, dry runs, progress, help, exit codes.
. "$TESTS_DIR/lib/harness.sh"
. "$TESTS_DIR/lib/archives.sh"

server_start --bucket cli --bucket src --bucket dst || { echo "not ok - server start"; exit 1; }
export DG_CACHE_DIR="$T/cache"
make_family "$T/rel" 4
# A release tree: archives in two folders, text beside them.
mkdir -p "$T/tree/app" "$T/tree/tools/cli" && cd "$T/tree" || exit 1
for v in 1 2 3; do cp "$T/rel/app-$v.zip" "app/app-$v.zip"; done
for v in 1 2; do cp "$T/rel/app-$v.tar.gz" "tools/cli/cli-$v.tar.gz"; done
echo "read me" >README.txt
echo "log" >app/build.log
raw() { awsx s3 ls "$1" --recursive 2>/dev/null | awk '{print $4}'; }

# --- cp --recursive ----------------------------------------------------------------
check "cp -r up" dg cp . s3://cli/rel/ --recursive
expect "one line per file" "$(grep -c '^upload: ' "$T/out")" 7
expect_match "relative paths kept" "$T/out" '^upload: \./tools/cli/cli-2\.tar\.gz to s3://cli/rel/tools/cli/cli-2\.tar\.gz \(delta: '
if [ -s "$T/err" ]; then not_ok "no progress when stderr is not a terminal" "$(head -c 200 "$T/err")"; else ok "no progress when stderr is not a terminal"; fi
raw s3://cli/rel/ >"$T/raw"
expect_match "each folder is a DeltaSpace" "$T/raw" '^rel/tools/cli/reference\.bin$'
expect_match "app folder reference" "$T/raw" '^rel/app/reference\.bin$'
check "cp -r down" dg cp s3://cli/rel/ "$T/down" --recursive
check "recursive download is identical" diff -r "$T/tree" "$T/down"
check "cp -r between buckets re-encodes" dg cp s3://cli/rel/ s3://dst/copy/ --recursive
expect_match "copy lines" "$T/out" '^copy: s3://cli/rel/app/app-2\.zip to s3://dst/copy/app/app-2\.zip \(delta: '
expect_match "text copied as it is" "$T/out" '^copy: s3://cli/rel/README\.txt to s3://dst/copy/README\.txt \(direct: '
raw s3://dst/copy/ >"$T/raw"
expect_match "the destination has its own reference" "$T/raw" '^copy/app/reference\.bin$'
check "copies download identical" dg cp s3://dst/copy/ "$T/down2" --recursive
check "copied tree is identical" diff -r "$T/tree" "$T/down2"
check "cp -r to a file:// store" dg cp s3://cli/rel/ "file://$T/fstore/" --recursive
check "file:// tree downloads" "$DG" cp "file://$T/fstore/" "$T/down3" --recursive
check "s3 -> file:// -> local is identical" diff -r "$T/tree" "$T/down3"

# --- filters and dry runs ----------------------------------------------------------------
check "--exclude" dg cp . s3://cli/f1/ --recursive --exclude '*.tar.gz' --exclude '*.log'
expect "excluded files skipped" "$(grep -c '^upload: ' "$T/out")" 4
check "--include after --exclude wins" dg cp . s3://cli/f2/ --recursive --exclude '*' --include 'app/*.zip'
expect "only the zips" "$(awk '{print $2}' "$T/out" | sort | tr '\n' ' ')" "./app/app-1.zip ./app/app-2.zip ./app/app-3.zip "
check "--exclude after --include wins" dg cp . s3://cli/f3/ --recursive --include '*.zip' --exclude '*'
expect "nothing copied" "$(cat "$T/out")" ""
check "--dryrun" dg cp . s3://cli/dry/ --recursive --dryrun
expect_match "dryrun lines" "$T/out" '^\(dryrun\) upload: \./README\.txt to s3://cli/dry/README\.txt$'
expect "dryrun wrote nothing" "$(raw s3://cli/dry/)" ""

# --- ls ------------------------------------------------------------------------------------
check "ls -r is logical" dg ls s3://cli/rel/ --recursive
expect "ls -r lists the tree" "$(awk '{print $4}' "$T/out" | tr '\n' ' ')" "rel/README.txt rel/app/app-1.zip rel/app/app-2.zip rel/app/app-3.zip rel/app/build.log rel/tools/cli/cli-1.tar.gz rel/tools/cli/cli-2.tar.gz "

# --- sync ------------------------------------------------------------------------------------
check "sync up" dg sync . s3://cli/sync/
expect "first sync copies all" "$(grep -c '^upload: ' "$T/out")" 7
check "sync again" dg sync . s3://cli/sync/
expect "second sync copies nothing" "$(cat "$T/out")" ""
cp "$T/rel/app-4.zip" app/app-3.zip
check "sync after a change" dg sync . s3://cli/sync/
expect "only the changed file" "$(cat "$T/out" | sed 's/ (.*//')" "upload: ./app/app-3.zip to s3://cli/sync/app/app-3.zip"
touch -d '2030-01-01' README.txt
check "a newer file of the same size is copied" dg sync . s3://cli/sync/
expect_match "newer file" "$T/out" '^upload: \./README\.txt '
touch -d '2035-01-01' README.txt
check "--size-only ignores the time" dg sync . s3://cli/sync/ --size-only
expect "--size-only copies nothing" "$(cat "$T/out")" ""
check "sync --dryrun" dg sync "$T/rel" s3://cli/sync/ --dryrun --exclude '*.tar.gz'
expect_match "sync dryrun" "$T/out" '^\(dryrun\) upload: '
rm app/app-1.zip app/app-2.zip
check "sync --delete" dg sync . s3://cli/sync/ --delete
expect_match "sync deletes the extra" "$T/out" '^delete: s3://cli/sync/app/app-1\.zip$'
raw s3://cli/sync/app/ >"$T/raw"
expect_match "the reference stays for the remaining delta" "$T/raw" '^sync/app/reference\.bin$'
check "the remaining delta downloads" dg cp s3://cli/sync/app/app-3.zip "$T/a3.zip"
same "remaining delta intact" "$T/rel/app-4.zip" "$T/a3.zip"
rm -f app/app-3.zip app/build.log
check "sync --delete of the last delta" dg sync . s3://cli/sync/ --delete
expect "the reference went with the last delta" "$(raw s3://cli/sync/app/)" ""
check "sync down" dg sync s3://cli/rel/ "$T/mirror"
check "sync down again" dg sync s3://cli/rel/ "$T/mirror"
expect "second download sync copies nothing" "$(cat "$T/out")" ""
echo extra >"$T/mirror/extra.txt"
check "sync down --delete" dg sync s3://cli/rel/ "$T/mirror" --delete
expect_match "local extra deleted" "$T/out" "^delete: $T/mirror/extra\.txt$"
check "mirror is the tree" diff -r "$T/down" "$T/mirror"
# Between stores: S3 to S3 (another prefix here), and to a file:// store.
check "sync between two prefixes" dg sync s3://cli/rel/ s3://cli/rel2/
expect "copies every file" "$(grep -c '^copy: s3://cli/rel/' "$T/out")" "$(find "$T/mirror" -type f | wc -l)"
expect_match "re-encoding archives into deltas" "$(raw s3://cli/rel2/ >"$T/raw"; echo "$T/raw")" '^rel2/app/app-2\.zip\.delta$'
check "sync between stores again" dg sync s3://cli/rel/ s3://cli/rel2/
expect "copies nothing the second time" "$(cat "$T/out")" ""
check "sync to a file:// store" dg sync s3://cli/rel2/ "file://$T/fstore/"
check "and back down from it" dg sync "file://$T/fstore/" "$T/fmirror"
check "the file:// store holds the tree" diff -r "$T/down" "$T/fmirror"
awsx s3 rm s3://cli/rel2/app/app-2.zip.delta --quiet
check "sync --delete between stores" dg sync "file://$T/fstore/" s3://cli/rel2/ --delete
expect_match "puts back what went missing" "$T/out" '^copy: file://.*/app/app-2\.zip to s3://cli/rel2/app/app-2\.zip'
echo stray | awsx s3 cp - s3://cli/rel2/stray.txt --quiet
check "and deletes the extra" dg sync "file://$T/fstore/" s3://cli/rel2/ --delete
expect "only the extra" "$(cat "$T/out")" "delete: s3://cli/rel2/stray.txt"
awsx s3 rm s3://cli/rel2/ --recursive --quiet

# --exact-timestamps: a same-size local file with another time is fetched again.
touch -d '2030-01-01' "$T/mirror/app/app-2.zip"
check "sync down, a local file newer" dg sync s3://cli/rel/ "$T/mirror"
expect "is left alone by default (as aws)" "$(cat "$T/out")" ""
check "sync down --exact-timestamps" dg sync s3://cli/rel/ "$T/mirror" --exact-timestamps
expect_match "fetches it again" "$T/out" '^download: s3://cli/rel/app/app-2\.zip to '
check "--page-size" dg --debug ls s3://cli/rel/app/ --page-size 2
keys=$(raw s3://cli/rel/app/ | wc -l)
expect "lists in pages of two ($keys keys)" "$(grep -c 'max-keys=2' "$T/err")" "$(( (keys + 1) / 2 ))"
check_fail "--page-size is bounded" 2 "page-size takes 1 to 1000" dg ls s3://cli/ --page-size 0
# Symbolic links: followed (as aws), a loop back up is skipped with a warning;
# --no-follow-symlinks skips links.
mkdir -p "$T/links/sub" && echo x >"$T/links/sub/f.txt" && ln -s .. "$T/links/sub/up" &&
    ln -s "$T/down" "$T/links/other"
dg cp -r "$T/links" s3://cli/links/ --dryrun >"$T/out" 2>"$T/err"
expect "a link loop fails the run" "$?" 1
expect_match "and is named" "$T/err" "^warning: skipping .*/links/sub/up: a symbolic link to a folder above it$"
expect_match "a link elsewhere is followed" "$T/out" 'links/other/'
check "--no-follow-symlinks" dg cp -r "$T/links" s3://cli/links/ --dryrun --no-follow-symlinks
expect "copies only what is no link" "$(grep -c '^(dryrun) upload: ' "$T/out")" 1

# --- rm -r ------------------------------------------------------------------------------------
check "rm -r --dryrun" dg rm s3://cli/rel/ --recursive --dryrun
expect_match "rm dryrun lines" "$T/out" '^\(dryrun\) delete: s3://cli/rel/app/app-2\.zip$'
expect "rm dryrun deletes nothing" "$(raw s3://cli/rel/ | wc -l)" 9
check "rm -r with --exclude" dg rm s3://cli/rel/app/ --recursive --exclude 'app-3.zip'
expect_match "kept file's reference stays" "$(raw s3://cli/rel/app/ >"$T/raw"; echo "$T/raw")" '^rel/app/reference\.bin$'
check "kept delta still downloads" dg cp s3://cli/rel/app/app-3.zip "$T/k3.zip"
check "rm -r of a whole tree" dg rm s3://cli/rel/ --recursive
expect "nothing left behind" "$(raw s3://cli/rel/)" ""

# --- stats -------------------------------------------------------------------------------------
awsx s3 rm s3://cli --recursive --quiet
for v in 1 2 3 4; do dg cp "$T/rel/app-$v.zip" s3://cli/st/ >/dev/null; done
dg cp "$T/tree/README.txt" s3://cli/st/ >/dev/null
check "stats --detailed --json" dg stats cli --detailed --json
orig=$(( $(cat "$T"/rel/app-[1-4].zip | wc -c) + $(wc -c <"$T/tree/README.txt") ))
stored=$(awsx s3 ls s3://cli/st/ --recursive | awk '{s += $3} END {print s}')
expect_match "detailed total_size is the sum of originals" "$T/out" "\"total_size\": $orig,"
expect_match "compressed_size is the sum of stored objects" "$T/out" "\"compressed_size\": $stored,"
expect_match "counts" "$T/out" '"object_count": 5, .*"delta_objects": 4, "direct_objects": 1, "reference_objects": 1'
check "the cache object is in the bucket" awsx s3 cp s3://cli/.deltaglider/stats_detailed.json "$T/cache.json"
expect_match "Python's cache layout" "$T/cache.json" '"version": "1\.0"'
expect_match "cache validation" "$T/cache.json" "\"compressed_size\": $stored"
check "stats again comes from the cache" dg stats s3://cli/ --detailed --json
expect_match "cached" "$T/out" '"cached": true'
check "--refresh recomputes" dg stats cli --detailed --json --refresh
expect_match "refreshed" "$T/out" '"cached": false'
check "stats quick" dg stats cli
expect_match "quick says what it does not know" "$T/out" 'original size of 4 delta'
check "stats sampled" dg stats cli --sampled --json
expect_match "sampled counts the deltas" "$T/out" '"unknown_size_deltas": 0'
dg cp "$T/rel/app-1.tar.gz" s3://cli/st2/ >/dev/null
check "a changed bucket invalidates the cache" dg stats cli --detailed --json
expect_match "recomputed after a change" "$T/out" '"cached": false'
awsx s3 rm s3://cli/.deltaglider/ --recursive --quiet
check "stats --no-cache" dg stats cli --no-cache --json
expect "--no-cache writes no cache" "$(raw s3://cli/.deltaglider/)" ""
check_fail "--sampled and --detailed exclude each other" 2 'exclusive' dg stats cli --sampled --detailed

# --- purge ------------------------------------------------------------------------------------
echo tmp >"$T/tmpobj"
awsx s3api put-object --bucket cli --key .deltaglider/tmp/old --body "$T/tmpobj" --metadata dg-expires-at=2020-01-01T00:00:00Z >/dev/null
awsx s3api put-object --bucket cli --key .deltaglider/tmp/new --body "$T/tmpobj" --metadata dg-expires-at=2099-01-01T00:00:00Z >/dev/null
check "purge --dry-run" dg purge cli --dry-run
expect_match "purge dry run names the expired" "$T/out" '^\(dryrun\) delete: s3://cli/\.deltaglider/tmp/old$'
expect "dry run deletes nothing" "$(raw s3://cli/.deltaglider/tmp/ | wc -l)" 2
check "purge --json" dg purge s3://cli --json
# The Python CLI's field names, so scripts written for it keep working.
expect "purge json, as the Python CLI's" "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["deleted_count"], d["expired_count"], d["error_count"], d["total_size_freed"], d["dry_run"], d["bucket"])' <"$T/out")" "1 1 0 4 False cli"
expect "only the expired object went" "$(raw s3://cli/.deltaglider/tmp/)" ".deltaglider/tmp/new"
check "temporary objects are hidden from ls" dg ls s3://cli
if grep -q deltaglider "$T/out"; then not_ok "ls hides .deltaglider/" "$(cat "$T/out")"; else ok "ls hides .deltaglider/"; fi

# --- migrate ------------------------------------------------------------------------------------
for v in 1 2 3 4; do awsx s3 cp "$T/rel/app-$v.zip" "s3://src/data/builds/app-$v.zip" --quiet; done
awsx s3 cp "$T/tree/README.txt" s3://src/data/README.txt --quiet
check_fail "migrate without a terminal needs --yes" 2 'no terminal to ask on \(pass --yes\)' dg migrate s3://src/data/ s3://dst/ </dev/null
check "migrate --dry-run" dg migrate s3://src/data/ s3://dst/ --dry-run
expect_match "dry-run plan" "$T/out" '^\(dryrun\) copy: s3://src/data/builds/app-2\.zip to s3://dst/data/builds/app-2\.zip$'
expect "dry-run writes nothing" "$(raw s3://dst/data/)" ""
# Interrupted: uploads fail from the third archive on, then the run resumes.
. "$TESTS_DIR/lib/faultproxy.sh"
faultproxy_start "$S3_PORT" >/dev/null
"$DG" --endpoint-url "$FP_ENDPOINT" migrate s3://src/data/ s3://dst/ --yes >"$T/out" 2>"$T/err" &
mpid=$!
# Let two files through, then fail every request.
while [ "$(grep -c '^copy: ' "$T/out" 2>/dev/null)" -lt 2 ] && kill -0 $mpid 2>/dev/null; do sleep 0.05; done
faultproxy_set 403 1000
wait $mpid
rc=$?
faultproxy_stop
[ "$rc" -ne 0 ] && ok "the interrupted migration fails" || not_ok "the interrupted migration fails" "exit $rc"
check "migrate resumes" dg migrate s3://src/data/ s3://dst/ --yes
expect_match "resume skips what is there" "$T/out" '\([1-9] already there\)'
expect_match "final report" "$T/out" '^migrate: done: [0-9]+ file\(s\) copied, .* saved\), [1-9] skipped, 0 failed$'
check "migrated listing" dg ls s3://dst/data/ --recursive
expect "every file exactly once" "$(awk '{print $4}' "$T/out" | tr '\n' ' ')" "data/README.txt data/builds/app-1.zip data/builds/app-2.zip data/builds/app-3.zip data/builds/app-4.zip "
for v in 1 2 3 4; do dg verify "s3://dst/data/builds/app-$v.zip" >/dev/null || not_ok "migrated app-$v verifies" "$(cat "$T/err")"; done
ok "migrated archives verify"
raw s3://dst/data/builds/ >"$T/raw"
expect_match "migrated into deltas" "$T/raw" 'app-4\.zip\.delta$'
check "migrate again copies nothing" dg migrate s3://src/data/ s3://dst/ --yes
expect_match "nothing left to migrate" "$T/out" '^migrate: 0 file\(s\)'
check "migrate --only-show-errors" dg migrate s3://src/data/builds/ s3://dst/quiet/ --yes --only-show-errors
expect "prints neither header nor summary" "$(cat "$T/out")" ""
expect "and it migrated" "$(raw s3://dst/quiet/ | grep -c '\.delta$')" 4
check "a lone --include" dg cp -r "$T/rel" s3://cli/lone/ --include '*-1.zip' --dryrun
expect_match "says it filters nothing, and how to get only these" "$T/err" "^warning: --include alone filters nothing .*--exclude '\*' --include '\*-1\.zip'$"
expect "and filters nothing, as aws" "$(grep -c '^(dryrun) upload: ' "$T/out")" "$(find "$T/rel" -type f | wc -l)"
check "--exclude '*' --include P" dg cp -r "$T/rel" s3://cli/lone/ --exclude '*' --include '*-1.zip' --dryrun
expect "takes only those" "$(grep -c '^(dryrun) upload: ' "$T/out")" "$(find "$T/rel" -type f -name '*-1.zip' | wc -l)"
expect "without the hint" "$(cat "$T/err")" ""
check "--no-preserve-prefix" dg migrate s3://src/data/builds/ s3://dst/flat/ --yes --no-preserve-prefix --exclude '*-[34].zip'
expect "lands in the destination itself" "$(raw s3://dst/flat/ | sort | tr '\n' ' ')" "flat/app-1.zip.delta flat/app-2.zip.delta flat/reference.bin "

# --- analyze --------------------------------------------------------------------------------------
before=$(raw s3://src/ | sort | md5sum)
check "analyze" dg analyze s3://src/data/
expect_match "potential savings" "$T/out" '^Potential savings: [5-9][0-9]\.[0-9]%'
check "analyze --json" dg analyze s3://src --json --samples 3
expect_match "analyze json" "$T/out" '"files": 5, "original_size": [0-9]+, "estimated_size": [0-9]+, "estimated_savings": 0\.[5-9]'
expect_match "per DeltaSpace" "$T/out" '"deltaspace": "data/builds/", "archives": 4'
expect "analyze writes nothing" "$(raw s3://src/ | sort | md5sum)" "$before"

# --- stdin and stdout ---------------------------------------------------------------------
check "upload from stdin" sh -c "'$DG' --endpoint-url '$S3_ENDPOINT' cp - s3://cli/pipe/app-1.zip <'$T/rel/app-1.zip'"
check "a second version from stdin is a delta" sh -c "'$DG' --endpoint-url '$S3_ENDPOINT' cp - s3://cli/pipe/app-2.zip <'$T/rel/app-2.zip'"
expect_match "stdin delta" "$T/out" '^upload: - to s3://cli/pipe/app-2\.zip \(delta: '
check "download to stdout" sh -c "'$DG' --endpoint-url '$S3_ENDPOINT' cp s3://cli/pipe/app-2.zip - >'$T/piped.zip'"
same "stdout is the object" "$T/rel/app-2.zip" "$T/piped.zip"
check_fail "stdin needs a full key" 2 'needs the object.s full key' sh -c "'$DG' --endpoint-url '$S3_ENDPOINT' cp - s3://cli/pipe/ </dev/null"

# --- conventions ------------------------------------------------------------------------------------
check "help cp" "$DG" help cp
expect_match "help has examples" "$T/out" '^Examples:'
check "cp --help" "$DG" cp --help
expect_match "command --help" "$T/out" '^usage: deltaglider cp SOURCE DEST'
bad=
for cmd in ls cp mv sync rm mb rb verify stats purge migrate analyze gc presign put-bucket-acl get-bucket-acl help; do
    "$DG" help "$cmd" >"$T/help" 2>&1 || bad="$bad $cmd:exit"
    grep -q "^usage: deltaglider $cmd" "$T/help" || bad="$bad $cmd:usage"
    [ "$(sed -n '/^Examples:/,/^$/p' "$T/help" | grep -c "^  deltaglider $cmd")" -ge 2 ] || bad="$bad $cmd:examples"
    awk 'length($0) > 80 && !/^usage:/' "$T/help" | grep -q . && bad="$bad $cmd:width"
done
[ -z "$bad" ] && ok "every command's help: usage, two examples or more, 80 columns" || not_ok "help pages" "$bad"
# The top-level page, usage lines and all.
"$DG" help >"$T/help" 2>&1
"$DG" --help >>"$T/help" 2>&1
expect "the top-level help fits 80 columns" "$(awk 'length($0) > 80' "$T/help")" ""
"$DG" help migrate >"$T/help"
for o in --yes --dry-run --no-preserve-prefix --exclude --include --no-delta --max-ratio --quiet; do
    grep -q "^ .*$o" "$T/help" || not_ok "help migrate lists $o" "$(cat "$T/help")"
done
"$DG" help analyze >"$T/help"
for o in --samples --max-ratio --json --compression-level; do
    grep -q "^ .*$o" "$T/help" || not_ok "help analyze lists $o" "$(cat "$T/help")"
done
ok "help pages list their options"
check_fail "unknown flag names it" 2 "unknown option --recursve for cp; see 'deltaglider help cp'" dg cp a s3://cli/ --recursve
check_fail "a flag of another command" 2 'unknown option --delete for cp' dg cp a s3://cli/ --delete
check_fail "missing arguments" 2 '^usage: deltaglider sync' dg sync .
check_fail "a failed file exits 1" 1 '^upload failed: \./nope to s3://cli/nope' dg cp nope s3://cli/
check "--only-show-errors" dg cp README.txt s3://cli/quiet/ --only-show-errors
expect "nothing printed" "$(cat "$T/out")" ""
check "DG_LOG_LEVEL=DEBUG" env DG_LOG_LEVEL=DEBUG "$DG" --endpoint-url "$S3_ENDPOINT" ls s3://cli
expect_match "debug lines on stderr" "$T/err" '^DEBUG: '
# Progress on a terminal (script gives the command one).
if command -v script >/dev/null; then
    script -qec "'$DG' --endpoint-url '$S3_ENDPOINT' cp '$T/rel' s3://cli/tty/ --recursive" /dev/null >"$T/tty" 2>&1
    expect_match "progress on a terminal, as aws draws it" "$T/tty" \
        'Completed [0-9.]+ [KMG]?i?B(ytes)?/[0-9.]+ [KMG]?i?B(ytes)? \([0-9.]+ [KMG]?i?B(ytes)?/s\) with [0-9]+ file\(s\) remaining'
    script -qec "stty cols 40; '$DG' --endpoint-url '$S3_ENDPOINT' cp '$T/rel' s3://cli/tty3/ --recursive" /dev/null >"$T/tty" 2>&1
    widest=$(tr '\r' '\n' <"$T/tty" | grep 'Completed' | sed 's/\x1b\[K//g' | awk '{ if (length > m) m = length } END { print m + 0 }')
    [ "$widest" -gt 0 ] && [ "$widest" -lt 40 ] && ok "the progress line fits a 40-column terminal" ||
        not_ok "the progress line fits a 40-column terminal" "$widest columns"
    script -qec "'$DG' --endpoint-url '$S3_ENDPOINT' cp '$T/rel' s3://cli/tty2/ --recursive --no-progress" /dev/null >"$T/tty" 2>&1
    if grep -q 'Completed' "$T/tty"; then not_ok "--no-progress" "progress shown"; else ok "--no-progress"; fi
    script -qec "'$DG' --endpoint-url '$S3_ENDPOINT' cp '$T/rel/app-1.zip' s3://cli/tty4/" /dev/null >"$T/tty" 2>&1
    [ "$(wc -c <"$T/rel/app-1.zip")" -gt 1048576 ] || not_ok "app-1.zip is over 1 MiB" "the test below reads MiB"
    expect_match "one file: its size as the total" "$T/tty" \
        "Completed [0-9.]+ [KMG]?i?B(ytes)?/$(wc -c <"$T/rel/app-1.zip" | awk '{printf "%.1f MiB", $1 / 1048576}')"
fi
# A multi-second encode watched in a real 80-column terminal (tmux): the
# line moves with the encoder (the reference fetch does not count), never
# wraps, and is gone at the end. Mostly new random data makes LZMA slow.
if command -v tmux >/dev/null; then
    head -c 32M /dev/urandom >"$T/slow1.tar"
    { head -c 8M "$T/slow1.tar"; head -c 24M /dev/urandom; } >"$T/slow2.tar"
    check "slow encode: the reference" dg cp "$T/slow1.tar" s3://cli/slow/
    tm() { tmux -L "dg$$" "$@"; }
    tm new-session -d -x 80 -y 12 "'$DG' --endpoint-url '$S3_ENDPOINT' cp '$T/slow2.tar' s3://cli/slow/ --max-ratio 0.9 --compression-level 9; echo rc=\$? >'$T/tm.rc'; sleep 60"
    : >"$T/tm.seen"
    n=0
    while [ ! -s "$T/tm.rc" ] && [ $n -lt 3000 ]; do   # minutes under qemu
        tm capture-pane -p >>"$T/tm.seen"
        sleep 0.1
        n=$((n + 1))
    done
    tm capture-pane -p >"$T/tm.last"
    tm kill-server
    expect "slow encode: the upload" "$(cat "$T/tm.rc")" "rc=0"
    grep -E 'Completed|remaining|file\(s\)' "$T/tm.seen" | sort -u >"$T/tm.lines"
    moving=$(sed -n 's/^Completed \([0-9.]* [KMG]i\{0,1\}B\(ytes\)\{0,1\}\)\/32\.0 MiB .*/\1/p' "$T/tm.lines" |
        grep -v -e '^0 Bytes$' -e '^32\.0 MiB$' | sort -u | wc -l)
    [ "$moving" -ge 2 ] && ok "the line moves during the encode ($moving values)" ||
        not_ok "the line moves during the encode" "$(cat "$T/tm.lines")"
    bad=$(grep -v -E '^Completed .* with 1 file\(s\) remaining *$' "$T/tm.lines")
    wide=$(awk '{ sub(/ +$/, ""); if (length > 80) print }' "$T/tm.lines")
    [ -z "$bad$wide" ] && [ -s "$T/tm.lines" ] && ok "whole lines, 80 columns at most" ||
        not_ok "whole lines, 80 columns at most" "$bad$wide"
    if grep -q -E 'Completed|remaining' "$T/tm.last"; then not_ok "erased at the end" "$(cat "$T/tm.last")"
    else ok "erased at the end"; fi
else
    not_ok "progress in a terminal" "tmux is not installed (.ci/run installs it)"
fi
