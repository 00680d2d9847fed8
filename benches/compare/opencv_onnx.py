#!/usr/bin/env python3
"""Reference pipeline in Python: OpenCV's FaceDetectorYN (YuNet) + cv2.warpAffine + onnxruntime
(the OMZ 0095 embedder by default, or dlib's ResNet), the same ONNX models Faceprint uses, with
each model's input facts from MODELS.md. Used two ways:

  speed:     opencv_onnx.py speed --models DIR --list FILE [--embedder omz-reid-0095|dlib-resnet-v1]
             median ms/image per stage, 1 thread
  accuracy:  opencv_onnx.py lfw --models DIR --images DIR --pairs FILE [--embedder ...]
             10-fold LFW accuracy

Needs: opencv-python-headless, onnxruntime, numpy.
"""
import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402

# file, crop side, alignment template, whether the model takes RGB (else BGR); raw 0..255 both.
EMBEDDERS = {
    "dlib-resnet-v1": ("face_embedding_dlib_resnet_v1.onnx", 150, np.array(
        [[44.73, 46.17], [102.35, 45.66], [73.61, 76.64], [49.70, 102.30], [97.86, 101.90]], np.float32), True),
    "omz-reid-0095": ("face_embedding_omz_reid_retail_0095.onnx", 128, np.array(
        [[40.3928, 59.0815], [87.3757, 59.0815], [64.0336, 81.9847], [44.7324, 105.5606], [83.6400, 105.5606]],
        np.float32), False),
}


class Pipeline:
    def __init__(self, models, score=0.9, embedder="omz-reid-0095"):
        file, self.side, self.template, self.rgb = EMBEDDERS[embedder]
        cv2.setNumThreads(1)
        self.det = cv2.FaceDetectorYN.create(os.path.join(models, "face_detection_yunet_2023mar_dynamic.onnx"), "",
                                             (320, 320), score, 0.3, 5000)
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        self.emb = ort.InferenceSession(os.path.join(models, file), so,
                                        providers=["CPUExecutionProvider"])
        self.score = score

    def detect(self, bgr, score=None):
        h, w = bgr.shape[:2]
        s = min(1.0, 640 / max(h, w))
        img = bgr if s == 1.0 else cv2.resize(bgr, (round(w * s), round(h * s)))
        self.det.setInputSize((img.shape[1], img.shape[0]))
        self.det.setScoreThreshold(score or self.score)
        _, faces = self.det.detect(img)
        if faces is None:
            return []
        faces = faces.copy()
        faces[:, :14] /= s
        return list(faces)

    def align(self, bgr, face):
        pts = face[4:14].reshape(5, 2).astype(np.float32)
        # Exact least-squares similarity (Umeyama) rather than a robust estimate:
        m = umeyama(pts, self.template)
        crop = cv2.warpAffine(bgr, m, (self.side, self.side), flags=cv2.INTER_LINEAR, borderValue=0)
        return crop

    def embed(self, crop_bgr):
        x = (crop_bgr[:, :, ::-1] if self.rgb else crop_bgr).transpose(2, 0, 1)[None].astype(np.float32)
        v = self.emb.run(None, {"input": x})[0][0]
        return v / np.linalg.norm(v)


def umeyama(src, dst):
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    var = (s ** 2).sum()
    a = (s[:, 0] * d[:, 0] + s[:, 1] * d[:, 1]).sum() / var
    b = (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum() / var
    m = np.array([[a, -b, 0], [b, a, 0]], np.float64)
    m[:, 2] = md - m[:, :2] @ ms
    return m


def speed(args):
    p = Pipeline(args.models, embedder=args.embedder)
    paths = [l.strip() for l in open(args.list) if l.strip()]
    stages = {"decode": [], "detect": [], "align": [], "embed": [], "total": []}
    for rep in range(args.repeat + 1):
        for path in paths:
            data = open(path, "rb").read()
            t0 = time.perf_counter()
            bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            t1 = time.perf_counter()
            faces = p.detect(bgr)
            t2 = time.perf_counter()
            crops = [p.align(bgr, f) for f in faces[:1]]
            t3 = time.perf_counter()
            for c in crops:
                p.embed(c)
            t4 = time.perf_counter()
            if rep == 0:
                continue  # warm-up pass
            for k, v in zip(stages, [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0]):
                stages[k].append(v * 1000)
    print(json.dumps({"pipeline": "opencv FaceDetectorYN + onnxruntime", "embedder": args.embedder, "images": len(paths),
                      "median_ms": {k: round(statistics.median(v), 3) for k, v in stages.items()}}))


def lfw(args):
    p = Pipeline(args.models, embedder=args.embedder)
    lines = open(args.pairs).read().split("\n")
    folds, per = map(int, lines[0].split())
    pairs, cache = [], {}
    def path(n, i):
        return os.path.join(args.images, n, f"{n}_{int(i):04d}.jpg")
    for l in lines[1:1 + folds * 2 * per]:
        t = l.split()
        pairs.append((path(t[0], t[1]), path(t[0], t[2]), True) if len(t) == 3 else (path(t[0], t[1]), path(t[2], t[3]), False))
    def emb(fp):
        if fp not in cache:
            bgr = cv2.imread(fp)
            faces = p.detect(bgr) or p.detect(bgr, 0.3)
            if not faces:
                cache[fp] = None
            else:
                c = np.array([bgr.shape[1] / 2, bgr.shape[0] / 2])
                f = min(faces, key=lambda f: ((f[0] + f[2] / 2 - c[0]) ** 2 + (f[1] + f[3] / 2 - c[1]) ** 2))
                cache[fp] = p.embed(p.align(bgr, f))
        return cache[fp]
    scores = np.array([float(emb(a) @ emb(b)) if emb(a) is not None and emb(b) is not None else -1 for a, b, _ in pairs])
    same = np.array([s for _, _, s in pairs])
    fold = np.repeat(np.arange(folds), 2 * per)
    accs = []
    for k in range(folds):
        tr, te = fold != k, fold == k
        cands = np.unique(scores[tr])
        best = max(cands, key=lambda t: ((scores[tr] >= t) == same[tr]).mean())
        accs.append(((scores[te] >= best) == same[te]).mean())
    print(json.dumps({"accuracy": float(np.mean(accs)), "std": float(np.std(accs))}))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("speed"); s.add_argument("--models", required=True); s.add_argument("--list", required=True)
    s.add_argument("--repeat", type=int, default=1)
    l = sub.add_parser("lfw"); l.add_argument("--models", required=True); l.add_argument("--images", required=True)
    l.add_argument("--pairs", required=True)
    for parser in (s, l):
        parser.add_argument("--embedder", choices=sorted(EMBEDDERS), default="omz-reid-0095")
    a = ap.parse_args()
    speed(a) if a.cmd == "speed" else lfw(a)
