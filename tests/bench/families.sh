# Real release families for the benchmarks, sourced by them.
#   families_fetch       prints a directory holding, for typescript 5.4.2 5.4.3
#                        5.4.4 5.4.5 5.5.2 and @swc/core-linux-x64-gnu 1.4.0 1.4.1
#                        1.4.2 1.4.4 1.4.5, NAME-VERSION.{tgz,tar,zip} as npm
#                        publishes them (.tgz) and re-packed (.tar, .zip);
#                        BENCH_FAMILIES=DIR keeps them between runs
#   families_list DIR NAME EXT   the files of one family, oldest first
FAMILY_typescript="5.4.2 5.4.3 5.4.4 5.4.5 5.5.2"
FAMILY_swc="1.4.0 1.4.1 1.4.2 1.4.4 1.4.5"

families_fetch() {
    d=${BENCH_FAMILIES:-${BENCH_DIR:-/tmp}/dg-families}
    mkdir -p "$d"
    for v in $FAMILY_typescript; do families_one "$d" typescript "typescript@$v" "$v"; done
    for v in $FAMILY_swc; do families_one "$d" swc "@swc/core-linux-x64-gnu@$v" "$v"; done
    echo "$d"
}

# families_one DIR NAME SPEC VERSION: NAME-VERSION.{tgz,tar,zip} in DIR.
families_one() {
    [ -s "$1/$2-$4.zip" ] && return 0
    rm -rf "$1/x" && mkdir -p "$1/x"
    (cd "$1/x" && npm pack --silent "$3" >/dev/null) || { echo "npm pack $3 failed" >&2; exit 1; }
    mv "$1"/x/*.tgz "$1/$2-$4.tgz"
    tar -xzf "$1/$2-$4.tgz" -C "$1/x"
    (cd "$1/x" && tar -cf "../$2-$4.tar" package && zip -qrX "../$2-$4.zip.part" package)
    mv "$1/$2-$4.zip.part" "$1/$2-$4.zip"
    rm -rf "$1/x"
}

families_list() {
    eval "vs=\$FAMILY_$2"
    for v in $vs; do printf '%s\n' "$1/$2-$v.$3"; done
}
