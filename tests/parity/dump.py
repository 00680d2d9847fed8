"""The Python side of the language parity check. Usage: dump.py LFW_DIR DEV_DIR TMP_DIR"""

import json
import sys
from pathlib import Path

import numpy as np

import faceprint

lfw, dev, tmp = (Path(a) for a in sys.argv[1:4])
photo = lambda person, n: lfw / person / f"{person}_{n:04d}.jpg"  # noqa: E731
engine = faceprint.Engine(store=faceprint.Store.memory())

faces = {"a": ("Tony_Blair", 1), "b": ("Tony_Blair", 2), "c": ("George_W_Bush", 2)}
emb = {name: engine.extract_largest(photo(*pn)) for name, pn in faces.items()}
scores, same = {}, {}
for pair, x, y in (("a_b", "a", "b"), ("a_c", "a", "c")):
    c = engine.compare(emb[x], emb[y])
    scores[pair], same[pair] = c.score, c.same

engine.enroll("parity", "tony", [photo("Tony_Blair", 1), photo("Tony_Blair", 2)])
engine.enroll("parity", "george", [photo("George_W_Bush", 1)])
v = engine.verify("parity", "tony", photo("Tony_Blair", 10))
best = engine.identify("parity", photo("George_W_Bush", 5), top_k=1)[0]

truncated = tmp / "truncated.jpg"
truncated.write_bytes(photo("Tony_Blair", 3).read_bytes()[:5000])
nan = emb["a"].embedding.copy()
nan[2] = np.nan


def code(call):
    try:
        call()
        return "ok"
    except faceprint.FaceprintError as e:
        return e.code


errors = {
    "empty": code(lambda: engine.extract_largest(b"")),
    "garbage": code(lambda: engine.extract_largest(b"not an image")),
    "truncated": code(lambda: engine.extract_largest(truncated)),
    "missing": code(lambda: engine.extract_largest("/nonexistent/photo.jpg")),
    "no_face": code(lambda: engine.extract_largest(dev / "hard/non_face/skimage_coffee.png")),
    "nan_vector": code(lambda: engine.embedding_from_vector(nan)),
    "wrong_dim": code(lambda: engine.embedding_from_vector(np.ones(7, np.float32))),
    "unknown_subject": code(lambda: engine.verify("parity", "nobody", photo("Tony_Blair", 1))),
}
print(json.dumps({
    "embeddings": {k: [float(x) for x in e.embedding] for k, e in emb.items()},
    "scores": scores,
    "same": same,
    "verify": {"score": v.score, "matched": v.matched},
    "identify": [best.subject, best.score],
    "errors": errors,
}))
