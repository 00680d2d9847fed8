#!/usr/bin/env python3
"""ageitgey/face_recognition 1.3 (dlib HOG detector + 68-point landmarks + the same ResNet weights
Faceprint uses), timed per image with the same stage boundaries as Faceprint's pipeline-speed:

    face_recognition_dlib.py --list FILE [--repeat N]

Install: pip install --no-deps face_recognition==1.3.0; pip install dlib-bin face-recognition-models
Click Pillow numpy (dlib-bin avoids compiling dlib). One thread: dlib's CPU code is single-threaded.
"""
import argparse
import io
import json
import statistics
import time

import face_recognition
import numpy as np
from PIL import Image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--list", required=True)
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    paths = [l.strip() for l in open(a.list) if l.strip()]
    files = [open(p, "rb").read() for p in paths]
    stages = {"decode": [], "detect": [], "embed": [], "total": []}
    for rep in range(a.repeat + 1):
        for data in files:
            t0 = time.perf_counter()
            img = np.array(Image.open(io.BytesIO(data)).convert("RGB"))
            t1 = time.perf_counter()
            boxes = face_recognition.face_locations(img)  # HOG, upsample once (the default)
            t2 = time.perf_counter()
            face_recognition.face_encodings(img, boxes[:1])  # 68-point landmarks + chip + ResNet
            t3 = time.perf_counter()
            if rep == 0:
                continue
            for k, v in zip(stages, [t1 - t0, t2 - t1, t3 - t2, t3 - t0]):
                stages[k].append(v * 1000)
    print(json.dumps({"pipeline": "face_recognition 1.3 (dlib)", "images": len(files),
                      "median_ms": {k: round(statistics.median(v), 3) for k, v in stages.items()}}))


if __name__ == "__main__":
    main()
