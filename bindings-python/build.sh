#!/usr/bin/env bash
# Builds the wheel into bindings-python/dist/, with ONNX Runtime inside it.
# Needs ./setup.sh first (ONNX Runtime and the .faceprint/venv with maturin).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
ort="$root/.faceprint/lib/libonnxruntime.so.1.31.1"
[ -f "$ort" ] || { echo "build.sh: $ort is missing: run ./setup.sh" >&2; exit 1; }
cp "$ort" "$here/python/faceprint/"
rm -rf "$here/dist"
"$root/.faceprint/venv/bin/maturin" build --release --manifest-path "$here/Cargo.toml" --out "$here/dist" "$@"
ls "$here"/dist/*.whl
