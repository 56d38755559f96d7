# Archive-aware deltas (--archive-deltas): release families made by zlib
# (Python's tarfile/gzip and zipfile, a wheel, Java's jar) stored as deltas
# of their contents and rebuilt byte for byte; families zlib does not make
# (GNU gzip, Info-ZIP) fall back to byte deltas; corrupt and unknown
# formats refused; what the Python tool's decoder makes of them; the
# Python-compatible default untouched; the max-ratio note on uploads.
. "$TESTS_DIR/lib/harness.sh"

server_start --bucket dga || { echo "not ok - server start"; exit 1; }
export DG_CACHE_DIR="$T/cache"
mkdir -p "$T/rel" && cd "$T/rel" || exit 1

# make_releases N: N releases of an evolving tree, packed the ways real
# projects pack them: rel-V.tar.gz (Python tarfile, zlib level 9),
# rel-V.zip (Python zipfile, zlib level 6), rel-V.whl (a wheel: zipfile),
# rel-V.jar (jar, when a JDK is installed), gnu-V.tar.gz (GNU gzip),
# info-V.zip (Info-ZIP).
make_releases() {
    python3 - "$1" <<'EOF'
import io, os, random, sys, tarfile, zipfile
random.seed(12)
words = [b"archive", b"delta", b"release", b"version", b"module", b"return", b"value", b"index"]
def text(n):
    return b" ".join(random.choice(words) for _ in range(n))
tree = {"src/core.py": text(60000), "src/util.py": text(30000), "doc/README": text(8000),
        "data/table.bin": bytes(random.getrandbits(8) for _ in range(40000))}
for v in range(1, int(sys.argv[1]) + 1):
    tree["VERSION"] = b"1.%d\n" % v
    tree["src/core.py"] = tree["src/core.py"].replace(b"value", b"value%d" % v, 40)
    tree["doc/notes-%d.txt" % v] = text(500)
    os.makedirs("tree-%d" % v, exist_ok=True)
    for name, data in tree.items():
        path = os.path.join("tree-%d" % v, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (1700000000, 1700000000))
    with tarfile.open("rel-%d.tar.gz" % v, "w:gz") as t:
        for name in sorted(tree):
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(tree[name]), 1700000000
            t.addfile(info, io.BytesIO(tree[name]))
    for out in ("rel-%d.zip" % v, "rel-%d.whl" % v):
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for name in sorted(tree):
                z.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), tree[name],
                           zipfile.ZIP_DEFLATED)
EOF
    v=1
    while [ "$v" -le "$1" ]; do
        (cd "tree-$v" && TZ=UTC tar -cf - --sort=name --mtime=2024-01-01 . | gzip -9n >"../gnu-$v.tar.gz" &&
            zip -qrX "../info-$v.zip" . &&
            { ! command -v jar >/dev/null || jar --create --file "../rel-$v.jar" --date=2024-01-01T00:00:00Z . ; })
        v=$((v + 1))
    done
}
make_releases 4

# --- zlib-made families: archive-aware deltas, byte-identical ----------------------------
exts="tar.gz zip whl"
command -v jar >/dev/null && exts="$exts jar"
for x in $exts; do
    check "$x 1 becomes the reference" dg cp "rel-1.$x" "s3://dga/$x/" --archive-deltas
    for v in 2 3 4; do
        check "$x $v goes up" dg cp "rel-$v.$x" "s3://dga/$x/" --archive-deltas
        expect_match "$x $v is an archive delta" "$T/out" "^upload: \./rel-$v\.$x to s3://dga/$x/rel-$v\.$x \(archive delta: .* saved 9[0-9]\.[0-9]%\)$"
    done
    for v in 1 2 3 4; do
        check "$x $v comes back" dg cp "s3://dga/$x/rel-$v.$x" "$T/got"
        same "$x $v byte-identical" "rel-$v.$x" "$T/got"
    done
    check "$x: stored objects" awsx s3api head-object --bucket dga --key "$x/rel-3.$x.delta"
    expect_match "$x: the delta says its format" "$T/out" '"dg-delta-format": "archive-v1"'
    expect_match "$x: and keeps the Python fields" "$T/out" '"dg-ref-key": "'"$x"'/reference.bin"'
done
check "ls shows the logical objects" dg ls s3://dga/zip/
expect "ls: four zips" "$(grep -c ' rel-[1-4]\.zip$' "$T/out")" 4
expect_match "ls: at their original size" "$T/out" " $(wc -c <rel-3.zip) rel-3\.zip$"
check "verify an archive delta" dg verify s3://dga/tar.gz/rel-4.tar.gz
expect_match "verify: valid" "$T/out" '^valid: s3://dga/tar\.gz/rel-4\.tar\.gz'
check "stats" dg stats dga --detailed --json
saved=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(int(100 * d["space_saved"] / d["total_size"]))' <"$T/out")
[ "$saved" -ge 60 ] && ok "stats: $saved% saved over the bucket" || not_ok "stats savings" "$saved%"
check "cat to stdout" sh -c "\"$DG\" --endpoint-url \"$S3_ENDPOINT\" cp s3://dga/whl/rel-2.whl - >\"$T/got\""
same "stdout byte-identical" rel-2.whl "$T/got"

# --- the Python tool's decoder: xdelta3 -d against reference.bin -----------------------
# Python DeltaGlider decodes with `xdelta3 -d -s reference.bin NAME.delta`
# and then checks dg-file-sha256. Either step refuses an archive-aware delta.
awsx s3 cp s3://dga/zip/reference.bin "$T/ref.bin" --quiet
awsx s3 cp s3://dga/zip/rel-3.zip.delta "$T/d.delta" --quiet
if xdelta3 -d -f -s "$T/ref.bin" "$T/d.delta" "$T/py.out" 2>"$T/err" &&
    [ "$(sha256sum <"$T/py.out" | cut -c1-64)" = "$(sha256sum <rel-3.zip | cut -c1-64)" ]; then
    not_ok "the Python decoder cannot read an archive delta" "xdelta3 -d gave the file"
else
    ok "the Python decoder refuses an archive delta (xdelta3 fails or the SHA-256 check does)"
fi

# --- not made by zlib: byte deltas, still exact ----------------------------------------
for v in 1 2 3; do
    check "GNU gzip $v up" dg cp "gnu-$v.tar.gz" s3://dga/gnu/ --archive-deltas --debug
done
expect_match "GNU gzip: not an archive delta" "$T/out" '\((delta|direct): '
expect_match "GNU gzip: the probe said so, before expanding anything" "$T/err" \
    'gnu-3\.tar\.gz: 0 of 1 deflate streams regenerated exactly, 0 unchanged: its first large stream is not one zlib makes'
check "GNU gzip 3 back" dg cp s3://dga/gnu/gnu-3.tar.gz "$T/got"
same "GNU gzip 3 byte-identical" gnu-3.tar.gz "$T/got"
for v in 1 2 3; do
    check "Info-ZIP $v up" dg cp "info-$v.zip" s3://dga/info/ --archive-deltas --debug
done
check "Info-ZIP 3 back" dg cp s3://dga/info/info-3.zip "$T/got"
same "Info-ZIP 3 byte-identical" info-3.zip "$T/got"

# --- the default stays Python-compatible; env and profile opt in -------------------------
check "without the flag" dg cp rel-1.zip s3://dga/plain/ 
check "without the flag, 2" dg cp rel-2.zip s3://dga/plain/
if grep -q 'archive delta' "$T/out"; then not_ok "default is a byte delta" "$(cat "$T/out")"; else ok "default is a byte delta"; fi
check "no delta-format on it" awsx s3api head-object --bucket dga --key plain/rel-2.zip.delta
if grep -q 'delta-format' "$T/out"; then not_ok "plain delta has no format field" "$(cat "$T/out")"; else ok "plain delta has no format field"; fi
check "DG_ARCHIVE_DELTAS=1" env DG_ARCHIVE_DELTAS=1 "$DG" --endpoint-url "$S3_ENDPOINT" cp rel-3.zip s3://dga/plain/
expect_match "env opts in" "$T/out" '\(archive delta: '
mkdir -p "$HOME/.aws" && printf '[default]\ndeltaglider_archive_deltas = true\n' >"$HOME/.aws/config"
check "profile deltaglider_archive_deltas" dg cp rel-4.zip s3://dga/plain/
expect_match "profile opts in" "$T/out" '\(archive delta: '
rm -f "$HOME/.aws/config"

# --- sync, rm, migrate ------------------------------------------------------------------------
mkdir -p "$T/up" && cp rel-1.tar.gz rel-2.tar.gz rel-3.tar.gz "$T/up/"
check "sync --archive-deltas" dg sync "$T/up" s3://dga/synced/ --archive-deltas
expect "sync: two archive deltas" "$(grep -c '(archive delta: ' "$T/out")" 2
check "sync down" dg sync s3://dga/synced/ "$T/down"
same "sync down byte-identical" rel-3.tar.gz "$T/down/rel-3.tar.gz"
check "rm one archive delta" dg rm s3://dga/synced/rel-2.tar.gz
check "the others still come back" dg cp s3://dga/synced/rel-3.tar.gz "$T/got"
same "after rm, byte-identical" rel-3.tar.gz "$T/got"
check "migrate into archive deltas" dg migrate s3://dga/plain/ s3://dga/migrated/ --archive-deltas --yes
check "migrated list" awsx s3api head-object --bucket dga --key migrated/plain/rel-2.zip.delta
expect_match "migrate converted a byte delta" "$T/out" '"dg-delta-format": "archive-v1"'
check "migrated back" dg cp s3://dga/migrated/plain/rel-2.zip "$T/got"
same "migrated byte-identical" rel-2.zip "$T/got"
check "rm -r" dg rm -r s3://dga/synced/
expect "rm -r left nothing" "$(awsx s3 ls s3://dga/synced/ --recursive | wc -l)" 0

# --- corrupt and unknown deltas are refused, nothing written ------------------------------
fs="file://$T/fs"
for v in 1 2 3; do check "file:// $v" "$DG" cp "rel-$v.tar.gz" "$fs/p/" --archive-deltas; done
python3 - "$T/fs/p/rel-3.tar.gz.delta" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
for i in range(len(b) // 2, len(b) // 2 + 32):
    b[i] ^= 0x5a
open(p, "wb").write(bytes(b))
EOF
rm -f "$T/bad"
check_fail "a corrupt archive delta is refused" 1 'rel-3\.tar\.gz' "$DG" cp "$fs/p/rel-3.tar.gz" "$T/bad"
[ -e "$T/bad" ] && not_ok "nothing written" "$T/bad exists" || ok "nothing written"
awsx s3 cp s3://dga/zip/rel-2.zip.delta "$T/d2" --quiet
awsx s3api head-object --bucket dga --key zip/rel-2.zip.delta >"$T/h.json"
meta=$(python3 -c 'import json,sys; m=json.load(sys.stdin)["Metadata"]; m["dg-delta-format"]="archive-v9"; print(",".join(k+"="+v for k,v in m.items()))' <"$T/h.json")
awsx s3api put-object --bucket dga --key zip/rel-9.zip.delta --body "$T/d2" --metadata "$meta" >/dev/null
check_fail "an unknown delta format is refused" 1 'format archive-v9, which this deltaglider cannot read' \
    dg cp s3://dga/zip/rel-9.zip "$T/bad"

# --- a deflate bomb is not expanded past its cap (32 x the file + 64 MiB) ------------------
python3 -c 'import gzip,sys; sys.stdout.buffer.write(gzip.compress(bytes(100 << 20), 9, mtime=0))' >"$T/bomb-1.gz"
python3 -c 'import gzip,sys; sys.stdout.buffer.write(gzip.compress(bytes(100 << 20) + b"x", 9, mtime=0))' >"$T/bomb-2.gz"
check "a bomb as the reference" dg cp "$T/bomb-1.gz" s3://dga/bomb/ --archive-deltas
check "a bomb as the next release" dg cp "$T/bomb-2.gz" s3://dga/bomb/ --archive-deltas --debug
expect_match "its stream stays compressed" "$T/err" ': 0 of 0 deflate streams regenerated exactly'
check "the bomb comes back" dg cp s3://dga/bomb/bomb-2.gz "$T/got"
same "the bomb byte-identical" "$T/bomb-2.gz" "$T/got"

# --- the max-ratio note: what --max-ratio 0.9 would save ----------------------------------
gen_file "$T/r1.zip" 2000000 ratio-a
{ head -c 700000 "$T/r1.zip"; gen_file "$T/tail" 1300000 ratio-b; cat "$T/tail"; } >"$T/r2.zip"
check "a reference of random bytes" dg cp "$T/r1.zip" s3://dga/ratio/
check "a file whose delta passes 0.5" dg cp "$T/r2.zip" s3://dga/ratio/
expect_match "the upload line says why and what 0.9 would save" "$T/out" \
    '\(direct: 1\.9 MiB; a delta, about 1\.[0-9] MiB, passes the max ratio: --max-ratio 0\.9 would save about [0-9.]+ KiB\)$'
check "with --max-ratio 0.9" dg cp "$T/r2.zip" s3://dga/ratio/r3.zip --max-ratio 0.9
expect_match "it goes as a delta" "$T/out" '\(delta: '
