#!/usr/bin/env bash
# linux-aarch64, cross-built here and run under emulation: the `faceprint` command and
# libfaceprint linked by zig against glibc 2.28 for aarch64, ONNX Runtime from the pinned
# aarch64 PyPI wheel (sha256 checked), the model pack — installed into a prefix laid out as
# ffi/install.sh lays one out, then run with Debian's qemu-user and arm64 C libraries: the
# command compares two photos and a C program built for aarch64 (zig cc, pkg-config) identifies
# a probe. Then `objdump -T` on both: nothing newer than GLIBC_2.28.
#   tests/install/aarch64.sh [WORK]     (after ./setup.sh; root installs the Debian packages)
# Not part of ./test.sh: the cross build adds minutes and emulation is slow.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${1:-$(mktemp -d)}
shared=${FACEPRINT_SHARED:-$root/../shared}
ORT_WHEEL=onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_aarch64.whl
ORT_WHEEL_SHA256=da05378364c44d4407e463982d2bf8d5e4cfea873283757e48beeb41df97b7f3
ORT_LIB_SHA256=8aa3b76b28c778a2b1dd660d34161adb1d508c9ccd04ff9dc80e26eca5df8467
sysroot=/usr/aarch64-linux-gnu

if ! command -v qemu-aarch64 >/dev/null || [ ! -e "$sysroot/lib/ld-linux-aarch64.so.1" ] \
   || [ ! -e "$sysroot/lib/libstdc++.so.6" ]; then
  [ "$(id -u)" = 0 ] || { echo "aarch64.sh: install qemu-user libc6-arm64-cross libstdc++6-arm64-cross" >&2; exit 1; }
  apt-get update -qq && apt-get install -y -qq qemu-user libc6-arm64-cross libstdc++6-arm64-cross \
    libgcc-s1-arm64-cross >/dev/null
fi
rustup target list --installed | grep -q '^aarch64-unknown-linux-gnu$' \
  || rustup target add aarch64-unknown-linux-gnu

echo "-- cross-building faceprint and libfaceprint for aarch64 (glibc 2.28)"
PATH="$root/.faceprint/cargo/bin:$PATH" cargo zigbuild --quiet --release \
  -p faceprint-cli -p faceprint-ffi --target aarch64-unknown-linux-gnu.2.28 \
  --manifest-path "$root/Cargo.toml"
built="$root/target/aarch64-unknown-linux-gnu/release"

echo "-- ONNX Runtime for aarch64 from the pinned wheel"
cache="$root/.faceprint/cache"
mkdir -p "$cache"
if ! echo "$ORT_WHEEL_SHA256  $cache/$ORT_WHEEL" | sha256sum -c --quiet - >/dev/null 2>&1; then
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
    --platform manylinux_2_28_aarch64 -d "$cache" onnxruntime==1.31.1
  echo "$ORT_WHEEL_SHA256  $cache/$ORT_WHEEL" | sha256sum -c --quiet -
fi
prefix="$work/prefix-aarch64"
mkdir -p "$prefix/bin" "$prefix/lib/pkgconfig" "$prefix/include"
python3 - "$cache/$ORT_WHEEL" "$prefix/lib/libonnxruntime.so.1.31.1" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    open(sys.argv[2], "wb").write(z.read("onnxruntime/capi/libonnxruntime.so.1.31.1"))
PY
echo "$ORT_LIB_SHA256  $prefix/lib/libonnxruntime.so.1.31.1" | sha256sum -c --quiet -
install -m 755 "$built/faceprint" "$prefix/bin/"
install -m 755 "$built/libfaceprint.so" "$prefix/lib/"
install -m 644 "$root/include/faceprint.h" "$prefix/include/"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|0.1.0|" "$root/ffi/faceprint.pc.in" \
  > "$prefix/lib/pkgconfig/faceprint.pc"
"$root/target/x86_64-unknown-linux-gnu/release/faceprint" models install --from "$root/models" \
  --to "$prefix/share/faceprint/models" >/dev/null
file "$prefix/bin/faceprint" | grep -q 'ARM aarch64' || { echo "not an aarch64 program" >&2; exit 1; }

echo "-- the command under qemu-aarch64, empty environment"
app="$work/app"
mkdir -p "$app"
cp "$shared/data/dev/faces/named/obama_obama.jpg" "$shared/data/dev/faces/named/obama_obama2.jpg" "$app/"
# A small gallery: every image costs a minute or two under emulation.
mkdir -p "$app/gallery/obama" "$app/gallery/biden"
cp "$shared/data/dev/faces/train/obama/$(ls "$shared/data/dev/faces/train/obama" | head -1)" "$app/gallery/obama/"
cp "$shared/data/dev/faces/train/biden/$(ls "$shared/data/dev/faces/train/biden" | head -1)" "$app/gallery/biden/"
cp "$shared/data/dev/faces/test/obama1.jpg" "$app/probe.jpg"
# qemu-user passes the host's x86 /proc/cpuinfo through, on which ONNX Runtime's CPU
# detection (cpuinfo) crashes; a private mount namespace shows the program an aarch64 one.
cat > "$work/cpuinfo" <<'CPU'
processor	: 0
Features	: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU implementer	: 0x41
CPU architecture: 8
CPU variant	: 0x3
CPU part	: 0xd0c
CPU revision	: 1

CPU
run() {
  (cd "$app" && env -i HOME="$work/home" PATH=/usr/bin:/bin QEMU_LD_PREFIX="$sysroot" \
    unshare -m sh -c 'mount --bind "$0" /proc/cpuinfo && exec "$@"' "$work/cpuinfo" "$@")
}
start=$(date +%s)
out=$(run qemu-aarch64 "$prefix/bin/faceprint" compare obama_obama.jpg obama_obama2.jpg)
echo "$out" | python3 -c 'import json, sys; d = json.load(sys.stdin); print("   same: %s, score %s, box a %s" % (d["same"], d["score"], d["a"]["face"]["box"]))'
echo "$out" | grep -q '"same":true' || { echo "aarch64 compare failed" >&2; exit 1; }
echo "   ($(( $(date +%s) - start )) s under emulation)"

echo "-- a C program for aarch64 (zig cc, pkg-config) under qemu-aarch64"
zig="$root/.faceprint/cargo/bin/zig"
"$zig" cc -target aarch64-linux-gnu.2.28 -std=c99 -Wall -Werror "$root/examples/c/identify.c" \
  $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs faceprint) -o "$app/identify"
out=$(run qemu-aarch64 ./identify gallery probe.jpg)
echo "$out" | sed 's/^/   /'
echo "$out" | grep -q "face 1 candidate 1: obama " || { echo "aarch64 C program did not identify obama" >&2; exit 1; }

echo "-- glibc: nothing newer than GLIBC_2.28"
python3 "$here/check_glibc.py" --max 2.28 "$prefix/bin/faceprint" "$prefix/lib/libfaceprint.so"
echo "aarch64: built and run under emulation"
