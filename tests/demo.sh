#!/bin/sh
# What deltaglider does, on a local file:// store, no server needed:
# five releases of an archive go in, their stored size is shown, and one
# comes back byte-identical. Run by `make demo`.
set -eu
DG=${DG_BIN:-$(cd "$(dirname "$0")/.." && pwd)/deltaglider}
W=$(mktemp -d "${TMPDIR:-/tmp}/dg-demo.XXXXXX")
trap 'rm -rf "$W"' EXIT
export DG_CACHE_DIR="$W/cache"

mkdir -p "$W/app/lib"
head -c 3000000 /dev/urandom >"$W/app/lib/libapp.so"
head -c 1000000 /dev/urandom >"$W/app/lib/assets.pak"
for v in 1 2 3 4 5; do
    echo "app 1.$v" >"$W/app/VERSION"
    head -c 20000 /dev/urandom >"$W/app/lib/plugin-$v.so"      # each release adds a plugin
    printf 'fix %s' "$v" | dd of="$W/app/lib/libapp.so" bs=1 seek=$((v * 400000)) conv=notrunc 2>/dev/null
    tar -cf "$W/app-1.$v.tar" -C "$W" app
    "$DG" cp "$W/app-1.$v.tar" "file://$W/store/releases/"
done
echo
"$DG" ls "file://$W/store/releases/" --human-readable --summarize
orig=$(cat "$W"/app-1.*.tar | wc -c)
stored=$(find "$W/store" -type f ! -name '.*' -exec cat {} + | wc -c)
echo
echo "5 releases, $orig bytes; the store holds $stored bytes ($((100 - 100 * stored / orig))% saved)"
"$DG" cp "file://$W/store/releases/app-1.3.tar" "$W/back.tar"
cmp "$W/back.tar" "$W/app-1.3.tar" && echo "app-1.3.tar came back byte-identical"
