# deltaglider: one static musl binary.
#
#   make                 ./deltaglider for this machine (x86_64, musl, static, stripped)
#   make ARCH=aarch64    build/aarch64/deltaglider (ARCH=armv7 likewise)
#   make cross           both ARM binaries; make cross-test runs the tests on them
#                        under qemu-user; make size prints each binary's size;
#                        make repro checks that two builds are the same bytes
#   make test            every test: unit (musl and ASan/UBSan) and end-to-end
#   make unit            unit tests only
#   make lib             build/libdeltaglider.a and build/deltaglider.h (ARCH= too)
#   make libcheck        compile the library with the host gcc (glibc's build)
#   make demo            build, then show five releases going into a file:// store
#   make image           build/image/rootfs.tar: the FROM scratch image's root
#   make bench           benchmarks under tests/bench (prints figures; compare.sh
#                        needs aws and rclone: apt-get install awscli rclone;
#                        archives.sh fetches npm packages)
#   make clean           remove build/ and ./deltaglider
#
# Third-party sources come from Debian source packages via vendor/fetch.sh
# (pinned sums); nothing third-party is committed.

VERSION  := 0.1.0
ARCH     ?= $(shell uname -m)
B        ?= build/$(ARCH)
V        := vendor

# CC_MUSL, XZHOST, OUT and ARCH_DEFS for each ARCH.
include cross/arch.mk

# CC_FOR builds everything of this configuration: musl for release binaries,
# the host gcc for the sanitizer build (ASan does not run on musl).
CC_FOR   ?= $(CC_MUSL)
# Reproducible: no build paths, no timestamps, no build id.
OPT      ?= -O2 -ffunction-sections -fdata-sections
CFLAGS_ALL = $(OPT) -ffile-prefix-map=$(CURDIR)=.
# -Wformat-truncation flags every bounded path join; lengths that matter are checked.
WARN     := -Wall -Wextra -Werror -Wno-format-truncation
LDFLAGS  := -static -s -Wl,--gc-sections -Wl,--build-id=none

# xdelta3's configuration. Every unit including xdelta3.h must see the same
# defines, or the two sides disagree on the layout of xd3_stream.
XD3_DEFS := -DXD3_MAIN=0 -DXD3_ENCODER=1 -DXD3_DEBUG=0 -DREGRESSION_TEST=0 \
            -DVCDIFF_TOOLS=0 -DSECONDARY_DJW=1 -DSECONDARY_FGK=0 \
            -DSECONDARY_LZMA=1 -DXD3_USE_LARGEFILE64=1 \
            -DSIZEOF_SIZE_T=__SIZEOF_SIZE_T__ -DSIZEOF_UNSIGNED_INT=__SIZEOF_INT__ \
            -DSIZEOF_UNSIGNED_LONG=__SIZEOF_LONG__ \
            -DSIZEOF_UNSIGNED_LONG_LONG=__SIZEOF_LONG_LONG__ $(ARCH_DEFS)

INCS     := -I$(V)/bearssl/inc -I$(V)/xdelta3 -I$(V)/jsmn -I$(V)/xz/src/liblzma/api -I$(V)/zlib
DG_DEFS  := -DDG_VERSION='"$(VERSION)"' -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(XD3_DEFS)

STAMP    := $(V)/.unpacked
BR_A     := $(B)/libbearssl.a
LZMA_A   := $(B)/xz/src/liblzma/.libs/liblzma.a
XD3_O    := $(B)/xdelta3.o
Z_A      := $(B)/libz.a
LIBS     := $(XD3_O) $(BR_A) $(LZMA_A) $(Z_A)
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
IMAGE    := build/image/rootfs.tar

.PHONY: all lib libcheck libs test unit fuzz bench demo image clean distclean vendor cross cross-test repro size
.DELETE_ON_ERROR:

all: $(OUT)
libs: $(LIBS)

vendor: $(STAMP)
$(STAMP): $(V)/SHA256SUMS $(V)/fetch.sh
	sh $(V)/fetch.sh

# --- third-party static archives ---------------------------------------------

# BearSSL's object list is known only once its sources are unpacked: make
# generates this fragment after vendor/fetch.sh and then re-reads itself.
ifeq ($(filter clean distclean,$(MAKECMDGOALS)),)
include $(B)/bearssl.mk
endif
$(B)/bearssl.mk: $(STAMP)
	@mkdir -p $(B)
	@cd $(V)/bearssl/src && find . -name '*.c' | LC_ALL=C sort | \
	  sed 's|^\./\(.*\)\.c$$|BR_OBJ += $$(B)/bearssl/\1.o|' >$(CURDIR)/$@

$(BR_A): $(BR_OBJ)
	@rm -f $@
	@ar rcD $@ $(BR_OBJ)
$(B)/bearssl/%.o: $(V)/bearssl/src/%.c $(STAMP)
	@mkdir -p $(dir $@)
	@$(CC_FOR) $(CFLAGS_ALL) -I$(V)/bearssl/inc -I$(V)/bearssl/src -c $< -o $@

# liblzma with only what xdelta3's LZMA secondary compressor uses: the .xz
# container with LZMA2 (and LZMA1), CRC32, no threads, no tools.
$(LZMA_A): $(STAMP)
	rm -rf $(B)/xz && mkdir -p $(B)/xz
	cd $(B)/xz && CC="$(CC_FOR)" CFLAGS="$(CFLAGS_ALL)" \
	  $(CURDIR)/$(V)/xz/configure --host=$(XZHOST) \
	  --disable-shared --enable-static --enable-encoders=lzma1,lzma2 \
	  --enable-decoders=lzma1,lzma2 --enable-checks=crc32 --enable-threads=no \
	  --disable-microlzma --disable-lzip-decoder --disable-xz --disable-xzdec \
	  --disable-lzmadec --disable-lzmainfo --disable-lzma-links --disable-scripts \
	  --disable-doc --disable-nls --disable-symbol-versions >configure.log 2>&1 \
	  || { tail -20 configure.log; exit 1; }
	$(MAKE) --no-print-directory -C $(B)/xz/src/liblzma >$(B)/xz/make.log 2>&1 \
	  || { tail -20 $(B)/xz/make.log; exit 1; }

# zlib's deflate and inflate, for archive-aware deltas (the gz* file
# functions and the rest are not used).
Z_SRC := adler32 crc32 deflate inflate inffast inftrees trees zutil
Z_OBJ := $(Z_SRC:%=$(B)/zlib/%.o)
$(Z_A): $(Z_OBJ)
	@rm -f $@
	@ar rcD $@ $(Z_OBJ)
$(B)/zlib/%.o: $(V)/zlib/%.c $(STAMP)
	@mkdir -p $(dir $@)
	@$(CC_FOR) $(CFLAGS_ALL) -I$(V)/zlib -c $< -o $@

$(XD3_O): $(STAMP)
	@mkdir -p $(B)
	$(CC_FOR) $(CFLAGS_ALL) $(XD3_DEFS) -I$(V)/xz/src/liblzma/api \
	  -c $(V)/xdelta3/xdelta3.c -o $@

# --- deltaglider ---------------------------------------------------------------

$(B)/deltaglider.o: deltaglider.c $(STAMP)
	$(CC_FOR) $(CFLAGS_ALL) $(WARN) $(INCS) $(DG_DEFS) -c deltaglider.c -o $@

$(OUT): $(B)/deltaglider.o $(LIBS)
	$(CC_FOR) $(LDFLAGS) -o $@ $^

# --- the library ----------------------------------------------------------------

# libdeltaglider.a: deltaglider.c compiled with -DDG_LIBRARY (no main; the
# DG_API functions exported), folded with the vendored code into one
# relocatable object whose only global symbols are the API: a program that
# links its own BearSSL, liblzma, zlib or xdelta3 gets no clash. The header is the
# block of deltaglider.c between its deltaglider.h markers. Built with this
# configuration's compiler (musl-gcc: link with it); for glibc programs,
# make lib B=build/glibc CC_FOR=gcc XZHOST=x86_64-linux-gnu LIBOUT=...
LIB_HDR  := build/deltaglider.h
lib: $(LIBOUT) $(LIB_HDR)
$(LIB_HDR): deltaglider.c
	@mkdir -p build
	sed -n '/==== deltaglider.h begin/,/==== deltaglider.h end/p' deltaglider.c >$@
$(B)/api.syms: deltaglider.c
	@mkdir -p $(B)
	sed -n '/==== deltaglider.h begin/,/==== deltaglider.h end/p' deltaglider.c | \
	  sed -n 's/^DG_API [^(]*[ *]\(dg_[a-z_]*\)(.*/\1/p' >$@
$(B)/libdg.o: deltaglider.c $(STAMP)
	$(CC_FOR) $(CFLAGS_ALL) $(WARN) $(INCS) $(DG_DEFS) -DDG_LIBRARY -fvisibility=hidden \
	  -c deltaglider.c -o $@
$(LIBOUT): $(B)/libdg.o $(B)/api.syms $(LIBS)
	$(BINUTILS)ld -r -o $(B)/libdg-all.o $(B)/libdg.o $(LIBS)
	$(BINUTILS)objcopy --keep-global-symbols=$(B)/api.syms $(B)/libdg-all.o
	@rm -f $@
	$(BINUTILS)ar rcD $@ $(B)/libdg-all.o

# The library as its glibc build (above) compiles it, with the host gcc:
# glibc's headers give -O2 code musl's do not (an inline bsearch), and so
# other warnings. Compiled only; tests/e2e/45-library.sh runs it.
libcheck: $(STAMP)
	@mkdir -p build/libcheck
	gcc $(CFLAGS_ALL) $(WARN) $(INCS) $(DG_DEFS) -DDG_LIBRARY -fvisibility=hidden \
	  -c deltaglider.c -o build/libcheck/libdg.o

# The library's tests: an update agent (tests/api/agent.c), the calls it
# does not make (tests/api/apitest.c) and a program that links its own
# copies of the vendored libraries (tests/api/linkown.c).
$(B)/agent: tests/api/agent.c $(LIBOUT) $(LIB_HDR)
	$(CC_FOR) $(OPT) $(WARN) -Ibuild -static -o $@ tests/api/agent.c $(LIBOUT)
$(B)/apitest: tests/api/apitest.c $(LIBOUT) $(LIB_HDR)
	$(CC_FOR) $(OPT) $(WARN) -Ibuild -static -o $@ tests/api/apitest.c $(LIBOUT)
$(B)/linkown: tests/api/linkown.c $(LIBOUT) $(LIB_HDR) $(LIBS)
	$(CC_FOR) $(OPT) $(WARN) -Ibuild $(INCS) -static -o $@ tests/api/linkown.c $(LIBOUT) \
	  -Wl,--whole-archive $(BR_A) $(LZMA_A) $(Z_A) -Wl,--no-whole-archive

# --- tests -------------------------------------------------------------------

# The unit tests include deltaglider.c, so they reach every static function.
$(B)/unit: tests/unit.c deltaglider.c $(LIBS)
	$(CC_FOR) $(CFLAGS_ALL) $(WARN) $(INCS) $(DG_DEFS) -DDG_UNIT_TEST -static \
	  -o $@ tests/unit.c $(LIBS)

# Sanitizer build: host gcc and glibc, with its own copies of the libraries
# (built without sanitizers: we check our code, not theirs).
SAN   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN  := build/asan
ifneq ($(B),$(ASAN))
ASAN_LIBS := $(ASAN)/xdelta3.o $(ASAN)/libbearssl.a $(ASAN)/xz/src/liblzma/.libs/liblzma.a \
  $(ASAN)/libz.a
$(ASAN_LIBS) &: $(STAMP)
	$(MAKE) --no-print-directory ARCH=x86_64 B=$(ASAN) CC_FOR=gcc \
	  XZHOST=x86_64-linux-gnu OPT="-O1 -g" libs
$(ASAN)/unit: tests/unit.c deltaglider.c $(ASAN_LIBS)
	gcc -O1 -g $(SAN) $(WARN) $(INCS) $(DG_DEFS) -DDG_UNIT_TEST -o $@ tests/unit.c $(ASAN_LIBS) -lm
$(ASAN)/deltaglider: deltaglider.c $(ASAN_LIBS)
	gcc -O1 -g $(SAN) $(WARN) $(INCS) $(DG_DEFS) -o $@ deltaglider.c $(ASAN_LIBS) -lm
endif

unit: $(B)/unit $(ASAN)/unit
	$(B)/unit && $(ASAN)/unit

# libFuzzer targets for the parsers (tests/fuzz/fuzz.c). `make fuzz` runs
# each for FUZZ_SECONDS, crash inputs going to build/fuzz/; `make test` runs
# each briefly over its seeds.
FUZZ_TARGETS := xml http meta cache delta arc
FUZZ_SECONDS ?= 60
FUZZ_BINS    := $(FUZZ_TARGETS:%=build/fuzz/%)
build/fuzz/%: tests/fuzz/fuzz.c deltaglider.c $(ASAN_LIBS)
	@mkdir -p build/fuzz
	clang -g -O1 -fsanitize=fuzzer,address,undefined $(filter-out -Wno-format-truncation,$(WARN)) \
	  -Wno-unused-function -DFUZZ_$(shell echo $* | tr a-z A-Z) -DDG_UNIT_TEST $(INCS) $(DG_DEFS) \
	  -o $@ tests/fuzz/fuzz.c $(ASAN_LIBS) -lm
fuzz: $(FUZZ_BINS)
	for t in $(FUZZ_TARGETS); do mkdir -p build/fuzz/corpus-$$t && \
	  build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
	    -artifact_prefix=build/fuzz/ build/fuzz/corpus-$$t tests/fuzz/seeds/$$t || exit 1; done

tests/node_modules/.installed: tests/package.json tests/package-lock.json
	cd tests && npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: $(OUT) $(B)/unit $(ASAN)/unit $(ASAN)/deltaglider $(FUZZ_BINS) $(IMAGE) \
  $(B)/agent $(B)/apitest $(B)/linkown tests/node_modules/.installed
	DG_BIN=$(CURDIR)/$(OUT) DG_AGENT=$(CURDIR)/$(B)/agent DG_APITEST=$(CURDIR)/$(B)/apitest \
	  DG_LINKOWN=$(CURDIR)/$(B)/linkown \
	  DG_LIBA=$(CURDIR)/$(LIBOUT) DG_LIBH=$(CURDIR)/$(LIB_HDR) DG_ASAN_BIN=$(CURDIR)/$(ASAN)/deltaglider DG_IMAGE=$(CURDIR)/$(IMAGE) \
	  DG_UNIT="$(CURDIR)/$(B)/unit $(CURDIR)/$(ASAN)/unit" DG_FUZZ="$(FUZZ_BINS:%=$(CURDIR)/%)" \
	  sh tests/run.sh

# --- ARM: static musl binaries from Debian's cross compilers, tested under
# qemu-user against s3rver by cross/test.sh.
CROSS_ARCHES := aarch64 armv7

cross:
	for a in $(CROSS_ARCHES); do \
	  $(MAKE) --no-print-directory ARCH=$$a all build/$$a/unit lib build/$$a/agent \
	    build/$$a/apitest build/$$a/linkown || exit 1; done

cross-test: cross tests/node_modules/.installed
	@rc=0; for a in $(CROSS_ARCHES); do sh cross/test.sh $$a || rc=1; done; exit $$rc

# Two builds of each binary, in different build trees, must be the same
# bytes (no paths, timestamps or build ids embedded).
repro: all cross
	@for a in x86_64 $(CROSS_ARCHES); do \
	  f=build/$$a/deltaglider; [ $$a = x86_64 ] && f=$(OUT); \
	  $(MAKE) --no-print-directory ARCH=$$a B=build/repro/$$a OUT=build/repro/$$a/deltaglider \
	    build/repro/$$a/deltaglider >/dev/null || exit 1; \
	  if cmp -s $$f build/repro/$$a/deltaglider; then \
	    echo "$$a: reproducible, sha256 $$(sha256sum <$$f | cut -c1-64)"; \
	  else echo "$$a: two builds differ"; exit 1; fi; done

size: all
	@for a in x86_64 $(CROSS_ARCHES); do \
	  f=build/$$a/deltaglider; [ $$a = x86_64 ] && f=$(OUT); \
	  [ $$a = x86_64 ] || $(MAKE) --no-print-directory ARCH=$$a all >/dev/null || exit 1; \
	  printf '%-8s %8d bytes  %s\n' $$a $$(wc -c <$$f) $$f; done

# The FROM scratch image's root filesystem, as a tarball `docker import`
# takes (see Dockerfile): the binary, a CA bundle and an empty /tmp.
image: $(IMAGE)
$(IMAGE): $(OUT) $(CA_BUNDLE)
	rm -rf build/image && mkdir -p build/image/root/etc/ssl/certs build/image/root/tmp
	cp $(OUT) build/image/root/deltaglider
	cp $(CA_BUNDLE) build/image/root/etc/ssl/certs/ca-certificates.crt
	chmod 755 build/image/root/deltaglider && chmod 644 build/image/root/etc/ssl/certs/ca-certificates.crt
	chmod 1777 build/image/root/tmp
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C build/image/root -cf $@ .
	@echo "$@: docker import --change 'ENTRYPOINT [\"/deltaglider\"]' $@ deltaglider"

bench: $(OUT) tests/node_modules/.installed
	sh tests/bench/run.sh
	sh tests/bench/locks.sh
	sh tests/bench/levels.sh
	sh tests/bench/compare.sh
	sh tests/bench/archives.sh

demo: $(OUT)
	@sh tests/demo.sh

clean:
	rm -rf build deltaglider

distclean: clean
	rm -rf $(V)/bearssl $(V)/xdelta3 $(V)/jsmn $(V)/xz $(V)/zlib $(V)/dl $(STAMP) tests/node_modules
