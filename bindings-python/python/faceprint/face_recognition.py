"""A drop-in for the `face_recognition` package (1.3): the same functions, arguments and return
shapes, on Faceprint's engine. Replace

    import face_recognition

with

    from faceprint import face_recognition

Encodings are dlib's ResNet descriptors (the same CC0 weights, 128-D, not normalised), computed
on the face chip dlib itself cuts: dlib's own 5-point shape predictor (its CC0 model, evaluated
by Faceprint) places the points, and the chip is sampled as dlib samples it. So `compare_faces` /
`face_distance` with face_recognition's tolerance of 0.6 keep their meaning, and encodings stored
by face_recognition compare with new ones. Faces are found by YuNet instead of dlib's HOG
detector; each location is the box the HOG detector would draw around that face, `(top, right,
bottom, left)` in whole pixels, and locations you pass in (stored ones, say) are used as given,
as face_recognition uses them. The 68 landmarks come from FaceMesh mapped onto dlib's 68-point
layout; the 5 of `model="small"` are dlib's own.

Arguments that select dlib internals are accepted and have no effect: `model=` ("hog" / "cnn"
for locations, "small" / "large" for encodings), `number_of_times_to_upsample` (small images are
upscaled as the detector needs), `num_jitters` (no random re-sampling: the same image always
gives the same encoding), `batch_size`.
"""

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from ._faceprint import DetectedFace, Engine

__all__ = [
    "load_image_file",
    "face_locations",
    "batch_face_locations",
    "face_landmarks",
    "face_encodings",
    "compare_faces",
    "face_distance",
]

Location = Tuple[int, int, int, int]
_engine: Optional[Engine] = None


def _get_engine() -> Engine:
    # One engine per process with dlib's embedder, made on first use (models load once).
    global _engine
    if _engine is None:
        _engine = Engine(embedder="dlib-resnet-v1")
    return _engine


def load_image_file(file: Any, mode: str = "RGB") -> npt.NDArray[np.uint8]:
    """An image file (a path or a file object) as a numpy array: HxWx3 RGB, or HxW for
    mode="L" (ITU-R 601 luma, as PIL's "L")."""
    if hasattr(file, "read"):
        file = file.read()
    rgb = _get_engine().decode(file)
    if mode == "RGB":
        return rgb
    if mode == "L":
        wide = rgb.astype(np.uint32)
        luma = wide[:, :, 0] * 299 + wide[:, :, 1] * 587 + wide[:, :, 2] * 114
        return ((luma + 500) // 1000).astype(np.uint8)
    raise ValueError(f'mode must be "RGB" or "L", not {mode!r}')


Box = Tuple[float, float, float, float]


def _dlib_faces(image: npt.NDArray[Any], known: Optional[Sequence[Location]]
                ) -> List[Tuple[Box, npt.NDArray[np.float32], DetectedFace]]:
    """(dlib box, dlib's 5 points, aligned face) per known location, else per face found."""
    boxes = None
    if known is not None:
        boxes = [(float(left), float(top), float(right), float(bottom))
                 for top, right, bottom, left in known]
    return _get_engine().dlib_faces(image, boxes)


def face_locations(img: npt.NDArray[Any], number_of_times_to_upsample: int = 1,
                   model: str = "hog") -> List[Location]:
    """The box of every face, `(top, right, bottom, left)`, best detection first."""
    return [(int(top), int(right), int(bottom), int(left))
            for (left, top, right, bottom), _, _ in _dlib_faces(img, None)]


def batch_face_locations(images: Sequence[npt.NDArray[Any]], number_of_times_to_upsample: int = 1,
                         batch_size: int = 128) -> List[List[Location]]:
    """`face_locations` of each image."""
    return [face_locations(image) for image in images]


# Point ranges of dlib's 68-point layout, as face_recognition groups them.
def _groups(points: List[Tuple[int, int]]) -> Dict[str, List[Tuple[int, int]]]:
    return {
        "chin": points[0:17],
        "left_eyebrow": points[17:22],
        "right_eyebrow": points[22:27],
        "nose_bridge": points[27:31],
        "nose_tip": points[31:36],
        "left_eye": points[36:42],
        "right_eye": points[42:48],
        "top_lip": points[48:55] + [points[64], points[63], points[62], points[61], points[60]],
        "bottom_lip": points[54:60] + [points[48], points[60], points[67], points[66], points[65],
                                       points[64]],
    }


def face_landmarks(face_image: npt.NDArray[Any], face_locations: Optional[Sequence[Location]] = None,
                   model: str = "large") -> List[Dict[str, List[Tuple[int, int]]]]:
    """Each face's landmarks by feature: with model="large", chin, left/right eyebrow, nose
    bridge and tip, left/right eye, top and bottom lip (dlib's 68 points); with model="small",
    nose_tip, left_eye and right_eye (dlib's 5-point layout: two corners per eye)."""
    engine = _get_engine()
    out = []
    for (left, top, right, bottom), points, _ in _dlib_faces(face_image, face_locations):
        if model == "small":
            p = [(int(x), int(y)) for x, y in points]
            out.append({"nose_tip": [p[4]], "left_eye": p[2:4], "right_eye": p[0:2]})
            continue
        # The mesh is run in the face YuNet finds at this box (or, with none there, the box).
        (face,) = engine.faces_at(face_image, [(left, top, right, bottom)])
        pts = [(int(round(x)), int(round(y))) for x, y in engine.landmarks_68(face_image, face)]
        out.append(_groups(pts))
    return out


def face_encodings(face_image: npt.NDArray[Any], known_face_locations: Optional[Sequence[Location]] = None,
                   num_jitters: int = 1, model: str = "small") -> List[npt.NDArray[np.float64]]:
    """The 128-D dlib descriptor of each face (float64, not normalised), in location order."""
    faces = [face for _, _, face in _dlib_faces(face_image, known_face_locations)]
    return [np.asarray(e.embedding, dtype=np.float64) * float(e.norm)
            for e in _get_engine().embed(face_image, faces)]


def face_distance(face_encodings: Union[Sequence[npt.NDArray[Any]], npt.NDArray[Any]],
                  face_to_compare: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Euclidean distance of each known encoding to one encoding (an empty array for none)."""
    if len(face_encodings) == 0:
        return np.empty((0))
    return np.linalg.norm(np.asarray(face_encodings) - face_to_compare, axis=1)


def compare_faces(known_face_encodings: Union[Sequence[npt.NDArray[Any]], npt.NDArray[Any]],
                  face_encoding_to_check: npt.NDArray[Any], tolerance: float = 0.6) -> List[bool]:
    """For each known encoding, whether it is within `tolerance` of the one to check."""
    return list(face_distance(known_face_encodings, face_encoding_to_check) <= tolerance)
