"""Embeddings, comparison, the store and 1:1 / 1:N on real photos."""

import base64

import numpy as np
import pytest

import faceprint
from conftest import DEV, lfw


def test_embedding_is_a_unit_float32_vector(engine):
    fe = engine.extract_largest(lfw("Colin_Powell", 1))
    v = fe.embedding
    assert v.dtype == np.float32 and v.shape == (engine.embedding_dim,)
    assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-5
    assert fe.model == engine.embedder
    x1, y1, x2, y2 = fe.face.bbox
    assert 0 <= x1 < x2 <= 250 and 0 <= y1 < y2 <= 250
    assert fe.face.landmarks.shape == (5, 2)
    # The array is a copy: changing it changes nothing inside.
    v[:] = 0
    assert float(np.abs(fe.embedding).sum()) > 0


def test_compare_same_and_different_people(engine):
    a = engine.extract_largest(lfw("Tony_Blair", 1))
    b = engine.extract_largest(lfw("Tony_Blair", 2))
    c = engine.extract_largest(lfw("George_W_Bush", 2))
    same, other = engine.compare(a, b), engine.compare(a, c)
    assert same.same and not other.same
    assert same.fmr == pytest.approx(1e-4)
    assert same.score == pytest.approx(float(np.dot(a.embedding, b.embedding)), abs=1e-5)
    # A raw threshold just under the impostor score accepts it (thresholds are the model's own).
    t = round(other.score - 0.01, 4)
    loose = engine.compare(a, c, threshold=t)
    assert loose.same and loose.threshold == pytest.approx(t)
    with pytest.raises(faceprint.InvalidArgumentError):
        engine.compare(a, b, threshold=0.5, fmr=1e-3)
    with pytest.raises(faceprint.InvalidArgumentError):
        engine.compare(a, b, threshold=1.5)


def test_vectors_round_trip_and_are_checked(engine):
    a = engine.extract_largest(lfw("Tony_Blair", 1))
    back = engine.embedding_from_vector(a.embedding)
    assert back.face is None
    assert np.array_equal(back.embedding, a.embedding)
    assert engine.compare(a, back).score == pytest.approx(1.0, abs=1e-6)
    bad = a.embedding.copy()
    bad[3] = np.nan
    with pytest.raises(faceprint.InvalidEmbeddingError):
        engine.embedding_from_vector(bad)
    with pytest.raises(faceprint.InvalidEmbeddingError):
        engine.embedding_from_vector(np.ones(7, np.float32))


def test_enroll_verify_identify_delete(engine, tmp_path):
    key = base64.b64encode(bytes(range(32))).decode()
    store = faceprint.Store.sqlite(tmp_path / "gallery.db", key=key)
    gallery = faceprint.Engine(store=store)
    report = gallery.enroll(
        "staff", "tony", [lfw("Tony_Blair", 1), lfw("Tony_Blair", 2).read_bytes()],
        display_name="Tony", metadata={"team": "uk"},
    )
    assert report["subject"]["external_id"] == "tony"
    assert len(report["template_ids"]) == 2
    gallery.enroll("staff", "george", [lfw("George_W_Bush", 1)])

    v = gallery.verify("staff", "tony", lfw("Tony_Blair", 10))
    assert v.matched and v.subject == "tony"
    assert not gallery.verify("staff", "george", lfw("Tony_Blair", 10)).matched

    found = gallery.identify("staff", lfw("George_W_Bush", 5), top_k=2)
    assert [c.subject for c in found][0] == "george" and found[0].matched
    assert found[0].score >= found[-1].score

    with pytest.raises(faceprint.MultipleFacesError):
        gallery.enroll("staff", "pair", [DEV / "hard" / "multi_face" / "fr_two_people.jpg"])
    gallery.delete_subject("staff", "george")
    with pytest.raises(faceprint.NotFoundError):
        gallery.delete_subject("staff", "george")
    assert [c.subject for c in gallery.identify("staff", lfw("George_W_Bush", 5))] == ["tony"]

    # The wrong key opens nothing and loses nothing.
    with pytest.raises(faceprint.WrongKeyError):
        faceprint.Store.sqlite(tmp_path / "gallery.db", key=base64.b64encode(bytes(32)).decode())
    again = faceprint.Engine(store=faceprint.Store.sqlite(tmp_path / "gallery.db", key=key))
    assert again.verify("staff", "tony", lfw("Tony_Blair", 10)).matched


def test_engine_without_store(engine):
    with pytest.raises(faceprint.InvalidArgumentError):
        engine.identify("staff", lfw("Tony_Blair", 1))


def test_bad_engine_settings():
    with pytest.raises(faceprint.InvalidArgumentError):
        faceprint.Engine(config={"no_such_setting": 1})
    with pytest.raises(faceprint.ModelsNotFoundError):
        faceprint.Engine("/nonexistent/models")


def test_every_face_face_crops_and_stored_embeddings(engine):
    gallery = faceprint.Engine(store=faceprint.Store.memory())
    gallery.enroll("c", "obama", [DEV / "faces" / "named" / "obama_obama.jpg"])
    gallery.enroll("c", "biden", [DEV / "faces" / "named" / "biden_biden.jpg"])
    group = DEV / "hard" / "multi_face" / "fr_obama_and_biden.jpg"
    found = gallery.identify_all("c", group, top_k=1)
    assert len(found) == 3
    named = sorted(r.candidates[0].subject for r in found if r.candidates[0].matched)
    assert named == ["biden", "obama"]
    assert all(len(r.face.bbox) == 4 for r in found)
    verified = gallery.verify_all("c", "obama", group)
    assert [v.matched for v in verified].count(True) == 1
    assert all(v.face is not None for v in verified)

    # A stored vector identifies, verifies and enrolls like a photo.
    probe = gallery.extract_largest(DEV / "faces" / "test" / "obama1.jpg")
    stored = gallery.embedding_from_vector(probe.embedding)
    result = gallery.identify_embedding("c", stored, top_k=2)
    assert result.candidates[0].subject == "obama" and result.face is None
    assert gallery.verify_embedding("c", "obama", stored).matched
    report = gallery.enroll_embeddings("c", "obama-copy", [stored])
    assert len(report["template_ids"]) == 1
    with pytest.raises(faceprint.InvalidEmbeddingError):
        gallery.embedding_from_vector(np.zeros(3, np.float32))
    crop = gallery.embed_face_crop(lfw("Tony_Blair", 1))
    assert crop.face.bbox == (0.0, 0.0, 250.0, 250.0)
    assert len(crop) == gallery.embedding_dim
