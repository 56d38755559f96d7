# Writers, deleters and kills racing on one DeltaSpace (issue 8): every
# upload that exits 0 downloads byte-identical, whatever the interleaving.
# Run on the suite's server (s3rver, which the harness makes honour
# conditional writes, or Ceph RGW with DG_SERVER=rgw), on s3mini honouring
# conditional writes as AWS documents them and then ignoring them (the
# lock-object fallback), and on a file:// store. DG_RACE_TRIALS sets the
# trials per case (default 20).
. "$TESTS_DIR/lib/harness.sh"
. "$TESTS_DIR/lib/s3mini.sh"

TRIALS=${DG_RACE_TRIALS:-20}
[ -z "${DG_EMULATED:-}" ] || TRIALS=${DG_RACE_TRIALS:-3}
server_start --bucket race || { echo "not ok - server start"; exit 1; }
trap 's3mini_stop; h_cleanup' EXIT
export DG_CACHE_DIR="$T/cache"

# Eight versions of a small archive, each different from the others.
mkdir -p "$T/v/tree"
gen_file "$T/v/tree/lib.so" 300000 base
for i in 1 2 3 4 5 6 7 8; do
    printf 'version %s' "$i" | dd of="$T/v/tree/lib.so" bs=1 seek=$((i * 30000)) conv=notrunc 2>/dev/null
    echo "$i" >"$T/v/tree/VERSION"
    (cd "$T/v/tree" && zip -q -X -r "../v$i.zip" .)
done

# rnd_sleep MAX_MS: a random pause below MAX_MS milliseconds.
rnd_sleep() { sleep "$(od -An -N2 -tu2 /dev/urandom | awk -v m="$1" '{printf "%.3f", ($1 % m) / 1000}')"; }

# dgx ARGS: deltaglider against the store under test (EP empty: file://).
dgx() { if [ -n "$EP" ]; then "$DG" --endpoint-url "$EP" "$@"; else "$DG" "$@"; fi; }

# check_readable NAME URL FILE: URL downloads as FILE's bytes; counts failures.
bad=0
check_readable() {
    if ! dgx cp "$2" "$T/got" >/dev/null 2>"$T/dl.err" || ! cmp -s "$3" "$T/got"; then
        bad=$((bad + 1))
        echo "# $1: $2 unreadable: $(head -c 200 "$T/dl.err")"
    fi
    rm -f "$T/got"
}

# N uploads of different versions into one empty DeltaSpace at once.
race_writers() {
    base=$1 n=$2 t=1 exits=0 bad=0
    while [ $t -le "$TRIALS" ]; do
        i=1 pids=
        while [ $i -le "$n" ]; do
            (dgx cp "$T/v/v$i.zip" "$base/w$n-$t/" >/dev/null 2>"$T/up.$i.err"; echo $? >"$T/up.$i.rc") &
            pids="$pids $!"
            i=$((i + 1))
        done
        # shellcheck disable=SC2086
        wait $pids   # not a bare wait: the servers are our children too
        i=1
        while [ $i -le "$n" ]; do
            if [ "$(cat "$T/up.$i.rc")" = 0 ]; then
                check_readable "writers" "$base/w$n-$t/v$i.zip" "$T/v/v$i.zip"
            else
                exits=$((exits + 1))
                echo "# upload $i of trial $t failed: $(head -c 300 "$T/up.$i.err")"
            fi
            i=$((i + 1))
        done
        dgx verify "$base/w$n-$t/v1.zip" >/dev/null 2>&1 || [ "$(cat "$T/up.1.rc")" != 0 ] || bad=$((bad + 1))
        t=$((t + 1))
    done
    expect "$3: $n writers x $TRIALS: every upload that exited 0 reads back" "$bad" 0
    expect "$3: $n writers x $TRIALS: every upload exited 0" "$exits" 0
}

# An upload racing the delete of the last delta (which removes reference.bin).
race_rm() {
    base=$1 t=1 exits=0 bad=0
    while [ $t -le "$TRIALS" ]; do
        dgx cp "$T/v/v1.zip" "$base/rm-$t/" >/dev/null 2>&1 || exits=$((exits + 1))
        (rnd_sleep 120; dgx rm "$base/rm-$t/v1.zip" >/dev/null 2>"$T/rm.err"; echo $? >"$T/rm.rc") &
        a=$!
        (rnd_sleep 120; dgx cp "$T/v/v2.zip" "$base/rm-$t/" >/dev/null 2>"$T/up.err"; echo $? >"$T/up.rc") &
        wait $a $!
        if [ "$(cat "$T/up.rc")" = 0 ]; then
            check_readable "rm race" "$base/rm-$t/v2.zip" "$T/v/v2.zip"
        else
            exits=$((exits + 1))
            echo "# upload of trial $t failed: $(head -c 300 "$T/up.err")"
        fi
        [ "$(cat "$T/rm.rc")" = 0 ] || { exits=$((exits + 1)); echo "# rm of trial $t failed: $(head -c 300 "$T/rm.err")"; }
        t=$((t + 1))
    done
    expect "$2: upload vs rm of the last delta x $TRIALS: the upload reads back" "$bad" 0
    expect "$2: upload vs rm of the last delta x $TRIALS: both exited 0" "$exits" 0
}

# A first upload killed at a random moment while a second goes on: the
# second reads back, and whatever the first left is either readable or
# invisible; gc then leaves no orphan.
race_kill() {
    base=$1 t=1 bad=0
    while [ $t -le "$TRIALS" ]; do
        # The process itself, not a subshell around it: killing a subshell
        # would leave the upload running into the steps below.
        if [ -n "$EP" ]; then "$DG" --endpoint-url "$EP" cp "$T/v/v3.zip" "$base/k-$t/" >/dev/null 2>&1 &
        else "$DG" cp "$T/v/v3.zip" "$base/k-$t/" >/dev/null 2>&1 & fi
        victim=$!
        (dgx cp "$T/v/v4.zip" "$base/k-$t/" >/dev/null 2>"$T/up.err"; echo $? >"$T/up.rc") &
        other=$!
        rnd_sleep 150
        kill -9 "$victim" 2>/dev/null
        wait "$victim" "$other"
        [ "$(cat "$T/up.rc")" = 0 ] && check_readable "kill race" "$base/k-$t/v4.zip" "$T/v/v4.zip"
        for name in $(dgx ls "$base/k-$t/" 2>/dev/null | awk '{print $4}'); do
            check_readable "after a kill" "$base/k-$t/$name" "$T/v/${name}"
        done
        t=$((t + 1))
    done
    expect "$2: uploads racing a killed one x $TRIALS: all that is listed reads back" "$bad" 0
    check "$2: gc after the races finds no delta without its reference" dgx gc "$base/"
    check "$2: rm -r after the races" dgx rm -r "$base/"
    left=$(raw_count "$base")
    [ "$left" = 0 ] && ok "$2: nothing left, references included" ||
        not_ok "$2: nothing left, references included" "$left left: $(raw_list "$base" | head -5 | tr '\n' ' ')"
    case $base in file://*)
        # A killed writer's temp file, or the metadata it wrote before its
        # object, is a write in progress, as an S3 multipart upload would
        # be: rm -r leaves it, gc removes it.
        check "$2: gc of unfinished writes" dgx gc "$base/" --older-than 0s
        expect "$2: no temp file or metadata left" \
            "$(find "${base#file://}" -type f \( -name '.*.dg-??????' -o -name '.*.dgmeta' \) | wc -l)" 0 ;;
    esac
}

# The objects the store holds under a prefix, references included, with
# their times, and (file://) the lock files beside them.
raw_list() {
    case $1 in
    file://*) find "${1#file://}" -type f ! -path '*/.dglocks/*' -exec ls -l --time-style=+%T {} + ;
        find "${1#file://}" -path '*/.dglocks/*' -type f ;;
    *) b=${1#s3://}
       "$AWS" --endpoint-url "$EP" s3api list-objects-v2 --bucket "${b%%/*}" --prefix "${b#*/}/" \
           --query 'Contents[].[Key, LastModified]' --output text ;;
    esac
}

# How many objects the store holds under a prefix, references included.
raw_count() {
    case $1 in
    file://*) find "${1#file://}" -type f ! -path '*/.dglocks/*' ! -name '.*.dg-??????' \
        ! -name '.*.dgmeta' | wc -l ;;
    *) b=${1#s3://}
       "$AWS" --endpoint-url "$EP" s3api list-objects-v2 --bucket "${b%%/*}" --prefix "${b#*/}/" \
           --query 'length(Contents || `[]`)' ;;
    esac
}

# Four folders, each a first upload, for cp -r on parallel workers.
for d in a b c d; do mkdir -p "$T/dirs/$d" && cp "$T/v/v1.zip" "$T/dirs/$d/"; done

# probe_once URL NAME WARNINGS: cp -r of the four folders asks the server
# about conditional writes once (the workers share the answer) and warns
# WARNINGS times (0 or 1); on s3mini its log shows one probe: two creates
# of one key (200 then 412, or 200 twice when ignored) and the delete.
probe_once() {
    [ -z "${S3MINI_ENDPOINT:-}" ] || s3mini_clear_log
    dgx cp -r "$T/dirs/" "$1/" >/dev/null 2>"$T/cpr.err"
    expect "$2: cp -r of four new folders: conditional writes warned about $3 time(s)" \
        "$(grep -c 'conditional writes' "$T/cpr.err")" "$3"
    if [ -n "${S3MINI_ENDPOINT:-}" ]; then
        b=${1#s3://}
        expect "$2: one probe for the four folders' workers" \
            "$(s3mini_log | grep -Ec "^[0-9]+ (PUT|DELETE) /${b%%/*}/\.deltaglider/probe-")" 3
    fi
}

all_races() {
    for n in 2 5 8; do race_writers "$1" "$n" "$2"; done
    race_rm "$1" "$2"
    race_kill "$1" "$2"
}

EP=$S3_ENDPOINT
# Both servers honour If-None-Match: * on PUT: a silent fallback would fail here.
probe_once s3://race/srv-probe "$SERVER" 0
all_races s3://race/srv "$SERVER"

s3mini_start --bucket race || { echo "not ok - s3mini start"; exit 1; }
EP=$S3MINI_ENDPOINT
probe_once s3://race/mini-probe "s3mini" 0
all_races s3://race/mini "s3mini"
s3mini_stop

# A server that ignores conditional writes: the lock objects settle who
# creates the reference, and the others store their file as it is.
s3mini_start --bucket race --no-conditional || { echo "not ok - s3mini start"; exit 1; }
EP=$S3MINI_ENDPOINT
dgx cp "$T/v/v1.zip" s3://race/probe/ >/dev/null 2>"$T/err"
expect_match "the fallback is announced" "$T/err" '^WARNING: s3://race does not honour conditional writes'
probe_once s3://race/nocond-probe "s3mini without conditional writes" 1
all_races s3://race/nocond "s3mini without conditional writes"
s3mini_stop

EP=
mkdir -p "$T/fs"
all_races "file://$T/fs" "file://"
