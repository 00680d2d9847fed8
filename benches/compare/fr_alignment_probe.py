#!/usr/bin/env python3
"""How far the drop-in's alignment is from dlib's, on the first 300 LFW *_0001 images.

  fr_alignment_probe.py points OUT.json    (a Python with the faceprint wheel): YuNet's box and
                                           FaceMesh's 68 points of each image's first face
  fr_alignment_probe.py compare OUT.json   (a Python with face_recognition + dlib): distance of
      face_recognition's own encoding to dlib's descriptor computed from (a) the 5 dlib points
      taken from FaceMesh, (b) all 68 FaceMesh points, (c) dlib's 5-point predictor on the YuNet
      box, (d) dlib's predictor on its own HOG box moved 2 px (dlib's own noise floor)
"""
import glob
import json
import os
import sys
from pathlib import Path

import numpy as np

SHARED = Path(os.environ.get("FACEPRINT_SHARED") or Path(__file__).resolve().parents[2].parent / "shared")


def points(out):
    import faceprint
    e = faceprint.Engine(embedder="dlib-resnet-v1")
    found = {}
    for f in sorted(glob.glob(str(SHARED / "data/lfw/images/*/*_0001.jpg")))[:300]:
        faces = e.detect(f)
        if faces:
            found[f] = {"p68": e.landmarks_68(f, faces[0]).tolist(), "box": faces[0].bbox}
    json.dump(found, open(out, "w"))


def compare(path):
    import dlib
    import face_recognition
    from face_recognition import api
    d = {k: [] for k in ("mesh 5 points", "mesh 68 points", "dlib predictor, YuNet box",
                         "dlib, HOG box moved 2 px")}
    desc = lambda img, shape: np.array(api.face_encoder.compute_face_descriptor(img, shape, 1))  # noqa: E731
    for f, p in json.load(open(path)).items():
        img = face_recognition.load_image_file(f)
        locs = face_recognition.face_locations(img)
        if not locs:
            continue
        own = face_recognition.face_encodings(img, locs[:1])[0]
        x1, y1, x2, y2 = p["box"]
        rect = dlib.rectangle(int(x1), int(y1), int(x2), int(y2))
        pts = lambda idx: [dlib.point(int(round(p["p68"][i][0])), int(round(p["p68"][i][1]))) for i in idx]  # noqa: E731
        d["mesh 5 points"].append(desc(img, dlib.full_object_detection(rect, pts((45, 42, 36, 39, 33)))))
        d["mesh 68 points"].append(desc(img, dlib.full_object_detection(rect, pts(range(68)))))
        d["dlib predictor, YuNet box"].append(desc(img, api.pose_predictor_5_point(img, rect)))
        t, r, b, l = locs[0]
        d["dlib, HOG box moved 2 px"].append(
            desc(img, api.pose_predictor_5_point(img, dlib.rectangle(l + 2, t + 2, r + 2, b + 2))))
        for k in d:
            d[k][-1] = np.linalg.norm(d[k][-1] - own)
    for k, v in d.items():
        v = np.array(v)
        print(f"{k}: distance to face_recognition's encoding median {np.median(v):.3f}, "
              f"p95 {np.percentile(v, 95):.3f} (n={len(v)})")


if __name__ == "__main__":
    {"points": points, "compare": compare}[sys.argv[1]](sys.argv[2])
