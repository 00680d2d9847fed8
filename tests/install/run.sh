#!/usr/bin/env bash
# The published artifacts, installed and run away from the checkout, as a user gets them:
#   - the wheel + the faceprint-models wheel in a fresh venv,
#   - the npm package + @faceprint/models in an empty folder,
#   - ffi/install.sh's PREFIX with a C program built by pkg-config,
# each run with an empty environment (no FACEPRINT_*, no LD_LIBRARY_PATH, HOME an empty
# directory) from a folder with no checkout above it and no ../shared, so the models and ONNX
# Runtime can only come from the installed artifacts. Then the glibc check of every installed
# shared object and program (nothing newer than GLIBC_2.28) and the wheel's platform tag.
#   tests/install/run.sh WORK NPM_TGZ     (./test.sh calls it after building the packages)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${1:?usage: run.sh WORK NPM_TGZ}
npm_tgz=${2:?usage: run.sh WORK NPM_TGZ}
shared=${FACEPRINT_SHARED:-$root/../shared}

wheel=$(ls "$root"/bindings-python/dist/faceprint-*.whl)
models_wheel=$(ls "$root"/target/packages/faceprint_models-*.whl)
models_tgz=$(ls "$root"/target/packages/faceprint-models-*.tgz)

# WORK/away/app: ../shared and the checkout are nowhere above it.
away="$work/away"
app="$away/app"
mkdir -p "$app" "$away/home"
[ ! -e "$app/../shared" ] || { echo "run.sh: $app/../shared exists" >&2; exit 1; }
cp "$shared/data/dev/faces/named/obama_obama.jpg" "$app/obama.jpg"
cp "$shared/data/dev/faces/named/obama_obama2.jpg" "$app/obama2.jpg"
cp -r "$shared/data/dev/faces/train" "$app/gallery"
cp "$shared/data/dev/faces/test/obama1.jpg" "$app/probe.jpg"
clean() { (cd "$app" && env -i HOME="$away/home" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 "$@"); }

echo "-- Python: faceprint + faceprint-models wheels in a fresh venv"
python3 -m venv "$away/venv"
"$away/venv/bin/pip" install --quiet --disable-pip-version-check "$wheel" "$models_wheel"
clean "$away/venv/bin/python" - <<'PY'
import sysconfig, faceprint
engine = faceprint.Engine()
assert str(engine.models_dir).startswith(sysconfig.get_paths()["purelib"]), engine.models_dir
a = engine.extract_largest("obama.jpg")
b = engine.extract_largest("obama2.jpg")
c = engine.compare(a, b)
assert a.model == "omz-reid-0095" and len(a) == 256 and c.same, (a.model, c)
print(f"   extract ok: {a.model}, {len(a)}-D, same person {c.score:.3f}; pack {engine.models_dir}")
PY
# A FACEPRINT_MODELS that points nowhere is an error naming it, not a silent fall-through.
clean FACEPRINT_MODELS=/nonexistent "$away/venv/bin/python" - <<'PY'
import faceprint
try:
    faceprint.Engine()
except faceprint.ModelsNotFoundError as e:
    assert "FACEPRINT_MODELS" in str(e) and "/nonexistent" in str(e), e
    print("   FACEPRINT_MODELS=/nonexistent:", e)
else:
    raise SystemExit("FACEPRINT_MODELS=/nonexistent was ignored")
PY
# Without the models package there is no pack, and the error says how to get one.
"$away/venv/bin/pip" uninstall --quiet --yes faceprint-models
clean "$away/venv/bin/python" - <<'PY'
import faceprint
try:
    faceprint.Engine()
except faceprint.ModelsNotFoundError as e:
    assert "pip install faceprint-models" in str(e), e
    print("   without faceprint-models: models_not_found, naming the package")
else:
    raise SystemExit("an engine was built with no model pack installed")
PY

echo "-- Node: faceprint + @faceprint/models into an empty folder"
mkdir "$away/node"
(cd "$away/node" && npm init -y >/dev/null \
  && npm install --offline --no-audit --no-fund --loglevel=error "$npm_tgz" "$models_tgz" >/dev/null)
cp "$app"/obama*.jpg "$away/node/"
(cd "$away/node" && env -i HOME="$away/home" PATH=/usr/local/bin:/usr/bin:/bin node -e '
const assert = require("node:assert")
const { Engine } = require("faceprint")
;(async () => {
  const engine = new Engine()
  assert.ok(engine.modelsDir.includes("node_modules/@faceprint/models/pack"), engine.modelsDir)
  const a = await engine.extractLargest("obama.jpg")
  const b = await engine.extractLargest("obama2.jpg")
  const c = engine.compare(a.embedding, b.embedding)
  assert.strictEqual(a.embedding.length, 256)
  assert.ok(c.same, JSON.stringify(c))
  console.log(`   extract ok: ${a.model}, ${a.embedding.length}-D, same person ${c.score.toFixed(3)}; pack ${engine.modelsDir}`)
})().catch((e) => { console.error(e); process.exit(1) })
')

echo "-- C: ffi/install.sh PREFIX, a program built with pkg-config"
"$root/ffi/install.sh" "$away/prefix" >/dev/null
(cd "$app" && PKG_CONFIG_PATH="$away/prefix/lib/pkgconfig" gcc -std=c99 -Wall -Werror \
  "$root/examples/c/identify.c" $(PKG_CONFIG_PATH="$away/prefix/lib/pkgconfig" pkg-config --cflags --libs faceprint) \
  -o identify)
out=$(clean ./identify gallery probe.jpg)
echo "$out" | sed 's/^/   /'
echo "$out" | grep -q "face 1 candidate 1: obama " || { echo "the C program did not identify obama" >&2; exit 1; }
out=$(clean "$away/prefix/bin/faceprint" compare obama.jpg obama2.jpg)
echo "$out" | grep -q '"same":true' || { echo "faceprint compare: $out" >&2; exit 1; }
echo "   installed faceprint compare: same person"

echo "-- glibc: nothing newer than GLIBC_2.28"
python3 "$here/check_glibc.py" --max 2.28 --wheel "$wheel" \
  "$away"/venv/lib/python3*/site-packages/faceprint/_faceprint*.so \
  "$away"/node/node_modules/faceprint/faceprint.*.node \
  "$away/prefix/lib/libfaceprint.so" "$away/prefix/bin/faceprint"
