"""Runs the Rust, C, Python and Node parity dumps on the same inputs and compares them.

    python3 tests/parity/check.py --python VENV_PYTHON --node-package DIR

Fails unless embeddings agree within 1e-6, scores within 1e-6, and decisions, the identified
subject, every error code and face_recognition's boxes and points (dlib_faces) exactly."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOLERANCE = 1e-6


def run(name, cmd, env):
    print(f"-- {name}: {' '.join(map(str, cmd))}", flush=True)
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"{name} dump failed ({out.returncode}):\n{out.stderr}")
    return json.loads(out.stdout)


def snake(key):
    return "".join("_" + c.lower() if c.isupper() else c for c in key).replace("data2", "data_2")


def from_node_shape(value):
    """Node's document JSON (camelCase keys, boxes as [x1, y1, x2, y2]) in the core's shape."""
    if isinstance(value, dict):
        return {snake(k): dict(zip(("x1", "y1", "x2", "y2"), v)) if k == "bbox" else from_node_shape(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [from_node_shape(v) for v in value]
    return value


def differences(a, b, where=""):
    """Where two JSON values differ: numbers by more than TOLERANCE, anything else at all."""
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        if isinstance(a, dict) and isinstance(b, dict):
            if a.keys() != b.keys():
                return [f"{where}: keys {sorted(a)} != {sorted(b)}"]
            return [d for k in a for d in differences(a[k], b[k], f"{where}.{k}")]
        if isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                return [f"{where}: {len(a)} items != {len(b)}"]
            return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{where}[{i}]")]
        return [] if a == b else [f"{where}: {a!r} != {b!r}"]
    return [] if abs(a - b) <= TOLERANCE * max(1.0, abs(a)) else [f"{where}: {a} != {b}"]


def from_c(d):
    """The C dump's `c_manage` (the JSON strings the C calls return) in the others' shape."""
    m = d.pop("c_manage")
    rows = lambda listed: [[s["external_id"], s["templates"], s["disabled"]] for s in listed]  # noqa: E731
    d["embeddings"]["batch_a"] = m["batch_a"]
    d["embeddings"]["dlib_first"] = m["dlib_first"]
    d["dlib"] = m["dlib"]
    d["manage"] = {
        "batch": m["batch"],
        "batch_progress": m["batch_progress"],
        "listed_disabled": rows(m["listed_disabled"]),
        "verify_disabled": m["verify_disabled"],
        "identify_disabled": m["identify_disabled"],
        "verify_enabled": m["verify_enabled"],
        "export": [m["export"]["subject"]["external_id"], len(m["export"]["templates"]),
                   m["export"]["templates"][0]["embedding"]["model_id"]],
        "deleted_template_of": m["deleted_template_of"],
        "listed_after": rows(m["listed_after"]),
        "collections": [[c["name"], c["model_id"], c["dim"]] for c in m["collections"]],
    }
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True, help="a Python with the faceprint wheel installed")
    ap.add_argument("--node-package", required=True, help="an installed faceprint npm package")
    ap.add_argument("--shared", default=os.environ.get("FACEPRINT_SHARED", REPO.parent / "shared"))
    ap.add_argument("--target", default=str(REPO / "target" / "x86_64-unknown-linux-gnu" / "release"),
                    help="the cargo output directory holding libfaceprint.so and parity-dump "
                         "(./setup.sh builds them in target/x86_64-unknown-linux-gnu/release)")
    args = ap.parse_args()
    data = Path(args.shared) / "data"
    lfw, dev = data / "lfw" / "images", data / "dev"
    env = dict(os.environ, FACEPRINT_MODELS=os.environ.get("FACEPRINT_MODELS", str(REPO / "models")),
               FACEPRINT_ORT_LIB=os.environ.get("FACEPRINT_ORT_LIB",
                                                str(REPO / ".faceprint/lib/libonnxruntime.so.1.31.1")))
    target = Path(args.target).resolve()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        exe = tmp / "dump_c"
        subprocess.run(
            ["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", f"-I{REPO / 'include'}",
             str(REPO / "tests/parity/dump.c"), f"-L{target}", "-lfaceprint", "-lm",
             f"-Wl,-rpath,{target}", "-o", str(exe)],
            check=True,
        )
        inputs = [str(lfw), str(dev), str(tmp)]
        dumps = {
            "rust": run("rust", [str(target / "parity-dump"), *inputs], env),
            "c": from_c(run("c", [str(exe), *inputs], env)),
            "python": run("python", [args.python, str(REPO / "tests/parity/dump.py"), *inputs], env),
            "node": run("node", ["node", str(REPO / "tests/parity/dump.js"), *inputs],
                        dict(env, FACEPRINT_NODE_PACKAGE=str(args.node_package))),
        }
    dumps["node"]["document"] = from_node_shape(dumps["node"].pop("node_document"))

    ref = dumps["rust"]
    failures = []
    for lang, d in dumps.items():
        worst = 0.0
        for name, vec in ref["embeddings"].items():
            other = d["embeddings"][name]
            if len(other) != len(vec):
                failures.append(f"{lang}: embedding {name} has {len(other)} dimensions, not {len(vec)}")
                continue
            worst = max(worst, max(abs(x - y) for x, y in zip(vec, other)))
        score_diffs = [abs(ref["scores"][k] - d["scores"][k]) for k in ref["scores"]]
        score_diffs += [abs(ref["verify"]["score"] - d["verify"]["score"]),
                        abs(ref["identify"][1] - d["identify"][1])]
        print(f"{lang:>7}: max embedding diff {worst:.2e}, max score diff {max(score_diffs):.2e}")
        if worst > TOLERANCE:
            failures.append(f"{lang}: embeddings differ by {worst:.2e}")
        if max(score_diffs) > TOLERANCE:
            failures.append(f"{lang}: scores differ by {max(score_diffs):.2e}")
        for key in ("same",):
            if d[key] != ref[key]:
                failures.append(f"{lang}: decisions {d[key]} != {ref[key]}")
        if d["verify"]["matched"] != ref["verify"]["matched"] or d["identify"][0] != ref["identify"][0]:
            failures.append(f"{lang}: verify/identify decision differs")
        if d["manage"] != ref["manage"]:
            failures.append(f"{lang}: batch / subject management differs: {d['manage']} != {ref['manage']}")
        if d["dlib"] != ref["dlib"]:
            failures.append(f"{lang}: face_recognition's boxes and points differ: {d['dlib']} != {ref['dlib']}")
        for key in ("document", "document_match", "document_errors"):
            failures += [f"{lang}: {key}{x}" for x in differences(ref[key], d[key])]
        if d["errors"] != ref["errors"]:
            failures.append(f"{lang}: error codes {d['errors']} != {ref['errors']}")
    print("error codes:", json.dumps(ref["errors"]))
    print("batch and management:", json.dumps(ref["manage"]))
    print("face_recognition's boxes:", json.dumps(ref["dlib"]["boxes"]))
    print("document:", ref["document"]["mrz"]["lines"], "verified", ref["document"]["verified"],
          "match", ref["document_match"], ref["document_errors"])
    if failures:
        sys.exit("PARITY FAILED:\n  " + "\n  ".join(failures))
    print("parity: Rust, C, Python and Node agree")


if __name__ == "__main__":
    main()
