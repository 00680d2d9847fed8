"""Binding overhead: per-image `extract_largest` time through Rust, Python (bytes and a numpy
array) and Node (Buffer, async and sync), on the same LFW images, in one run, one thread each.
The languages take turns round by round so machine noise hits them alike; the report is each
one's median ms per image and its ratio to Rust.

    python3 benches/bindings/overhead.py --python VENV_PYTHON --node-package DIR [--rounds 15]
"""

import argparse
import json
import os
import statistics
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PY = r"""
import json, sys, time
import numpy as np
import faceprint
rounds, paths = int(sys.argv[1]), sys.argv[2:]
engine = faceprint.Engine()
blobs = [open(p, "rb").read() for p in paths]
arrays = [engine.decode(b) for b in blobs]
for b in blobs: engine.extract_largest(b)
out = {"bytes": [], "numpy": []}
for _ in range(rounds):
    for kind, items in (("bytes", blobs), ("numpy", arrays)):
        t = time.perf_counter()
        for x in items: engine.extract_largest(x)
        out[kind].append((time.perf_counter() - t) * 1000 / len(items))
print(json.dumps(out))
"""

NODE = r"""
const fs = require('fs')
const fp = require(process.env.FACEPRINT_NODE_PACKAGE)
const [rounds, ...paths] = process.argv.slice(1)
const engine = new fp.Engine()
const blobs = paths.map((p) => fs.readFileSync(p))
async function main() {
  for (const b of blobs) await engine.extractLargest(b)
  const out = { async: [], sync: [] }
  for (let r = 0; r < Number(rounds); r++) {
    let t = process.hrtime.bigint()
    for (const b of blobs) await engine.extractLargest(b)
    out.async.push(Number(process.hrtime.bigint() - t) / 1e6 / blobs.length)
    t = process.hrtime.bigint()
    for (const b of blobs) engine.extractLargestSync(b)
    out.sync.push(Number(process.hrtime.bigint() - t) / 1e6 / blobs.length)
  }
  console.log(JSON.stringify(out))
}
main()
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True)
    ap.add_argument("--node-package", required=True)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--images", type=int, default=20)
    args = ap.parse_args()
    shared = Path(os.environ.get("FACEPRINT_SHARED", REPO.parent / "shared"))
    lfw = shared / "data" / "lfw" / "images"
    people = sorted(p for p in lfw.iterdir() if p.is_dir())[: args.images]
    paths = [str(sorted(p.iterdir())[0]) for p in people]
    env = dict(os.environ, FACEPRINT_MODELS=os.environ.get("FACEPRINT_MODELS", str(REPO / "models")),
               FACEPRINT_ORT_LIB=os.environ.get("FACEPRINT_ORT_LIB",
                                                str(REPO / ".faceprint/lib/libonnxruntime.so.1.31.1")),
               FACEPRINT_NODE_PACKAGE=args.node_package)
    rust_exe = str(REPO / "target" / "x86_64-unknown-linux-gnu" / "release" / "extract-timing")
    samples = {"rust": [], "python bytes": [], "python numpy": [], "node async": [], "node sync": []}
    # A few rounds per process, processes interleaved.
    chunk = 3
    for _ in range(0, args.rounds, chunk):
        r = json.loads(subprocess.check_output([rust_exe, str(chunk), *paths], env=env))
        samples["rust"] += r["ms_per_image"]
        p = json.loads(subprocess.check_output([args.python, "-c", PY, str(chunk), *paths], env=env))
        samples["python bytes"] += p["bytes"]
        samples["python numpy"] += p["numpy"]
        n = json.loads(subprocess.check_output(["node", "-e", NODE, str(chunk), *paths], env=env))
        samples["node async"] += n["async"]
        samples["node sync"] += n["sync"]
    base = statistics.median(samples["rust"])
    print(f"{len(paths)} LFW images, {len(samples['rust'])} rounds each, median ms per image:")
    for name, xs in samples.items():
        m = statistics.median(xs)
        print(f"  {name:<13} {m:7.2f} ms   {100 * (m / base - 1):+6.1f} % vs Rust")


if __name__ == "__main__":
    main()
