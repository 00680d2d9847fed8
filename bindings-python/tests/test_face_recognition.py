"""faceprint.face_recognition used as face_recognition's users do: its README's examples on the
dev photos."""

import numpy as np
import pytest

from conftest import DEV
from faceprint import face_recognition

FACES = DEV / "faces"


def test_the_recognise_known_people_script():
    # face_recognition's "recognize faces in pictures" example, unchanged but for the import.
    obama_image = face_recognition.load_image_file(FACES / "train/obama/obama.jpg")
    biden_image = face_recognition.load_image_file(FACES / "train/biden/biden.jpg")
    unknown_image = face_recognition.load_image_file(FACES / "test/obama_and_biden.jpg")
    obama_face_encoding = face_recognition.face_encodings(obama_image)[0]
    biden_face_encoding = face_recognition.face_encodings(biden_image)[0]
    known_faces = [obama_face_encoding, biden_face_encoding]

    locations = face_recognition.face_locations(unknown_image, number_of_times_to_upsample=1, model="hog")
    encodings = face_recognition.face_encodings(unknown_image, locations, num_jitters=1, model="small")
    assert len(locations) == len(encodings) >= 2
    names = set()
    for encoding in encodings:
        results = face_recognition.compare_faces(known_faces, encoding, tolerance=0.6)
        distances = face_recognition.face_distance(known_faces, encoding)
        if any(results):
            names.add(["obama", "biden"][int(np.argmin(distances))])
    assert names == {"obama", "biden"}

    # Shapes and types as face_recognition returns them.
    assert obama_image.dtype == np.uint8 and obama_image.ndim == 3 and obama_image.shape[2] == 3
    assert obama_face_encoding.shape == (128,) and obama_face_encoding.dtype == np.float64
    top, right, bottom, left = locations[0]
    assert all(isinstance(v, int) for v in locations[0])
    assert 0 <= top < bottom <= unknown_image.shape[0] and 0 <= left < right <= unknown_image.shape[1]
    # Not normalised: dlib's descriptors, same person within 0.6, others beyond.
    assert not np.isclose(np.linalg.norm(obama_face_encoding), 1.0, atol=0.05)
    obama2 = face_recognition.face_encodings(face_recognition.load_image_file(FACES / "test/obama1.jpg"))[0]
    d = face_recognition.face_distance(known_faces, obama2)
    assert d[0] < 0.6 < d[1]
    assert face_recognition.compare_faces(known_faces, obama2) == [True, False]
    assert face_recognition.face_distance([], obama2).shape == (0,)


def test_landmarks_grey_images_batches_and_no_faces():
    image = face_recognition.load_image_file(FACES / "named/obama_obama.jpg")
    [marks] = face_recognition.face_landmarks(image)
    sizes = {k: len(v) for k, v in marks.items()}
    assert sizes == {"chin": 17, "left_eyebrow": 5, "right_eyebrow": 5, "nose_bridge": 4,
                     "nose_tip": 5, "left_eye": 6, "right_eye": 6, "top_lip": 12, "bottom_lip": 12}
    mean = {k: np.mean(v, axis=0) for k, v in marks.items()}
    # Where a face's parts are: brows over eyes over nose over lips over chin; left on the left.
    assert mean["left_eyebrow"][1] < mean["left_eye"][1] < mean["nose_tip"][1] < mean["top_lip"][1]
    assert mean["top_lip"][1] < mean["bottom_lip"][1] < max(y for _, y in marks["chin"])
    assert mean["left_eye"][0] < mean["nose_bridge"][0] < mean["right_eye"][0]
    assert marks["chin"][0][0] < marks["chin"][8][0] < marks["chin"][16][0]
    top, right, bottom, left = face_recognition.face_locations(image)[0]
    xs = [x for pts in marks.values() for x, _ in pts]
    assert left - 10 <= min(xs) and max(xs) <= right + 10
    small = face_recognition.face_landmarks(image, model="small")[0]
    assert {k: len(v) for k, v in small.items()} == {"nose_tip": 1, "left_eye": 2, "right_eye": 2}
    assert small["left_eye"][0][0] < small["right_eye"][0][0]

    grey = face_recognition.load_image_file(FACES / "named/obama_obama.jpg", mode="L")
    assert grey.ndim == 2 and grey.dtype == np.uint8
    g = face_recognition.face_encodings(grey)[0]
    c = face_recognition.face_encodings(image)[0]
    assert face_recognition.face_distance([c], g)[0] < 0.3
    # Locations given by the caller: the encodings of those faces.
    locs = face_recognition.face_locations(image)
    assert np.allclose(face_recognition.face_encodings(image, locs)[0], c)

    images = [image, face_recognition.load_image_file(FACES / "test/obama_and_biden.jpg")]
    batch = face_recognition.batch_face_locations(images, number_of_times_to_upsample=0, batch_size=2)
    assert batch == [face_recognition.face_locations(i) for i in images]

    coffee = face_recognition.load_image_file(DEV / "hard/non_face/skimage_coffee.png")
    assert face_recognition.face_locations(coffee) == []
    assert face_recognition.face_encodings(coffee) == []
    assert face_recognition.face_landmarks(coffee) == []
    with pytest.raises(ValueError):
        face_recognition.load_image_file(FACES / "named/obama_obama.jpg", mode="CMYK")
