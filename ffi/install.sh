#!/usr/bin/env bash
# Installs the C library: PREFIX/include/faceprint.h, PREFIX/lib/libfaceprint.{so,a}, ONNX
# Runtime beside it (libfaceprint loads it from its own directory) and
# PREFIX/lib/pkgconfig/faceprint.pc. Models stay where they are: point FACEPRINT_MODELS (or
# faceprint_engine_builder_models_dir) at the model pack.
#   ffi/install.sh PREFIX        (after ./setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:?usage: ffi/install.sh PREFIX}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
ort=.faceprint/lib/libonnxruntime.so.1.31.1
[ -f "$ort" ] || { echo "install.sh: $ort is missing: run ./setup.sh first" >&2; exit 1; }
cargo build --release -p faceprint-ffi
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
install -d "$prefix/include" "$prefix/lib/pkgconfig"
install -m 644 include/faceprint.h "$prefix/include/"
install -m 755 target/release/libfaceprint.so "$prefix/lib/"
install -m 644 target/release/libfaceprint.a "$prefix/lib/"
install -m 755 "$ort" "$prefix/lib/"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" ffi/faceprint.pc.in \
  > "$prefix/lib/pkgconfig/faceprint.pc"
echo "installed into $prefix; build with:"
echo "  PKG_CONFIG_PATH=$prefix/lib/pkgconfig gcc app.c \$(pkg-config --cflags --libs faceprint)"
