#!/bin/sh
# Obtain the third-party sources deltaglider is built from: Debian source
# packages, checked against vendor/SHA256SUMS and unpacked with Debian's
# patches into git-ignored folders vendor/{bearssl,xdelta3,jsmn,xz,zlib}.
# Downloads land in vendor/dl; files already there with the right sums are
# reused, so an air-gapped machine only needs that folder copied in.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
dl=$here/dl
sums=$here/SHA256SUMS
stamp=$here/.unpacked

# package=version  orig tarball  Debian tarball ("-": none)  folder
packages='
bearssl=0.6+dfsg.1-3 bearssl_0.6+dfsg.1.orig.tar.xz bearssl_0.6+dfsg.1-3.debian.tar.xz bearssl
xdelta3=3.0.11-dfsg-1.2 xdelta3_3.0.11-dfsg.orig.tar.xz xdelta3_3.0.11-dfsg-1.2.debian.tar.xz xdelta3
jsmn=1.1.0-2 jsmn_1.1.0.orig.tar.gz - jsmn
xz-utils=5.4.1-1+deb12u2 xz-utils_5.4.1.orig.tar.xz xz-utils_5.4.1-1+deb12u2.debian.tar.xz xz
zlib=1:1.2.13.dfsg-1 zlib_1.2.13.dfsg.orig.tar.bz2 zlib_1.2.13.dfsg-1.debian.tar.xz zlib
'

die() { echo "vendor/fetch.sh: $*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

[ -f "$stamp" ] && cmp -s "$stamp" "$sums" && exit 0

# have FILE: present in vendor/dl with its pinned sum; a wrong sum is fatal.
have() {
    want=$(awk -v f="$1" '$2 == f { print $1 }' "$sums")
    [ -n "$want" ] || die "no pinned sum for $1"
    [ -f "$dl/$1" ] || return 1
    got=$(sha256sum "$dl/$1" | cut -d' ' -f1)
    [ "$got" = "$want" ] || die "checksum mismatch for $1: expected $want, got $got; refusing to build from it"
}

# pool_fetch SOURCE FILE: FILE from the main or security pool into vendor/dl.
pool_fetch() {
    command -v curl >/dev/null || return 0
    case $1 in lib?*) letter=$(echo "$1" | cut -c1-4) ;; *) letter=$(echo "$1" | cut -c1) ;; esac
    for pool in debian/pool/main debian-security/pool/updates/main; do
        curl -fsSL -o "$dl/$2.part" "http://deb.debian.org/$pool/$letter/$1/$2" 2>/dev/null &&
            mv "$dl/$2.part" "$dl/$2" && return 0
    done
    rm -f "$dl/$2.part"
}

enable_deb_src() {
    grep -rqsE '^(deb-src[[:space:]]|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/ && return 0
    echo "vendor/fetch.sh: enabling deb-src entries for the configured apt sources" >&2
    tmp=$(mktemp -d)
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && { sed 's/^Types:.*/Types: deb-src/' "$f"; echo; } >>"$tmp/src.sources"
    done
    [ -f /etc/apt/sources.list ] && sed -n 's/^deb[[:space:]]/deb-src /p' /etc/apt/sources.list >>"$tmp/src.list"
    [ -s "$tmp/src.sources" ] && as_root cp "$tmp/src.sources" /etc/apt/sources.list.d/deltaglider-deb-src.sources
    [ -s "$tmp/src.list" ] && as_root cp "$tmp/src.list" /etc/apt/sources.list.d/deltaglider-deb-src.list
    rm -rf "$tmp"
    # apt-get update can exit 100 when a mirror lacks a foreign architecture.
    as_root apt-get update -qq || true
}

missing=$(echo "$packages" | while read -r spec orig deb dir; do
    [ -n "$spec" ] || continue
    have "$orig" && { [ "$deb" = - ] || have "$deb"; } || echo "$spec"
done)

if [ -n "$missing" ]; then
    command -v apt-get >/dev/null || die "apt-get not found: copy the files named in vendor/SHA256SUMS into vendor/dl"
    mkdir -p "$dl"
    enable_deb_src
    for spec in $missing; do
        # jsmn's Debian diff is missing on the mirror: apt-get then fails
        # after fetching the orig tarball, which the sum check judges.
        (cd "$dl" && apt-get source --download-only -qq "$spec" >/dev/null 2>&1) || true
    done
    # A mirror in the middle of a sync can leave apt without a source
    # index; the same files are in Debian's pools, and the sums decide.
    echo "$packages" | while read -r spec orig deb dir; do
        [ -n "$spec" ] || continue
        src=${spec%%=*} ver=${spec#*=} ver=${ver#*:}   # file names carry no epoch
        for f in "$orig" "$deb" "${src}_${ver}.dsc"; do
            [ "$f" = - ] || [ -f "$dl/$f" ] || pool_fetch "$src" "$f"
        done
    done
fi
command -v dpkg-source >/dev/null || as_root apt-get install -y -qq dpkg-dev >/dev/null

echo "$packages" | while read -r spec orig deb dir; do
    [ -n "$spec" ] || continue
    have "$orig" || die "could not download $orig (apt-get source $spec: is the Debian mirror reachable?)"
    rm -rf "${here:?}/$dir"
    if [ "$deb" = - ]; then
        mkdir "$here/$dir"
        tar -xf "$dl/$orig" -C "$here/$dir" --strip-components=1
    else
        have "$deb" || die "could not download $deb"
        # The .dsc signature cannot be checked without Debian's keyring;
        # the pinned sums above are what we trust.
        ver=${spec#*=}
        (cd "$dl" && dpkg-source -q --no-copy -x "${spec%%=*}_${ver#*:}.dsc" "$here/$dir") \
            >"$dl/unpack.log" 2>&1 || { cat "$dl/unpack.log" >&2; die "dpkg-source could not unpack $spec"; }
    fi
done

cp "$sums" "$stamp"
echo "vendor/fetch.sh: sources ready in vendor/{bearssl,xdelta3,jsmn,xz,zlib}" >&2
