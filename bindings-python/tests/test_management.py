"""Subject management, collections, batch extraction, pickling and typing of the Python API."""

import pickle
import subprocess
import sys
import threading

import numpy as np
import pytest

import faceprint
from conftest import DEV, lfw


def test_subjects_are_listed_disabled_enabled_exported_and_deleted(engine):
    e = faceprint.Engine(store=faceprint.Store.memory())
    e.enroll("staff", "tony", [lfw("Tony_Blair", 1), lfw("Tony_Blair", 2)], display_name="Tony")
    e.enroll("staff", "george", [lfw("George_W_Bush", 1)])
    assert [c["name"] for c in e.list_collections()] == ["staff"]
    assert e.list_collections()[0]["model_id"] == e.embedder
    listed = e.list_subjects("staff")
    assert [(s["external_id"], s["templates"], s["disabled"]) for s in listed] == [
        ("george", 1, False), ("tony", 2, False)]
    assert e.list_subjects("staff", offset=1, limit=1)[0]["external_id"] == "tony"

    probe = lfw("George_W_Bush", 5)
    e.disable_subject("staff", "george")
    with pytest.raises(faceprint.SubjectDisabledError):
        e.verify("staff", "george", probe)
    assert not [c for c in e.identify("staff", probe) if c.subject == "george" and c.matched]
    e.enable_subject("staff", "george")
    assert e.verify("staff", "george", probe).matched

    export = e.export_subject("staff", "tony")
    assert export["subject"]["display_name"] == "Tony"
    assert len(export["templates"]) == 2
    stored = export["templates"][0]["embedding"]
    assert isinstance(stored, faceprint.FaceEmbedding) and stored.face is None
    assert e.verify_embedding("staff", "tony", stored).matched
    assert e.delete_template("staff", export["templates"][0]["id"]) == "tony"
    assert e.list_subjects("staff")[1]["templates"] == 1
    with pytest.raises(faceprint.NotFoundError):
        e.delete_template("staff", export["templates"][0]["id"])
    e.delete_subject("staff", "george")
    with pytest.raises(faceprint.NotFoundError):
        e.disable_subject("staff", "george")
    assert [s["external_id"] for s in e.list_subjects("staff")] == ["tony"]


def test_extract_batch_in_order_with_progress_and_per_image_errors(engine, tmp_path):
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(lfw("Tony_Blair", 3).read_bytes()[:4000])
    images = [lfw("Tony_Blair", 1), str(cut), lfw("George_W_Bush", 2).read_bytes(),
              "/nonexistent.jpg", np.zeros((64, 64, 3), np.uint8), DEV / "faces/named/test_obama_and_biden.jpg"]
    seen, threads_seen = [], set()

    def progress(done, total):
        seen.append((done, total))
        threads_seen.add(threading.get_ident())

    out = engine.extract_batch(images, threads=2, progress=progress)
    assert len(out) == len(images)
    assert isinstance(out[0], list) and len(out[0]) == 1
    assert isinstance(out[1], faceprint.ImageTruncatedError)
    assert len(out[2]) == 1
    assert isinstance(out[3], faceprint.IoError)
    assert out[4] == []
    assert len(out[5]) >= 2 and len(out[5]) == len(engine.extract(images[5]))
    assert sorted(d for d, _ in seen) == list(range(1, len(images) + 1))
    assert {t for _, t in seen} == {len(images)}
    # The same numbers as one image at a time.
    one = engine.extract_largest(lfw("Tony_Blair", 1))
    assert np.array_equal(out[0][0].embedding, one.embedding)

    with pytest.raises(faceprint.InvalidArgumentError):
        engine.extract_batch(images, threads=0)
    with pytest.raises(faceprint.InvalidArgumentError):
        engine.extract_batch(str(lfw("Tony_Blair", 1)))
    with pytest.raises(faceprint.InvalidArgumentError):
        engine.extract_batch(images, progress="not callable")
    # A progress callback that raises: the batch finishes and its exception comes out.
    def boom(done, total):
        raise RuntimeError("stop")
    with pytest.raises(RuntimeError, match="stop"):
        engine.extract_batch(images[:2], progress=boom)
    assert engine.extract_batch([]) == []


def test_embeddings_pickle_and_act_as_numpy_arrays(engine):
    a = engine.extract_largest(lfw("Tony_Blair", 1))
    b = pickle.loads(pickle.dumps(a))
    assert b.model == a.model and np.array_equal(b.embedding, a.embedding)
    assert b.face.bbox == a.face.bbox and np.array_equal(b.face.landmarks, a.face.landmarks)
    assert engine.compare(a, b).score == pytest.approx(1.0, abs=1e-6)
    stored = pickle.loads(pickle.dumps(engine.embedding_from_vector(a.embedding)))
    assert stored.face is None
    arr = np.asarray(a)
    assert arr.dtype == np.float32 and arr.shape == (len(a),)
    assert np.asarray(a, dtype=np.float64).dtype == np.float64
    assert float(np.dot(a, b)) == pytest.approx(1.0, abs=1e-5)
    # A tampered pickle is refused like any bad vector.
    restore, args = a.__reduce__()
    with pytest.raises(faceprint.InvalidEmbeddingError):
        restore(args[0], [float("nan")] * len(a), None)


def test_exceptions_and_names_are_visible_to_mypy(tmp_path):
    assert sorted(faceprint._errors.__all__) == sorted(
        ["FaceprintError"] + [c.__name__ for c in faceprint._errors._by_code.values()])
    assert set(faceprint._errors.__all__) <= set(faceprint.__all__)
    script = tmp_path / "typed.py"
    script.write_text(
        "import faceprint\n"
        "from faceprint import Engine, NoFaceError, FaceprintError, ModelsNotFoundError\n"
        "def first(e: Engine) -> float:\n"
        "    try:\n"
        "        face = e.extract_largest('a.jpg').face\n"
        "        return face.score if face else 0.0\n"
        "    except NoFaceError as err:\n"
        "        code: str = err.code\n"
        "        return float(len(code))\n"
        "x: type[FaceprintError] = faceprint.SubjectDisabledError\n"
        "y: type[FaceprintError] = ModelsNotFoundError\n")
    mypy = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(script)],
                          capture_output=True, text=True)
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    # And it does look: a name that does not exist is an error.
    script.write_text("import faceprint\nz = faceprint.NoSuchError\n")
    mypy = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(script)],
                          capture_output=True, text=True)
    assert mypy.returncode == 1 and "NoSuchError" in mypy.stdout, mypy.stdout
