#!/usr/bin/env python3
"""Where the face_recognition drop-in's constants come from: the box dlib's HOG detector draws
around a face YuNet found (core/src/landmarks/dlib.rs, HOG_CENTRE_WEIGHTS and HOG_SIDE), and the
test fixture of dlib's own outputs (core/tests/fixtures/dlib_face_recognition.json).

Runs on 1,200 LFW images outside the 6,000 test pairs (a fixed shuffle), in two interpreters:

  fr_alignment_fit.py dlib OUT.json      (face_recognition + dlib): per image, the HOG box of
                                         the first face, dlib's 5 points in it, the encoding
  fr_alignment_fit.py faceprint DLIB.json OUT.json   (the faceprint wheel): YuNet's box and
                                         five points of the face overlapping that HOG box
  fr_alignment_fit.py fit DLIB.json FACEPRINT.json   least squares: HOG box centre = YuNet box
                                         centre + sum w_i (point_i - box centre); side =
                                         a * width + b * height; prints the constants and errors
  fr_alignment_fit.py fixture DLIB.json OUT.json     the first 40 images' boxes, points and
                                         encodings, for the core test
"""
import json
import os
import random
import sys
from pathlib import Path

import numpy as np

SHARED = Path(os.environ.get("FACEPRINT_SHARED") or Path(__file__).resolve().parents[2].parent / "shared")
LFW = SHARED / "data" / "lfw"


def fit_images(n=1200):
    """LFW images that are in no test pair, shuffled with a fixed seed."""
    in_pairs = set()
    img = lambda p, k: f"{p}/{p}_{int(k):04d}.jpg"  # noqa: E731
    for line in (LFW / "pairs.txt").read_text().split("\n")[1:]:
        f = line.split()
        if len(f) == 3:
            in_pairs |= {img(f[0], f[1]), img(f[0], f[2])}
        elif len(f) == 4:
            in_pairs |= {img(f[0], f[1]), img(f[2], f[3])}
    rest = sorted(str(p.relative_to(LFW / "images")) for p in (LFW / "images").glob("*/*.jpg"))
    rest = [p for p in rest if p not in in_pairs]
    random.Random(0).shuffle(rest)
    return rest[:n]


def dlib_side(out):
    import dlib
    import face_recognition
    from face_recognition import api
    found = {}
    for i, name in enumerate(fit_images()):
        image = face_recognition.load_image_file(str(LFW / "images" / name))
        locations = face_recognition.face_locations(image)
        if not locations:
            continue
        top, right, bottom, left = locations[0]
        shape = api.pose_predictor_5_point(image, dlib.rectangle(left, top, right, bottom))
        encoding = api.face_encoder.compute_face_descriptor(image, shape, 1)
        found[name] = {"hog_box": [left, top, right, bottom],
                       "points": [[p.x, p.y] for p in shape.parts()],
                       "encoding": [round(float(v), 6) for v in encoding]}
        if (i + 1) % 100 == 0:
            print(f"{i + 1} images", file=sys.stderr, flush=True)
    json.dump(found, open(out, "w"))


def iou(a, b):
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / union


def faceprint_side(dlib_json, out):
    import faceprint
    engine = faceprint.Engine(embedder="dlib-resnet-v1")
    found = {}
    for name, d in json.load(open(dlib_json)).items():
        faces = engine.detect(str(LFW / "images" / name))
        best = max(faces, key=lambda f: iou(f.bbox, d["hog_box"]), default=None)
        if best is not None and iou(best.bbox, d["hog_box"]) >= 0.3:
            found[name] = {"box": list(best.bbox), "landmarks": best.landmarks.tolist()}
    json.dump(found, open(out, "w"))


def fit(dlib_json, faceprint_json):
    d, f = json.load(open(dlib_json)), json.load(open(faceprint_json))
    names = [n for n in f if n in d]
    hog = np.array([d[n]["hog_box"] for n in names], float)
    box = np.array([f[n]["box"] for n in names], float)
    points = np.array([f[n]["landmarks"] for n in names], float)
    centre = (box[:, :2] + box[:, 2:]) / 2
    target = (hog[:, :2] + hog[:, 2:]) / 2
    side = hog[:, 2] - hog[:, 0]
    rel = points - centre[:, None, :]
    a = np.concatenate([rel[:, :, 0], rel[:, :, 1]])
    w = np.linalg.lstsq(a, np.concatenate([target[:, 0] - centre[:, 0], target[:, 1] - centre[:, 1]]),
                        rcond=None)[0]
    err = np.linalg.norm(centre + np.einsum("j,njd->nd", w, rel) - target, axis=1) / side
    size = np.stack([box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]], 1)
    s = np.linalg.lstsq(size, side, rcond=None)[0]
    serr = np.abs(size @ s - side) / side
    print(f"{len(names)} faces")
    print(f"HOG_CENTRE_WEIGHTS = {np.round(w, 3).tolist()}: centre error / side median "
          f"{np.median(err):.3f}, p95 {np.percentile(err, 95):.3f}")
    print(f"HOG_SIDE = {np.round(s, 3).tolist()}: side error median {np.median(serr):.3f}, "
          f"p95 {np.percentile(serr, 95):.3f}")


def fixture(dlib_json, out):
    d = json.load(open(dlib_json))
    faces = [{"image": n, **v} for n, v in list(d.items())[:40]]
    json.dump({"source": "face_recognition 1.3.0 with dlib-bin 20.0.1.post1 and face_recognition_models "
                         "0.3.0 on LFW images outside the 6,000 test pairs "
                         "(benches/compare/fr_alignment_fit.py fixture)",
               "faces": faces}, open(out, "w"))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"dlib": dlib_side, "faceprint": faceprint_side, "fit": fit, "fixture": fixture}[cmd](*args)
