#!/usr/bin/env bash
# Builds the publish-ready model packages into target/packages/: the Python wheel
# `faceprint-models` and the npm package `@faceprint/models`, each carrying the pack of models/
# (copied by `faceprint models install`, so every file's sha256 is checked) with its manifest
# and NOTICE. Needs ./setup.sh first (the pack, the faceprint command, .faceprint/venv).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/target/packages"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
faceprint="$root/target/x86_64-unknown-linux-gnu/release/faceprint"
[ -x "$faceprint" ] || { echo "build.sh: $faceprint is missing: run ./setup.sh" >&2; exit 1; }
python3 "$here/notice.py" --check
mkdir -p "$out"
rm -f "$out"/faceprint_models-*.whl "$out"/faceprint-models-*.tgz

cp -r "$here/python" "$stage/python"
cp "$here/README.md" "$stage/python/"
cp "$root/NOTICE" "$stage/python/faceprint_models/"
"$faceprint" models install --from "$root/models" \
  --to "$stage/python/faceprint_models/pack" >/dev/null
"$root/.faceprint/venv/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps \
  -w "$out" "$stage/python"

cp -r "$here/npm" "$stage/npm"
cp "$here/README.md" "$root/NOTICE" "$stage/npm/"
"$faceprint" models install --from "$root/models" \
  --to "$stage/npm/pack" >/dev/null
(cd "$stage/npm" && npm pack --silent --pack-destination "$out" >/dev/null)
ls "$out"/faceprint_models-*.whl "$out"/faceprint-models-*.tgz
