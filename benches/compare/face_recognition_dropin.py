#!/usr/bin/env python3
"""face_recognition 1.3 against faceprint.face_recognition on LFW, running one script.

The script (`encode` below) is what a face_recognition user writes: load_image_file, then
face_encodings, first face. It runs in two interpreters: one with face_recognition (dlib-bin,
face_recognition_models), one with the faceprint wheel — the import line is the only difference.
Each writes the encodings of every LFW image in the pairs file (in shards, to use every core);
`speed` times the script alone, one process each, on a quiet machine; `report` gives
  - how often compare_faces at tolerance 0.6 agrees on all 6,000 pairs, and each one's accuracy,
  - how our encodings compare with face_recognition's for the same image (distance), and whether
    face_recognition's stored encodings still match ours (a stored encoding against a new one).
Usage:
  face_recognition_dropin.py encode --impl face_recognition|faceprint --out F.npz [--shard K/N]
  face_recognition_dropin.py speed --impl face_recognition|faceprint [--images 500]
  face_recognition_dropin.py report --face-recognition A*.npz --faceprint B*.npz
(`benches/compare/face_recognition_dropin.sh` sets up both interpreters and runs all of it.)
"""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("FACEPRINT_SHARED", REPO.parent / "shared"))
LFW = SHARED / "data" / "lfw"


def pairs():
    """(image_a, image_b, same) for the 6,000 official pairs."""
    lines = (LFW / "pairs.txt").read_text().split("\n")[1:]
    out = []
    img = lambda p, n: f"{p}/{p}_{int(n):04d}.jpg"  # noqa: E731
    for line in lines:
        f = line.split()
        if len(f) == 3:
            out.append((img(f[0], f[1]), img(f[0], f[2]), True))
        elif len(f) == 4:
            out.append((img(f[0], f[1]), img(f[2], f[3]), False))
    return out


def load_impl(impl: str):
    if impl == "face_recognition":
        import face_recognition
    else:
        from faceprint import face_recognition
    return face_recognition


def script(face_recognition, path: str):
    """What a face_recognition user writes: the first face's encoding, or None."""
    image = face_recognition.load_image_file(path)
    encodings = face_recognition.face_encodings(image)
    return encodings[0] if encodings else None


def lfw_images():
    return sorted({p for a, b, _ in pairs() for p in (a, b)})


def encode(impl: str, out: str, shard: str) -> None:
    """Encodings of every pair image (or every N-th from K with --shard K/N)."""
    k, n = (int(v) for v in shard.split("/"))
    face_recognition = load_impl(impl)
    images = lfw_images()[k::n]
    names, vectors = [], []
    for i, name in enumerate(images):
        v = script(face_recognition, str(LFW / "images" / name))
        if v is not None:
            names.append(name)
            vectors.append(v)
        if (i + 1) % 500 == 0:
            print(f"{impl} {shard}: {i + 1}/{len(images)}", file=sys.stderr, flush=True)
    np.savez(out, names=np.array(names), vectors=np.array(vectors), images=len(images))


def speed(impl: str, count: int) -> None:
    """Images per second of the script over the first `count` pair images, one process."""
    face_recognition = load_impl(impl)
    images = lfw_images()[:count]
    script(face_recognition, str(LFW / "images" / images[0]))  # models loaded before timing
    start = time.perf_counter()
    for name in images:
        script(face_recognition, str(LFW / "images" / name))
    elapsed = time.perf_counter() - start
    print(f"{impl}: {count} images in {elapsed:.1f} s, {count / elapsed:.2f} img/s")


def merged(paths):
    names, vectors, images = [], [], 0
    for p in paths:
        d = np.load(p)
        names += list(d["names"])
        vectors += list(d["vectors"])
        images += int(d["images"])
    return dict(zip(names, vectors)), images


def report(a_paths, b_paths) -> None:
    ea, a_images = merged(a_paths)  # face_recognition
    eb, b_images = merged(b_paths)  # faceprint
    print(f"images with a face: face_recognition {len(ea)}/{a_images}, drop-in {len(eb)}/{b_images}")
    agree = both = 0
    correct = {"face_recognition": 0, "faceprint": 0, "stored": 0}
    counted = {"face_recognition": 0, "faceprint": 0, "stored": 0}
    stored_agree = 0
    for x, y, same in pairs():
        da = db = None
        if x in ea and y in ea:
            da = np.linalg.norm(ea[x] - ea[y]) <= 0.6
            counted["face_recognition"] += 1
            correct["face_recognition"] += da == same
        if x in eb and y in eb:
            db = np.linalg.norm(eb[x] - eb[y]) <= 0.6
            counted["faceprint"] += 1
            correct["faceprint"] += db == same
        if da is not None and db is not None:
            both += 1
            agree += da == db
        if x in ea and y in eb and da is not None:
            # An encoding face_recognition stored, against a new one from the drop-in.
            ds = np.linalg.norm(ea[x] - eb[y]) <= 0.6
            counted["stored"] += 1
            correct["stored"] += ds == same
            stored_agree += ds == da
    print(f"compare_faces(tolerance=0.6) agreement on the {both} of 6000 pairs both encoded: "
          f"{agree / both:.2%} ({both - agree} differ)")
    for k in correct:
        print(f"accuracy at 0.6, {k}: {correct[k] / counted[k]:.2%} of {counted[k]} pairs")
    print(f"stored face_recognition encoding vs a new drop-in one: same decision as "
          f"face_recognition's own in {stored_agree / counted['stored']:.2%}")
    common = sorted(set(ea) & set(eb))
    d = np.array([np.linalg.norm(ea[n] - eb[n]) for n in common])
    print(f"same image, face_recognition vs drop-in encoding: distance median {np.median(d):.3f}, "
          f"p95 {np.percentile(d, 95):.3f}, max {d.max():.3f} (n={len(d)}; tolerance 0.6)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("encode")
    e.add_argument("--impl", choices=["face_recognition", "faceprint"], required=True)
    e.add_argument("--out", required=True)
    e.add_argument("--shard", default="0/1", help="K/N: every N-th image from the K-th")
    sp = sub.add_parser("speed")
    sp.add_argument("--impl", choices=["face_recognition", "faceprint"], required=True)
    sp.add_argument("--images", type=int, default=500)
    r = sub.add_parser("report")
    r.add_argument("--face-recognition", nargs="+", required=True, help=".npz files")
    r.add_argument("--faceprint", nargs="+", required=True, help=".npz files")
    args = ap.parse_args()
    if args.cmd == "encode":
        encode(args.impl, args.out, args.shard)
    elif args.cmd == "speed":
        speed(args.impl, args.images)
    else:
        report(args.face_recognition, args.faceprint)
