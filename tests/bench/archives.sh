#!/bin/sh
# Archive-aware deltas on real release families, fetched at bench time:
#   typescript 5.4.2 ... 5.5.2 and @swc/core-linux-x64-gnu 1.4.0 ... 1.4.5
#   as npm publishes them (.tgz, made by Node's zlib), re-packed by Info-ZIP
#   (.zip) and by Python's zipfile (.py.zip: how wheels are made), and
#   google-closure-compiler-java's compiler.jar (three releases: a jar made
#   by Java's zlib).
# For each family, uploads every version into a file:// store the Python-
# compatible way (default) and with --archive-deltas, and prints the bytes
# stored, the deflate streams zlib regenerated exactly + those unchanged
# from the reference / all (versions after the first), the median upload
# and download times and the peak RSS.
# Then, on one tree (typescript 5.4.2's package/), the share of streams
# regenerated for each producer: GNU gzip -1..-9, Info-ZIP zip, Python's
# gzip and zipfile, jar, and Node (npm's .tgz).
# Needs: npm, zip, python3, GNU time; jar for the Java rows. Figures only.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
DG=${DG_BIN:-$here/../deltaglider}
. "$here/bench/families.sh"
W=$(mktemp -d "${BENCH_DIR:-/tmp}/dg-archives.XXXXXX")
trap 'rm -rf "$W"' EXIT
export DG_CACHE_DIR="$W/cache"
F=$(families_fetch)

# pyzip SRC.tgz OUT: the package re-packed by Python's zipfile (zlib, level 6).
pyzip() {
    rm -rf "$W/x" && mkdir -p "$W/x" && tar -xzf "$1" -C "$W/x"
    python3 - "$W/x" "$2" <<'EOF'
import os, sys, zipfile
root, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for d, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            p = os.path.join(d, f)
            z.write(p, os.path.relpath(p, root))
EOF
}
for fam in typescript swc; do
    for f in $(families_list "$F" $fam tgz); do
        [ -s "${f%.tgz}.py.zip" ] || pyzip "$f" "${f%.tgz}.py.zip"
    done
done
FAMILY_closure="20261007.0.0 20261011.0.0 20261015.0.0"
for v in $FAMILY_closure; do
    [ -s "$F/closure-$v.jar" ] && continue
    rm -rf "$F/x" && mkdir -p "$F/x"
    (cd "$F/x" && npm pack --silent "google-closure-compiler-java@$v" >/dev/null && tar -xzf ./*.tgz) ||
        { echo "npm pack google-closure-compiler-java@$v failed" >&2; exit 1; }
    mv "$F/x/package/compiler.jar" "$F/closure-$v.jar"
    rm -rf "$F/x"
done

counts='s/.*: \([0-9]*\) of \([0-9]*\) deflate streams regenerated exactly, \([0-9]*\) unchanged.*/\1 \2 \3/p'
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "-" }'; }

# run FAMILY EXT MODE: one family into a fresh store; prints a row.
run() {
    fam=$1 ext=$2 mode=$3 store="$W/store-$1-$2-$3" flag=
    [ "$mode" = archive ] && flag=--archive-deltas
    rm -rf "$store" "$W/up" "$W/down" "$W/log" && mkdir -p "$store" && : >"$W/up" && : >"$W/down" && : >"$W/rss"
    orig=0 n=0
    for f in $(families_list "$F" "$fam" "$ext"); do
        n=$((n + 1)) orig=$((orig + $(wc -c <"$f")))
        /usr/bin/time -f '%e %M' -o "$W/t" "$DG" cp $flag --debug "$f" "file://$store/r/" \
            >/dev/null 2>>"$W/log"
        [ "$n" -gt 1 ] && cut -d' ' -f1 "$W/t" >>"$W/up"
        cut -d' ' -f2 "$W/t" >>"$W/rss"
    done
    for f in $(families_list "$F" "$fam" "$ext"); do
        /usr/bin/time -f '%e %M' -o "$W/t" "$DG" cp "file://$store/r/$(basename "$f")" "$W/got" >/dev/null 2>&1
        cmp -s "$f" "$W/got" || echo "MISMATCH: $f"
        cut -d' ' -f1 "$W/t" >>"$W/down"
        cut -d' ' -f2 "$W/t" >>"$W/rss"
    done
    stored=$(find "$store/r" -type f ! -name '.*' -exec cat {} + | wc -c)
    # "X of Y deflate streams regenerated exactly, Z unchanged": X+Z/Y
    share=$(sed -n "$counts" "$W/log" |
        awk '{ x += $1; y += $2; z += $3 } END { if (y) printf "%d+%d/%d", x, z, y; else printf "-" }')
    printf '%-10s %-6s %-8s %3d %11d %11d %6.1f%% %13s %8s %8s %8s\n' "$fam" "$ext" "$mode" "$n" "$orig" \
        "$stored" "$(echo "$stored $orig" | awk '{ printf "%.1f", 100 * $1 / $2 }')" "$share" \
        "$(median <"$W/up")" "$(median <"$W/down")" "$(sort -n "$W/rss" | tail -1)"
}

echo "families (file:// store; times are medians in s, RSS the peak in KiB)"
printf '%-10s %-6s %-8s %3s %11s %11s %7s %13s %8s %8s %8s\n' family ext mode n original stored share \
    regen+same/all upload download rss
for spec in typescript:tgz typescript:zip typescript:py.zip swc:tgz swc:zip swc:py.zip closure:jar; do
    fam=${spec%%:*} ext=${spec#*:}
    run "$fam" "$ext" default
    run "$fam" "$ext" archive
done

# Streams regenerated per producer, on typescript 5.4.2's tree.
echo
echo "deflate streams zlib regenerates exactly, by producer (typescript 5.4.2's files)"
rm -rf "$W/t1" && mkdir -p "$W/t1" && tar -xzf "$F/typescript-5.4.2.tgz" -C "$W/t1"
(cd "$W/t1" && tar -cf ../t.tar package)
mkdir -p "$W/prod"
for l in 1 2 3 4 5 6 7 8 9; do gzip -"$l"nc "$W/t.tar" >"$W/prod/gnu-gzip-$l.tar.gz"; done
(cd "$W/t1" && zip -qrX ../prod/info-zip.zip package)
python3 -c 'import gzip,sys; open(sys.argv[2],"wb").write(gzip.compress(open(sys.argv[1],"rb").read(), 9, mtime=0))' \
    "$W/t.tar" "$W/prod/python-gzip.tar.gz"
pyzip "$F/typescript-5.4.2.tgz" "$W/prod/python-zipfile.zip"
command -v jar >/dev/null && (cd "$W/t1" && jar --create --file ../prod/jar.jar package)
cp "$F/typescript-5.4.2.tgz" "$W/prod/node-npm.tgz"
for f in "$W"/prod/*; do
    rm -rf "$W/ps" && "$DG" cp "$F/typescript-5.4.3.tgz" "file://$W/ps/p/x.tgz" >/dev/null 2>&1
    "$DG" cp --archive-deltas --debug "$f" "file://$W/ps/p/$(basename "$f")" >/dev/null 2>"$W/log" || true
    sed -n "$counts" "$W/log" |
        awk -v n="$(basename "$f")" '{ printf "%-22s %6d of %6d streams (%.0f%%)\n", n, $1, $2, $2 ? 100 * $1 / $2 : 0 }'
done
