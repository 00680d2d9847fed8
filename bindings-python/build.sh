#!/usr/bin/env bash
# Builds the wheel into bindings-python/dist/, with ONNX Runtime inside it, for
# manylinux_2_28: linked by zig against glibc 2.28 (PyPI ziglang), so it loads on Debian 10+,
# Ubuntu 18.10+, RHEL 8+ — as the pinned ONNX Runtime wheel does.
# Needs ./setup.sh first (ONNX Runtime and the .faceprint/venv with maturin and ziglang).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
ort="$root/.faceprint/lib/libonnxruntime.so.1.31.1"
[ -f "$ort" ] || { echo "build.sh: $ort is missing: run ./setup.sh" >&2; exit 1; }
cp "$ort" "$here/python/faceprint/"
rm -rf "$here/dist"
cp "$root/LICENSE" "$root/NOTICE" "$here/"
# Linked by zig against glibc 2.28 like every build of the checkout (.cargo/config.toml), in the
# checkout's target/, where ./setup.sh's build left every crate it shares with this one; maturin
# checks the result against manylinux_2_28. The interpreter is pinned to .faceprint/venv's:
# pyo3's build script reads it, so a build from another venv (the README's install block) finds
# the compiled crates up to date.
VIRTUAL_ENV="$root/.faceprint/venv" PATH="$root/.faceprint/venv/bin:$PATH" \
  "$root/.faceprint/venv/bin/maturin" build --release --compatibility manylinux_2_28 \
  --interpreter "$root/.faceprint/venv/bin/python3" --manifest-path "$here/Cargo.toml" \
  --out "$here/dist" "$@"
ls "$here"/dist/*.whl
