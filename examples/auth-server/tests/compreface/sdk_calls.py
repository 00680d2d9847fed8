"""Drives every call of the real CompreFace Python client (PyPI compreface-sdk 0.6.0) against a
running faceprint-auth, with real photos. Usage: sdk_calls.py URL PORT API_KEY OTHER_API_KEY DATA_DIR

Prints one JSON line per step; exits non-zero on the first wrong answer."""
import json
import os
import sys

from compreface import CompreFace
from compreface.service import DetectionService, RecognitionService, VerificationService

url, port, key, other_key, data = sys.argv[1:6]
named = os.path.join(data, "dev/faces/named")
obama1 = os.path.join(named, "obama_obama.jpg")
obama2 = os.path.join(named, "obama_obama2.jpg")
biden1 = os.path.join(named, "biden_biden.jpg")
biden2 = os.path.join(named, "biden_biden2.jpg")
group = os.path.join(named, "test_obama_and_biden.jpg")


def step(name, got, ok):
    print(json.dumps({"step": name, "ok": bool(ok), "got": got})[:600], flush=True)
    if not ok:
        sys.exit(f"step {name} failed: {got}")


cf = CompreFace(url, port, {"limit": 0, "det_prob_threshold": 0.8, "prediction_count": 1, "status": "true"})
rec: RecognitionService = cf.init_face_recognition(key)
det: DetectionService = cf.init_face_detection(key)
ver: VerificationService = cf.init_face_verification(key)
subjects = rec.get_subjects()
faces = rec.get_face_collection()

r = subjects.delete_all()
step("subjects.delete_all (clean start)", r, "deleted" in r)
r = subjects.add("obama")
step("subjects.add", r, r == {"subject": "obama"})
r = subjects.add("biden-tmp")
step("subjects.add second", r, r == {"subject": "biden-tmp"})
r = subjects.update("biden-tmp", "biden")
step("subjects.update (rename)", r, r == {"updated": True})
r = subjects.list()
step("subjects.list", r, sorted(r["subjects"]) == ["biden", "obama"])

a = faces.add(obama1, "obama")
step("faces.add obama", a, a.get("subject") == "obama" and a.get("image_id"))
b = faces.add(biden1, "biden")
step("faces.add biden", b, b.get("subject") == "biden" and b.get("image_id"))
with open(obama2, "rb") as f:
    c = faces.add(f.read(), "obama")  # bytes, not a path
step("faces.add obama from bytes", c, c.get("subject") == "obama")
r = faces.list()
step("faces.list", r, r.get("total_elements") == 3 and len(r["faces"]) == 3)

r = rec.recognize(biden2)
best = r["result"][0]["subjects"][0]
step("recognize biden", r, best["subject"] == "biden" and best["similarity"] > 0.4 and "box" in r["result"][0])
r = rec.recognize(group, {"limit": 0, "prediction_count": 2, "face_plugins": "landmarks,calculator"})
# The photo has three faces: Obama, Biden and a third person.
names = sorted(x["subjects"][0]["subject"] for x in r["result"])
step("recognize group with plugins", {"names": names, "landmarks": len(r["result"][0].get("landmarks", [])), "embedding": len(r["result"][0].get("embedding", []))},
     len(r["result"]) == 3 and {"biden", "obama"} <= set(names) and len(r["result"][0]["landmarks"]) == 5 and len(r["result"][0]["embedding"]) > 100 and len(r["result"][0]["subjects"]) == 2)

r = faces.verify(obama2, a["image_id"])
step("faces.verify same person", r, r["result"][0]["similarity"] > 0.45)
r = faces.verify(biden2, a["image_id"])
step("faces.verify other person", r, r["result"][0]["similarity"] < 0.3)

r = det.detect(group)
step("detection.detect", r, len(r["result"]) == 3 and all("box" in x for x in r["result"]))

r = ver.verify(obama1, obama2)
sim = r["result"][0]["face_matches"][0]["similarity"]
step("verification.verify same", r, sim > 0.45)
r = ver.verify(obama1, biden1)
step("verification.verify different", r, r["result"][0]["face_matches"][0]["similarity"] < 0.3)

# Another tenant's key sees none of this collection.
other = CompreFace(url, port).init_face_recognition(other_key)
r = other.get_subjects().list()
step("other tenant: subjects", r, r == {"subjects": []})
r = other.get_face_collection().delete(a["image_id"])
step("other tenant: cannot delete an image of this tenant", r, r.get("error") == "not_found")
r = other.recognize(obama2)
step("other tenant: recognize finds nobody", r, r["result"][0]["subjects"] == [])

r = faces.delete(c["image_id"])
step("faces.delete by image id", r, r == {"image_id": c["image_id"], "subject": "obama"})
r = faces.list()
step("faces.list after delete", r, r["total_elements"] == 2)
r = faces.delete_all("biden")
step("faces.delete_all of subject", r, r == {"deleted": 1})
r = rec.recognize(biden2)
step("recognize after deleting biden's examples", r, all(s["subject"] != "biden" for s in r["result"][0]["subjects"]))
r = subjects.delete("biden")
step("subjects.delete", r, r == {"subject": "biden"})
r = subjects.list()
step("subjects.list after delete", r, r == {"subjects": ["obama"]})
r = subjects.delete_all()
step("subjects.delete_all", r, r == {"deleted": 1})
r = faces.list()
step("faces.list empty", r, r["total_elements"] == 0)
print(json.dumps({"done": True}))
