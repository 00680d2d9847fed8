"""Quality, passive liveness and the frame sessions."""

import pytest

import faceprint
from conftest import DEV, lfw


def test_quality_report(engine):
    good = engine.quality(lfw("Colin_Powell", 1), profile="authentication")
    assert good["passed"] and 0.5 <= good["score"] <= 1 and good["face_count"] == 1
    strict = engine.quality(
        lfw("Colin_Powell", 1), profile="enrollment", overrides={"min_inter_eye_distance": 500}
    )
    assert not strict["passed"]
    assert "too_small" in strict["reasons"]
    none = engine.quality(DEV / "hard" / "non_face" / "skimage_coffee.png")
    assert none["face_count"] == 0 and not none["passed"]
    with pytest.raises(faceprint.InvalidArgumentError):
        engine.quality(lfw("Colin_Powell", 1), profile="nope")
    with pytest.raises(faceprint.InvalidArgumentError):
        engine.quality(lfw("Colin_Powell", 1), overrides={"min_sharpness": -1})


def test_passive_liveness(engine):
    live = engine.liveness(next((DEV / "spoof" / "live").iterdir()))
    assert 0 <= live.score <= 1 and len(live.model_scores) == 2
    assert live.live == (live.score >= live.threshold)
    with pytest.raises(faceprint.NoFaceError):
        engine.liveness(DEV / "hard" / "non_face" / "skimage_coffee.png")


def test_liveness_session_asks_and_answers(engine):
    session = faceprint.LivenessSession({"count": 2, "passive": False}, now_ms=1000)
    assert len(session.nonce) == 32 and len(session.challenges) == 2
    # A frontal face, no movement yet: the first challenge is asked.
    result = session.feed(engine, session.nonce, 1100, lfw("Colin_Powell", 1))
    assert result["status"] == "in_progress" and result["face_detected"], result
    assert result["total"] == 2 and result["instruction"]
    # A frame from another session fails this one.
    failed = session.feed(engine, "0" * 32, 1200, lfw("Colin_Powell", 1))
    assert failed["status"] == "failed" and failed["failure"] == "nonce_mismatch"
    with pytest.raises(faceprint.SessionFinishedError):
        session.feed(engine, session.nonce, 1300, lfw("Colin_Powell", 1))
    with pytest.raises(faceprint.InvalidArgumentError):
        faceprint.LivenessSession({"count": 0})


def test_enrollment_and_authentication_sessions():
    engine = faceprint.Engine(store=faceprint.Store.memory())
    enroll = faceprint.EnrollmentSession(
        {"collection": "staff", "subject": "tony", "target_samples": 2,
         "require_liveness": False, "min_pose_difference": 0},
        now_ms=0,
    )
    # Frame 1 is a turned head (pose_yaw): refused, and the session goes on.
    progress = [enroll.feed(engine, 100 * i, lfw("Tony_Blair", i)) for i in (1, 2, 3)]
    assert [p["accepted"] for p in progress] == [False, True, True], progress
    assert "pose_yaw" in progress[0]["obstacles"]
    assert progress[-1]["status"] == "completed", progress
    assert progress[-1]["enrollment"]["subject"]["external_id"] == "tony"

    auth = faceprint.AuthenticationSession(
        {"collection": "staff", "require_liveness": False}, now_ms=0
    )
    answer = auth.feed(engine, 50, lfw("Tony_Blair", 10))
    assert answer["status"] == "authenticated" and answer["subject"] == "tony"
    with pytest.raises(faceprint.InvalidArgumentError):
        faceprint.EnrollmentSession({"collection": "staff"})  # no subject


def test_identity_document_read_and_matched(engine):
    docs = DEV / "documents"
    page = engine.read_document(docs / "passport-td3.jpg", visual_zone=True)
    assert page["verified"] and "error" not in page
    mrz = page["mrz"]
    assert (mrz["format"], mrz["surname"], mrz["document_number"]) == ("td3", "ERIKSSON", "L898902C3")
    assert [c["valid"] for c in mrz["checks"]] == [True] * 5
    assert page["portrait"]["orientation_degrees"] == 0
    assert all(c["found"] for c in page["visual_zone"]["checks"]), page["visual_zone"]["checks"]
    assert engine.read_document(docs / "passport-td3.jpg")["visual_zone"] is None
    # Printed with an invalid digit: read, not verified, the failing digit named.
    card = engine.read_document(docs / "33_id-usa.jpg")
    assert not card["verified"] and card["error"]["code"] == "mrz_check_failed"
    assert card["error"]["number"] == 83 and not card["mrz"]["checks"][0]["valid"]
    with pytest.raises(faceprint.NoDocumentError):
        engine.read_document(DEV / "hard" / "non_face" / "skimage_coffee.png")
    # The specimen holder's photo on another document stands in for her selfie.
    same = engine.match_document(docs / "passport-td3.jpg", docs / "25_pass-uto.jpg")
    assert same["matched"] and same["score"] >= same["threshold"] == pytest.approx(0.5)
    other = engine.match_document(docs / "passport-td3.jpg", lfw("Colin_Powell", 1))
    assert not other["matched"]
    with pytest.raises(faceprint.NoPortraitError) as e:
        engine.match_document(docs / "27_pass-gbr.jpg", lfw("Colin_Powell", 1))
    assert e.value.number == 84
    with pytest.raises(faceprint.NoFaceError):
        engine.match_document(docs / "passport-td3.jpg", DEV / "hard" / "non_face" / "skimage_coffee.png")
