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
# Batch extraction, subject management and collections: the same sequence everywhere.
progress_seen = []
batch = engine.extract_batch(
    [photo("Tony_Blair", 1), truncated, photo("George_W_Bush", 2), "/nonexistent/photo.jpg"],
    threads=2, progress=lambda done, total: progress_seen.append(done))
batch_outcomes = [f"faces:{len(item)}" if isinstance(item, list) else item.code for item in batch]
batch_a = batch[0][0]


def subjects():
    return [[s["external_id"], s["templates"], s["disabled"]]
            for s in engine.list_subjects("parity", offset=0, limit=100)]


george5 = photo("George_W_Bush", 5)
engine.disable_subject("parity", "george")
listed_disabled = subjects()
verify_disabled = code(lambda: engine.verify("parity", "george", george5))
identify_disabled = [c.subject for c in engine.identify("parity", george5, top_k=1) if c.matched]
engine.enable_subject("parity", "george")
verify_enabled = engine.verify("parity", "george", george5).matched
export = engine.export_subject("parity", "tony")
deleted_from = engine.delete_template("parity", export["templates"][0]["id"])
engine.delete_subject("parity", "george")
manage = {
    "batch": batch_outcomes,
    "batch_progress": max(progress_seen),
    "listed_disabled": listed_disabled,
    "verify_disabled": verify_disabled,
    "identify_disabled": identify_disabled,
    "verify_enabled": verify_enabled,
    "export": [export["subject"]["external_id"], len(export["templates"]),
               export["templates"][0]["embedding"].model],
    "deleted_template_of": deleted_from,
    "listed_after": subjects(),
    "collections": [[c["name"], c["model_id"], c["dim"]] for c in engine.list_collections()],
}
emb["batch_a"] = batch_a
# face_recognition's faces: dlib boxes and points, and the first one's embedding.
group = dev / "faces/test/obama_and_biden.jpg"
found = engine.dlib_faces(group)
dlib = {"boxes": [[float(v) for v in b] for b, _, _ in found],
        "points": [[[float(x), float(y)] for x, y in p] for _, p, _ in found]}
emb["dlib_first"] = engine.embed(group, [found[0][2]])[0]

# Identity documents: the page as the library reads it, a selfie matched with its portrait, and
# the two document errors a caller sees first.
docs = dev / "documents"
document = engine.read_document(docs / "passport-td3.jpg", visual_zone=True)
dm = engine.match_document(docs / "passport-td3.jpg", docs / "25_pass-uto.jpg")
document_match = {"score": dm["score"], "matched": dm["matched"],
                  "orientation_degrees": dm["portrait"]["orientation_degrees"]}
document_errors = {
    "no_document": code(lambda: engine.read_document(dev / "hard/non_face/skimage_coffee.png")),
    "no_portrait": code(lambda: engine.match_document(docs / "27_pass-gbr.jpg", docs / "25_pass-uto.jpg")),
}

print(json.dumps({
    "document": document,
    "document_match": document_match,
    "document_errors": document_errors,
    "manage": manage,
    "dlib": dlib,
    "embeddings": {k: [float(x) for x in e.embedding] for k, e in emb.items()},
    "scores": scores,
    "same": same,
    "verify": {"score": v.score, "matched": v.matched},
    "identify": [best.subject, best.score],
    "errors": errors,
}))
