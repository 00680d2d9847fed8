#!/usr/bin/env bash
# Installs Faceprint for C programs into PREFIX:
#   PREFIX/include/faceprint.h, PREFIX/lib/libfaceprint.{so,a}, ONNX Runtime beside them
#   (libfaceprint loads it from its own directory), PREFIX/lib/pkgconfig/faceprint.pc,
#   PREFIX/bin/faceprint (the command) and the model pack in PREFIX/share/faceprint/models
#   (found by libfaceprint and the command without any setting; every file's sha256 checked).
# The library and the command are linked against glibc 2.28 (zig, as the wheel and the npm
# addon are), so the tree can be copied to any Linux x86_64 with glibc 2.28 or newer.
#   ffi/install.sh PREFIX        (after ./setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
prefix=${1:?usage: ffi/install.sh PREFIX}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
ort=.faceprint/lib/libonnxruntime.so.1.31.1
[ -f "$ort" ] || { echo "install.sh: $ort is missing: run ./setup.sh first" >&2; exit 1; }
# The checkout's target/ and linker (zig against glibc 2.28, .cargo/config.toml): after
# ./setup.sh only these two crates' own code is left to compile.
cargo build --quiet --release -p faceprint-ffi -p faceprint-cli
built=${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-gnu/release
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
install -d "$prefix/include" "$prefix/lib/pkgconfig" "$prefix/bin" "$prefix/share/doc/faceprint"
install -m 644 include/faceprint.h "$prefix/include/"
install -m 755 "$built/libfaceprint.so" "$prefix/lib/"
install -m 644 "$built/libfaceprint.a" "$prefix/lib/"
install -m 755 "$built/faceprint" "$prefix/bin/"
install -m 755 "$ort" "$prefix/lib/"
install -m 644 LICENSE NOTICE "$prefix/share/doc/faceprint/"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" ffi/faceprint.pc.in \
  > "$prefix/lib/pkgconfig/faceprint.pc"
"$prefix/bin/faceprint" models install --from models \
  --to "$prefix/share/faceprint/models" >/dev/null
echo "installed into $prefix; build with:"
echo "  PKG_CONFIG_PATH=$prefix/lib/pkgconfig gcc app.c \$(pkg-config --cflags --libs faceprint)"
