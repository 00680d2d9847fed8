"""Faceprint: face detection, embeddings, 1:1 and 1:N matching, quality and liveness.

    import faceprint
    engine = faceprint.Engine()                  # models: see "Where the models are found"
    a = engine.extract_largest("alice_1.jpg")    # a path, bytes, or an HxWx3 uint8 array
    b = engine.extract_largest(frame, bgr=True)  # e.g. straight from OpenCV
    print(engine.compare(a, b).same)

Every call that runs a model releases the GIL; one Engine may be shared between threads.
Errors are FaceprintError subclasses (NoFaceError, ImageCorruptError, ...) with `.code`.

Where the models are found, when Engine() names no directory: FACEPRINT_MODELS (an error if it
holds no pack), the `faceprint-models` package when it is installed, then
~/.local/share/faceprint/models.
"""

from ._errors import *  # noqa: F401,F403  (one class per error code; names in _errors.__all__)
from ._errors import FaceprintError
from . import _errors
from ._faceprint import (
    AuthenticationSession,
    Candidate,
    Identification,
    Comparison,
    DetectedFace,
    EnrollmentSession,
    Engine,
    FaceEmbedding,
    Liveness,
    LivenessSession,
    Store,
    Verification,
    __version__,
)
from ._faceprint import register_model_package

try:  # the `faceprint-models` wheel, when installed (face_recognition_models' convention)
    import faceprint_models as _models
except ImportError:
    pass
else:
    register_model_package(_models.models_dir())

__all__ = [
    "Engine",
    "Store",
    "DetectedFace",
    "FaceEmbedding",
    "Comparison",
    "Verification",
    "Candidate",
    "Identification",
    "Liveness",
    "LivenessSession",
    "EnrollmentSession",
    "AuthenticationSession",
    "register_model_package",
    "__version__",
]
__all__ += _errors.__all__  # static: mypy and pyright read this form
