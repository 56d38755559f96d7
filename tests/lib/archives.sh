# Generate a family of release archives of an evolving tree: what a CI
# publishes release after release. make_family DIR N writes
# DIR/app-1.zip .. app-N.zip and DIR/app-1.tar.gz .. app-N.tar.gz.
make_family() {
    _dir=$1 _n=$2
    mkdir -p "$_dir/tree/lib" "$_dir/tree/doc"
    gen_file "$_dir/tree/lib/core.so" 2500000 core
    gen_file "$_dir/tree/lib/assets.pak" 1500000 assets
    i=0
    while [ $i -lt 400 ]; do echo "line $i of the manual" ; i=$((i + 1)); done >"$_dir/tree/doc/manual.txt"
    v=1
    while [ "$v" -le "$_n" ]; do
        # Each release: a new version file, a patched library, a new doc page.
        echo "version 1.$v" >"$_dir/tree/VERSION"
        printf 'patch %s' "$v" | dd of="$_dir/tree/lib/core.so" bs=1 seek=$((v * 100000)) conv=notrunc 2>/dev/null
        echo "release notes $v" >"$_dir/tree/doc/notes-$v.txt"
        (cd "$_dir/tree" && TZ=UTC touch -t 202501010000 . lib doc ./* lib/* doc/* &&
            zip -q -X -r "../app-$v.zip" . && tar czf "../app-$v.tar.gz" --sort=name --mtime=2025-01-01 .)
        v=$((v + 1))
    done
}
