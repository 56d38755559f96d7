# Objects over 4 GiB: 64-bit sizes and offsets everywhere (it matters on
# armv7). The source is a sparse file and checks read ranges or hash on
# the fly, so 4.5 GiB is stored once, by the server. Runs with DG_LARGE=1
# (make cross-test does, for armv7).
[ "${DG_LARGE:-}" = 1 ] || exit 0
. "$TESTS_DIR/lib/harness.sh"

s3rver_start --bucket l || { echo "not ok - s3rver start"; exit 1; }
size=$((4608 * 1024 * 1024))
truncate -s "$size" "$T/big.bin"
printf 'HEAD-MARKER' | dd of="$T/big.bin" bs=1 conv=notrunc 2>/dev/null
printf 'TAIL-MARKER' | dd of="$T/big.bin" bs=1 seek=$((size - 100)) conv=notrunc 2>/dev/null
printf 'PAST-4GIB' | dd of="$T/big.bin" bs=1 seek=$((4294967296 + 12345)) conv=notrunc 2>/dev/null
[ "$(du -k "$T/big.bin" | cut -f1)" -lt 1024 ] && ok "the source is sparse" || not_ok "the source is sparse" "$(du -k "$T/big.bin")"

check "upload of 4.5 GiB" dg cp "$T/big.bin" s3://l/big.bin --no-delta
expect_match "its size is right in the summary" "$T/out" '\(direct: 4\.5 GiB\)'
check "aws sees the size" awsx s3api head-object --bucket l --key big.bin
expect_match "ContentLength over 4 GiB" "$T/out" "\"ContentLength\": $size"
expect_match "metadata size over 4 GiB" "$T/out" "\"dg-file-size\": \"$size\""
check "ls shows the size" dg ls s3://l/
expect_match "ls size" "$T/out" " $size big\.bin$"
check "the byte past 4 GiB arrived" awsx s3api get-object --bucket l --key big.bin --range "bytes=$((4294967296 + 12345))-$((4294967296 + 12353))" "$T/past"
expect "content past 4 GiB" "$(cat "$T/past")" "PAST-4GIB"
check "the tail arrived" awsx s3api get-object --bucket l --key big.bin --range "bytes=$((size - 100))-$((size - 90))" "$T/tail"
expect "content at the end" "$(cat "$T/tail")" "TAIL-MARKER"
check "download and hash all 4.5 GiB (verify)" dg verify s3://l/big.bin
expect_match "valid" "$T/out" "^valid: s3://l/big\.bin \(sha256 $(sha256sum "$T/big.bin" | cut -c1-64)\)$"
