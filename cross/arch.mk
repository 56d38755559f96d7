# Per-ARCH toolchain settings, included by the Makefile: the musl compiler
# (CC_MUSL), xz's configure --host (XZHOST), binutils (BINUTILS: ld, objcopy
# and ar for the library), where the binary and library go (OUT, LIBOUT) and
# any defines the target needs (ARCH_DEFS). Uses ARCH and B from the Makefile.
# Adding a target means a branch here, plus CROSS_ARCHES and cross/test.sh.

ifeq ($(ARCH),x86_64)
  CC_MUSL := musl-gcc
  XZHOST  ?= x86_64-linux-musl
  BINUTILS :=
  OUT     ?= deltaglider
  LIBOUT  ?= build/libdeltaglider.a
else ifeq ($(ARCH),aarch64)
  CC_MUSL := aarch64-linux-musl-gcc
  XZHOST  ?= aarch64-linux-musl
  BINUTILS := aarch64-linux-gnu-
  OUT     ?= $(B)/deltaglider
  LIBOUT  ?= $(B)/libdeltaglider.a
else ifeq ($(ARCH),armv7)
  CC_MUSL := arm-linux-musleabihf-gcc
  XZHOST  ?= arm-linux-musleabihf
  BINUTILS := arm-linux-gnueabihf-
  OUT     ?= $(B)/deltaglider
  LIBOUT  ?= $(B)/libdeltaglider.a
  # xdelta3 reads 32-bit words; keep them aligned on ARMv7.
  ARCH_DEFS := -DHAVE_ALIGNED_ACCESS_REQUIRED=1
else
  $(error unknown ARCH '$(ARCH)': use x86_64, aarch64 or armv7)
endif
