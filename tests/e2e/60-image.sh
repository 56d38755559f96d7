# The FROM scratch image: its root filesystem (make image) holds the binary,
# a CA bundle and an empty /tmp, nothing else; inside it, with no
# environment but keys, deltaglider uploads and downloads over HTTPS.
# Needs DG_IMAGE (the rootfs tarball); make test sets it.
[ -n "${DG_IMAGE:-}" ] || exit 0
. "$TESTS_DIR/lib/harness.sh"
. "$TESTS_DIR/lib/pki.sh"

root=$T/root
mkdir -p "$root"
check "the image unpacks" tar -xf "$DG_IMAGE" -C "$root"
expect "nothing else in the root" "$(cd "$root" && find . | LC_ALL=C sort | tr '\n' ' ')" \
    ". ./deltaglider ./etc ./etc/ssl ./etc/ssl/certs ./etc/ssl/certs/ca-certificates.crt ./tmp "
check "the binary is static" sh -c "file '$root/deltaglider' | grep -q 'statically linked'"
expect "/tmp is sticky and open" "$(stat -c %a "$root/tmp")" 1777

make_pki "$T/pki" && mkcert "$T/pki" srv "IP:127.0.0.1" || { echo "not ok - pki"; exit 1; }
s3rver_start --https "$T/pki/srv.key" "$T/pki/srv.pem" --bucket img || { echo "not ok - s3rver start"; exit 1; }
# The server's CA joins the image's bundle, found at its default path (the
# untouched bundle is kept beside it to show it would be refused).
cp "$root/etc/ssl/certs/ca-certificates.crt" "$root/etc/ssl/certs/system.crt"
cat "$T/pki/ca.pem" >>"$root/etc/ssl/certs/ca-certificates.crt"
# Inside the root, with only the keys: no HOME, no PATH, no TMPDIR.
# Root chroots directly; anyone else through a user namespace.
jail=$(command -v chroot)
[ "$(id -u)" = 0 ] || jail="$(command -v unshare) -r $jail"
run_in() { env -i AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER $jail "$root" \
    /deltaglider --endpoint-url "https://127.0.0.1:$S3_PORT" "$@"; }

gen_file "$T/base" 2000000 image
mkdir "$T/v" && cp "$T/base" "$T/v/payload"
(cd "$T/v" && zip -q "$root/tmp/app-1.zip" payload)
printf 'patched' | dd of="$T/v/payload" bs=1 seek=1000 conv=notrunc 2>/dev/null
(cd "$T/v" && zip -q "$root/tmp/app-2.zip" payload)
check "HTTPS upload from the scratch root" run_in cp /tmp/app-1.zip s3://img/rel/
check "a delta upload from the scratch root" run_in cp /tmp/app-2.zip s3://img/rel/
expect_match "stored as a delta" "$T/out" '\(delta: '
check "HTTPS download into the scratch root" run_in cp s3://img/rel/app-2.zip /tmp/back.zip
same "round trip inside the root" "$root/tmp/app-2.zip" "$root/tmp/back.zip"
check "ls from the scratch root" run_in ls s3://img/rel/
expect "ls inside the root" "$(awk '{print $4}' "$T/out" | tr '\n' ' ')" "app-1.zip app-2.zip "
check_fail "without the CA the server is refused" 1 'certificate is not trusted' \
    run_in --ca-bundle /etc/ssl/certs/system.crt ls s3://img
expect "per-process caches are gone" "$(find "$root/tmp" -name 'proc-*' | wc -l)" 0
