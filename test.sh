#!/usr/bin/env bash
# The whole test suite, as CI runs it (after ./setup.sh, which builds the workspace); on the
# project's 2-core machine about 8 minutes, 5 of them the Rust tests with the artifacts' builds
# beside them:
#   1. cargo build --release --workspace --all-targets (the bindings excluded; nothing to do
#      after ./setup.sh), then the doc tests and cargo nextest run: the core, CLI, C ABI (header
#      drift, the C example on LFW and under valgrind), the Rust parity dump, the servers, and
#      the PostgreSQL store (the CLI turns on the core's feature postgres) against a real
#      PostgreSQL 18 + pgvector: conformance, keys, rotation, racing nodes, two engines in step,
#      a server killed mid-enroll (FACEPRINT_TEST_PG, else a throwaway one from
#      tests/postgres.sh). Beside them, at a lower priority, the shipped artifacts are built in the
#      same target/ (everything links with zig against glibc 2.28): the npm addon,
#      ffi/install.sh's C library and command, and the wheel; every later step uses those files
#      as they are.
#   2. the Python wheel pip-installed into a fresh venv, then pytest
#   3. the npm package (index.d.ts / index.js must match the committed ones), packed,
#      installed offline into an empty folder, then node --test and a TypeScript type-check
#   4. the model packages (faceprint-models wheel, @faceprint/models), then the wheel, the npm
#      package and ffi/install.sh's prefix installed away from the checkout with an empty
#      environment, an extract run in each, and no glibc symbol newer than 2.28 in them
#   5. the parity check: Rust, C, Python and Node on the same inputs
#   6. the README's blocks run as written (tests/docs/run_readme.py): set-up, first run, the
#      command tour, the face-login server and its curl calls, the attendance tour, and the C,
#      Python and Node installs with the examples run on what they installed (the builds in
#      those blocks find everything built by the steps above)
#   7. the face-login page (fake camera), the attendance dashboard (live MJPEG view) and the KYC
#      user and verifier pages (fake camera) in headless Chromium (screenshots in
#      target/screenshots/auth/, attendance/ and kyc/)
# One part alone: see the README's "Test" section.
set -euo pipefail
cd "$(dirname "$0")"
# Each step says how long the run has taken so far (and notes it for .ci/run's table).
. tests/steps.sh
root=$PWD
# The checkout's pack for every test that runs outside cargo (the installs test clears the
# environment to prove the artifacts need no setting). ONNX Runtime: the wheel's and the npm
# package's own copies; the parity check's C program gets the checkout's (tests/parity/check.py).
export FACEPRINT_MODELS="${FACEPRINT_MODELS:-$root/models}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -z "${FACEPRINT_TEST_PG:-}" ]; then
  step "PostgreSQL for the store's tests (tests/postgres.sh)"
  # Its own directory under /tmp: as root the server runs as an unprivileged user, who must
  # reach it (the work directory is private).
  pgdir=$(mktemp -d /tmp/faceprint-test-pg-XXXXXX)
  trap 'tests/postgres.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$work" "$pgdir"' EXIT
  FACEPRINT_TEST_PG=$(tests/postgres.sh start "$pgdir")
  export FACEPRINT_TEST_PG
fi

step "Rust and C: the workspace's build (done by ./setup.sh), the doc tests, cargo nextest"
# The checkout's crates, as ./setup.sh builds them: without the two bindings (their own builds
# below), so the same package set resolves to the same features and nothing is compiled twice.
checkout=(--release --workspace --exclude faceprint-python --exclude faceprint-node)
cargo build "${checkout[@]}" --all-targets
rust_tests=0
cargo test "${checkout[@]}" --doc || rust_tests=$?
# nextest runs the binaries this build made, from their lists (it calls no cargo while the
# artifacts' builds below hold target/'s lock).
cargo nextest list "${checkout[@]}" --list-type binaries-only --message-format json \
  > "$work/test-binaries.json"
cargo metadata --format-version 1 > "$work/cargo-metadata.json"
# The shipped artifacts, beside the Rust tests (which keep about one and a half of the two cores
# busy: valgrind, servers waiting on each other): every crate they share with the checkout's
# build is in target/ already (one linker, one target: .cargo/config.toml), so only the bindings
# and the crates whose features differ compile. (Under CI's sccache the nice reaches no compile:
# sccache's server, started at normal priority, runs every rustc.)
in_background "the shipped artifacts: npm addon, C library and command, wheel" \
  "$work/artifacts.log" nice -n 10 bash -c '
    set -euo pipefail
    (cd bindings-node && npm run --silent build)
    ffi/install.sh "$1/prefix-built" >/dev/null && rm -rf "$1/prefix-built"
    bindings-python/build.sh' _ "$work"
artifacts=$!
cargo nextest run --binaries-metadata "$work/test-binaries.json" \
  --cargo-metadata "$work/cargo-metadata.json" --no-fail-fast || rust_tests=$?
step "the shipped artifacts (wheel, npm addon, C library): waiting for their build"
wait_for "$artifacts" "$work/artifacts.log"
[ "$rust_tests" = 0 ] || { echo "the Rust tests failed (above)" >&2; exit 1; }

step "Python: the wheel into a fresh venv, pytest"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check bindings-python/dist/*.whl 'pytest==8.4.2' 'mypy==2.4.1'
# From outside the source tree, so the installed wheel is what gets imported.
(cd "$work" && "$work/venv/bin/python" -m pytest -q "$root/bindings-python/tests")

step "Node: the npm package into an empty folder, node --test, tsc"
(
  cd bindings-node
  git diff --exit-code -- index.d.ts index.js \
    || { echo "bindings-node: the generated index.d.ts/index.js changed: commit them" >&2; exit 1; }
  npm pack --silent --pack-destination "$work" >/dev/null
)
tar -tzf "$work"/faceprint-[0-9]*.tgz > "$work/contents"
grep -q 'package/libonnxruntime.so.1.31.1' "$work/contents" \
  || { echo "the npm package does not bundle ONNX Runtime" >&2; exit 1; }
mkdir "$work/app"
(cd "$work/app" && npm init -y >/dev/null && npm install --offline --no-audit --no-fund --loglevel=error "$work"/faceprint-[0-9]*.tgz)
FACEPRINT_NODE_PACKAGE="$work/app/node_modules/faceprint" node --test bindings-node/test/*.test.js
(cd bindings-node && npm run --silent typecheck)

step "Installs: model packages, then every artifact installed and run away from the checkout"
models/packages/build.sh
tests/install/run.sh "$work/install" "$(ls "$work"/faceprint-[0-9]*.tgz)"

step "Parity: Rust, C, Python, Node"
python3 tests/parity/check.py --python "$work/venv/bin/python" --node-package "$work/app/node_modules/faceprint" \
  --target target/x86_64-unknown-linux-gnu/release
step "README: every shell, Python, Node and CMake block, run as written"
python3 tests/docs/run_readme.py

step "Servers in headless Chromium: the face-login page"
node tests/browser/auth.mjs "$root/target/x86_64-unknown-linux-gnu/release/faceprint-auth"
step "Servers: the attendance dashboard"
node tests/browser/attendance.mjs "$root/target/x86_64-unknown-linux-gnu/release/faceprint-attendance"
step "Servers: the KYC pages"
node tests/browser/kyc.mjs "$root/target/x86_64-unknown-linux-gnu/release/faceprint-kyc"
step "all tests passed"
