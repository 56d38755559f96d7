#!/bin/sh
# Runs the test suites with an ARM build under qemu-user (invoked
# explicitly: binfmt is not assumed), as `make cross-test` does for each
# target.
#
#   sh cross/test.sh ARCH     (aarch64 or armv7; build/ARCH/ must hold the
#                              binary, unit tests and library programs:
#                              make cross)
#
# The binary and the library's test programs run through wrapper scripts,
# so the suites call them like any other. DG_EMULATED=1 skips what would measure qemu (memory figures) and
# what needs a native binary (Ceph RGW); on armv7, the 32-bit target,
# DG_LARGE=1 adds the files-over-4-GiB suite.
set -eu
cd "$(dirname "$0")/.."
arch=${1:?usage: cross/test.sh aarch64|armv7}
case $arch in
aarch64) qemu=qemu-aarch64-static large= fast=1 ;;
armv7) qemu=qemu-arm-static large=1 fast= ;;
*) echo "cross/test.sh: unknown ARCH '$arch'" >&2; exit 2 ;;
esac
q=$(command -v "$qemu") || { echo "$arch: $qemu is not installed (qemu-user-static)"; exit 1; }
b=$PWD/build/$arch
for p in deltaglider agent apitest linkown; do
    printf '#!/bin/sh\nexec %s %s "$@"\n' "$q" "$b/$p" >"$b/$p-qemu"
    chmod +x "$b/$p-qemu"
done
echo "== $arch (under $q)"
DG_RUNNER=$q DG_UNIT=$b/unit DG_BIN=$b/deltaglider-qemu DG_AGENT=$b/agent-qemu \
    DG_APITEST=$b/apitest-qemu DG_LINKOWN=$b/linkown-qemu DG_EMULATED=1 DG_LARGE=$large \
    DG_EXPECT_SHA_FAST=$fast \
    TEST_LOG=$PWD/build/test-$arch.log exec sh tests/run.sh
