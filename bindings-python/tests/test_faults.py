"""Bad input and live-store faults through the Python binding: clear errors, nothing lost."""

import base64
import os
import subprocess

import numpy as np
import pytest

import faceprint
from conftest import REPO, lfw

CLI = REPO / "target" / "x86_64-unknown-linux-gnu" / "release" / "faceprint"


def test_rotation_by_another_process_under_a_live_engine(tmp_path):
    if not CLI.exists():
        pytest.fail(f"{CLI} is missing: build it with cargo build --release -p faceprint-cli")
    k1 = base64.b64encode(os.urandom(32)).decode()
    k2 = base64.b64encode(os.urandom(32)).decode()
    db = tmp_path / "gallery.db"
    live = faceprint.Engine(store=faceprint.Store.sqlite(db, key=k1))
    live.enroll("staff", "tony", [lfw("Tony_Blair", 1)])
    (tmp_path / "new.key").write_text(k2)
    subprocess.run(
        [CLI, "keys", "rotate", "--db", db, "--new-key-file", tmp_path / "new.key"],
        env={**os.environ, "FACEPRINT_KEY": k1}, check=True, capture_output=True,
    )
    # The engine still holds K1: its write fails and says why, instead of wrapping a new
    # subject under the key the rotation retired.
    with pytest.raises(faceprint.WrongKeyError, match="rotated"):
        live.enroll("staff", "george", [lfw("George_W_Bush", 1)])
    del live
    again = faceprint.Engine(store=faceprint.Store.sqlite(db, key=k2))
    assert again.verify("staff", "tony", lfw("Tony_Blair", 2)).matched
    again.enroll("staff", "george", [lfw("George_W_Bush", 1)])
    with pytest.raises(faceprint.WrongKeyError):
        faceprint.Store.sqlite(db, key=k1)


def test_vectors_of_the_wrong_type_or_shape_say_so(engine):
    v = engine.extract_largest(lfw("Tony_Blair", 1)).embedding
    with pytest.raises(faceprint.InvalidEmbeddingError, match="float32"):
        engine.embedding_from_vector(v.astype(np.float64))
    with pytest.raises(faceprint.InvalidEmbeddingError, match="1-D"):
        engine.embedding_from_vector(v.reshape(2, -1))
    with pytest.raises(faceprint.InvalidEmbeddingError, match="numpy"):
        engine.embedding_from_vector(list(v))


def test_a_huge_broadcast_array_is_refused_before_it_is_copied(engine):
    huge = np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (300_000, 300_000, 3))
    with pytest.raises(faceprint.ImageTooManyPixelsError):
        engine.extract(huge)


def test_settings_and_special_files_are_checked_where_they_are_given(engine, tmp_path):
    for n in (0, 257, 100_000):
        with pytest.raises(faceprint.InvalidArgumentError, match="1..=256"):
            faceprint.Engine(threads=n)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in ("/dev/zero", fifo, tmp_path):
        with pytest.raises(faceprint.InvalidArgumentError, match="not a regular file"):
            engine.extract(path)


def test_messages_name_no_rust_api(engine):
    with pytest.raises(faceprint.InvalidArgumentError) as e:
        engine.identify("staff", lfw("Tony_Blair", 1))
    assert "EngineBuilder" not in str(e.value) and "::" not in str(e.value)
