#!/bin/sh
# Encoder settings on real release families: for each xdelta3 level 1-9
# (run as 1, 2, 3, 6 and 9: xdelta3 gives levels 3-5 one matcher and 7-9
# another, and never varies the secondary compressor's preset with the
# level, so 4, 5, 7 and 8 make the bytes of 3 and 9)
# and secondary compressor (none, djw, lzma), the CPU time and the bytes of
# the deltas between consecutive versions, as Debian's xdelta3 CLI makes
# them (the library deltaglider compiles in, with the same matcher per
# level and the same 64 MiB source window). The families are fetched at
# bench time with npm pack (typescript 5.4.2-5.5.2, @swc/core-linux-x64-gnu
# 1.4.0-1.4.5) and re-packed as .tar and .zip; BENCH_FAMILIES=DIR reuses a
# directory this script filled before. Needs: npm, xdelta3, zip, GNU time.
# Figures only: nothing here passes or fails.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/families.sh"
W=$(mktemp -d "${BENCH_DIR:-/tmp}/dg-levels.XXXXXX")
trap 'rm -rf "$W"' EXIT
F=$(families_fetch)

# encode LEVEL SEC FAMILY EXT: "cpu-seconds bytes" summed over the pairs.
encode() {
    set -- "$1" "$2" $(families_list "$F" "$3" "$4")
    lvl=$1 sec=$2
    shift 2
    cpu=0 bytes=0 prev=
    for f in "$@"; do
        if [ -n "$prev" ]; then
            /usr/bin/time -f '%U %S' -o "$W/t" xdelta3 -e -f -"$lvl" -S "$sec" -B 67108864 \
                -s "$prev" "$f" "$W/d"
            cpu=$(awk -v c="$cpu" '{ printf "%.2f", c + $1 + $2 }' "$W/t")
            bytes=$((bytes + $(wc -c <"$W/d")))
        fi
        prev=$f
    done
    echo "$cpu $bytes"
}

for fam in typescript.tar typescript.zip swc.tar swc.zip; do
    name=${fam%.*} ext=${fam##*.}
    echo "== $fam: consecutive pairs, CPU seconds and delta bytes (sum), vs -9 lzma"
    set -- $(encode 9 lzma "$name" "$ext")
    base_cpu=$1 base_bytes=$2
    printf '%-6s %-5s %8s %12s %8s %8s\n' level sec cpu bytes 'cpu/-9' 'bytes/-9'
    for lvl in 1 2 3 6 9; do
        for sec in none djw lzma; do
            set -- $(encode "$lvl" "$sec" "$name" "$ext")
            printf '%-6s %-5s %8.2f %12d %8.2f %8.3f\n' "-$lvl" "$sec" "$1" "$2" \
                "$(echo "$1 $base_cpu" | awk '{ print ($2 > 0 ? $1 / $2 : 0) }')" \
                "$(echo "$2 $base_bytes" | awk '{ print $1 / $2 }')"
        done
    done
done
