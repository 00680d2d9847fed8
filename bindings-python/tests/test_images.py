"""Every kind of image input gives the same faces; bad input gives a typed error."""

import numpy as np
import pytest

import faceprint
from conftest import DEV, lfw


def test_path_bytes_and_arrays_agree(engine):
    path = lfw("Tony_Blair", 1)
    rgb = engine.decode(path)
    assert rgb.dtype == np.uint8 and rgb.shape == (250, 250, 3)
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    padded = np.zeros((250, 300, 3), np.uint8)
    padded[:, :250] = rgb
    crop_view = padded[:, :250]  # rows are 300 px apart: no copy needed to read it
    assert not crop_view.flags.c_contiguous
    vectors = [
        engine.extract_largest(str(path)).embedding,
        engine.extract_largest(path).embedding,
        engine.extract_largest(path.read_bytes()).embedding,
        engine.extract_largest(rgb).embedding,
        engine.extract_largest(bgr, bgr=True).embedding,
        engine.extract_largest(crop_view).embedding,
        engine.extract_largest(rgb[..., ::-1], bgr=True).embedding,  # negative strides
    ]
    for v in vectors[1:]:
        assert np.array_equal(v, vectors[0])
    # Forgetting bgr=True changes the colours the model sees.
    assert not np.array_equal(engine.extract_largest(bgr).embedding, vectors[0])


def test_gray_and_rgba_arrays(engine):
    rgb = engine.decode(lfw("Tony_Blair", 1))
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=2)
    assert np.array_equal(
        engine.extract_largest(rgba).embedding, engine.extract_largest(rgb).embedding
    )
    gray = rgb.mean(axis=2).astype(np.uint8)
    assert len(engine.detect(gray)) == 1


@pytest.mark.parametrize(
    "image, error",
    [
        (b"", faceprint.ImageEmptyError),
        (b"not an image at all", faceprint.ImageUnsupportedFormatError),
        (np.zeros((10, 10, 3), np.float32), faceprint.InvalidArgumentError),
        (np.zeros((10, 10, 5), np.uint8), faceprint.InvalidPixelBufferError),
        (np.zeros((0, 10, 3), np.uint8), faceprint.InvalidPixelBufferError),
        (12, faceprint.InvalidArgumentError),
        ("/nonexistent/photo.jpg", faceprint.IoError),
    ],
)
def test_bad_images_raise_their_code(engine, image, error):
    with pytest.raises(error) as caught:
        engine.detect(image)
    assert isinstance(caught.value, faceprint.FaceprintError)
    assert caught.value.code == error.code and caught.value.number == error.number
    assert str(caught.value)


def test_truncated_jpeg(engine):
    data = lfw("Tony_Blair", 3).read_bytes()
    with pytest.raises(faceprint.ImageTruncatedError):
        engine.extract_largest(data[: len(data) // 3])


def test_builtin_bases():
    assert issubclass(faceprint.IoError, OSError)
    assert issubclass(faceprint.InvalidArgumentError, ValueError)
    assert issubclass(faceprint.NotFoundError, LookupError)


def test_no_face_and_many_faces(engine):
    dog = DEV / "hard" / "non_face" / "skimage_coffee.png"
    assert engine.extract(dog) == []
    with pytest.raises(faceprint.NoFaceError):
        engine.extract_largest(dog)
    group = engine.extract(DEV / "hard" / "multi_face" / "fr_two_people.jpg")
    assert len(group) >= 2
    assert all(len(g) == engine.embedding_dim for g in group)
