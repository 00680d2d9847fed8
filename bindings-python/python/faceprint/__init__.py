"""Faceprint: face detection, embeddings, 1:1 and 1:N matching, quality and liveness.

    import faceprint
    engine = faceprint.Engine()                  # models from FACEPRINT_MODELS
    a = engine.extract_largest("alice_1.jpg")    # a path, bytes, or an HxWx3 uint8 array
    b = engine.extract_largest(frame, bgr=True)  # e.g. straight from OpenCV
    print(engine.compare(a, b).same)

Every call that runs a model releases the GIL; one Engine may be shared between threads.
Errors are FaceprintError subclasses (NoFaceError, ImageCorruptError, ...) with `.code`.
"""

from ._errors import *  # noqa: F401,F403  (one class per error code)
from ._errors import FaceprintError
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
from . import _errors

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
    "FaceprintError",
    "__version__",
] + [name for name in _errors.__all__ if name != "FaceprintError"]
