# Type stubs of the compiled module (bindings-python/src). Keep in step with it:
# tests/test_stubs.py checks every public name and method here exists at runtime.
import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from ._errors import FaceprintError

import numpy as np
import numpy.typing as npt

ImageInput = Union[str, "os.PathLike[str]", bytes, npt.NDArray[np.uint8]]
"""A file path, encoded image bytes (JPEG, PNG, WebP, BMP, GIF, PNM, TIFF, QOI), or an HxWx3 (RGB, or BGR
with bgr=True), HxWx4 or HxW uint8 array."""

__version__: str
ERROR_CODES: List[Tuple[str, int]]
ORT_LIBRARY_NAME: str

def register_model_package(dir: Union[str, "os.PathLike[str]"]) -> None:
    """Registers a model pack shipped inside a package: searched after FACEPRINT_MODELS."""

class DetectedFace:
    @property
    def bbox(self) -> Tuple[float, float, float, float]: ...
    @property
    def landmarks(self) -> npt.NDArray[np.float32]: ...
    @property
    def score(self) -> float: ...

class FaceEmbedding:
    @property
    def embedding(self) -> npt.NDArray[np.float32]: ...
    @property
    def face(self) -> Optional[DetectedFace]: ...
    @property
    def model(self) -> str: ...
    @property
    def norm(self) -> float: ...
    def __len__(self) -> int: ...
    def __array__(self, dtype: Any = None, copy: Optional[bool] = None) -> npt.NDArray[Any]: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]: ...

class Comparison:
    score: float
    threshold: float
    fmr: Optional[float]
    same: bool

class Verification:
    subject: str
    score: float
    threshold: float
    fmr: Optional[float]
    matched: bool
    template_id: str
    @property
    def face(self) -> Optional[DetectedFace]: ...

class Candidate:
    subject: str
    score: float
    matched: bool
    template_id: str

class Identification:
    @property
    def face(self) -> Optional[DetectedFace]: ...
    @property
    def threshold(self) -> float: ...
    @property
    def fmr(self) -> Optional[float]: ...
    @property
    def candidates(self) -> List[Candidate]: ...

class Liveness:
    score: float
    threshold: float
    live: bool
    model_scores: List[float]

class Store:
    @staticmethod
    def memory() -> Store: ...
    @staticmethod
    def sqlite(path: Union[str, "os.PathLike[str]"], key: Optional[str] = None) -> Store: ...

class Engine:
    def __init__(
        self,
        models_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
        *,
        onnxruntime: Optional[Union[str, "os.PathLike[str]"]] = None,
        store: Optional[Store] = None,
        threads: Optional[int] = None,
        config: Optional[Dict[str, Any]] = None,
        detector: Optional[str] = None,
        embedder: Optional[str] = None,
    ) -> None: ...
    @property
    def embedder(self) -> str: ...
    @property
    def embedding_dim(self) -> int: ...
    @property
    def models_dir(self) -> str: ...
    def decode(self, image: ImageInput, *, bgr: bool = False) -> npt.NDArray[np.uint8]: ...
    def detect(self, image: ImageInput, *, bgr: bool = False) -> List[DetectedFace]: ...
    def extract(self, image: ImageInput, *, bgr: bool = False) -> List[FaceEmbedding]: ...
    def extract_largest(self, image: ImageInput, *, bgr: bool = False) -> FaceEmbedding: ...
    def embedding_from_vector(self, vector: npt.NDArray[np.float32]) -> FaceEmbedding: ...
    def compare(
        self,
        a: FaceEmbedding,
        b: FaceEmbedding,
        *,
        threshold: Optional[float] = None,
        fmr: Optional[float] = None,
    ) -> Comparison: ...
    def enroll(
        self,
        collection: str,
        subject: str,
        images: Sequence[ImageInput],
        *,
        bgr: bool = False,
        display_name: Optional[str] = None,
        metadata: Optional[Any] = None,
        face_policy: Optional[str] = None,
        sources: Optional[List[str]] = None,
        actor: Optional[str] = None,
    ) -> Dict[str, Any]: ...
    def verify(
        self,
        collection: str,
        subject: str,
        image: ImageInput,
        *,
        bgr: bool = False,
        threshold: Optional[float] = None,
        fmr: Optional[float] = None,
        actor: Optional[str] = None,
    ) -> Verification: ...
    def identify(
        self,
        collection: str,
        image: ImageInput,
        *,
        top_k: int = 5,
        bgr: bool = False,
        threshold: Optional[float] = None,
        fmr: Optional[float] = None,
        actor: Optional[str] = None,
    ) -> List[Candidate]: ...
    def identify_all(
        self,
        collection: str,
        image: ImageInput,
        *,
        top_k: int = 5,
        bgr: bool = False,
        threshold: Optional[float] = None,
        fmr: Optional[float] = None,
        actor: Optional[str] = None,
    ) -> List[Identification]: ...
    def identify_embedding(
        self,
        collection: str,
        embedding: FaceEmbedding,
        *,
        top_k: int = 5,
        threshold: Optional[float] = None,
        fmr: Optional[float] = None,
        actor: Optional[str] = None,
    ) -> Identification: ...
    def verify_all(
        self,
        collection: str,
        subject: str,
        image: ImageInput,
        *,
        bgr: bool = False,
        threshold: Optional[float] = None,
        fmr: Optional[float] = None,
        actor: Optional[str] = None,
    ) -> List[Verification]: ...
    def verify_embedding(
        self,
        collection: str,
        subject: str,
        embedding: FaceEmbedding,
        *,
        threshold: Optional[float] = None,
        fmr: Optional[float] = None,
        actor: Optional[str] = None,
    ) -> Verification: ...
    def enroll_embeddings(
        self,
        collection: str,
        subject: str,
        embeddings: Sequence[FaceEmbedding],
        *,
        display_name: Optional[str] = None,
        metadata: Optional[Any] = None,
        sources: Optional[List[str]] = None,
        actor: Optional[str] = None,
    ) -> Dict[str, Any]: ...
    def embed_face_crop(self, image: ImageInput, *, bgr: bool = False) -> FaceEmbedding: ...
    def delete_subject(self, collection: str, subject: str, *, actor: Optional[str] = None) -> None: ...
    def embed(self, image: ImageInput, faces: Sequence[DetectedFace], *, bgr: bool = False) -> List[FaceEmbedding]: ...
    def faces_at(
        self, image: ImageInput, boxes: Sequence[Tuple[float, float, float, float]], *, bgr: bool = False
    ) -> List[DetectedFace]: ...
    def landmarks_68(self, image: ImageInput, face: DetectedFace, *, bgr: bool = False) -> npt.NDArray[np.float32]: ...
    def dlib_faces(
        self, image: ImageInput, boxes: Optional[Sequence[Tuple[float, float, float, float]]] = None, *, bgr: bool = False
    ) -> List[Tuple[Tuple[float, float, float, float], npt.NDArray[np.float32], DetectedFace]]: ...
    def delete_template(self, collection: str, template_id: str, *, actor: Optional[str] = None) -> str: ...
    def disable_subject(self, collection: str, subject: str, *, actor: Optional[str] = None) -> None: ...
    def enable_subject(self, collection: str, subject: str, *, actor: Optional[str] = None) -> None: ...
    def list_subjects(self, collection: str, *, offset: int = 0, limit: int = 100) -> List[Dict[str, Any]]: ...
    def export_subject(self, collection: str, subject: str, *, actor: Optional[str] = None) -> Dict[str, Any]: ...
    def list_collections(self) -> List[Dict[str, Any]]: ...
    def extract_batch(
        self,
        images: Sequence[ImageInput],
        *,
        threads: Optional[int] = None,
        progress: Optional[Callable[[int, int], object]] = None,
        bgr: bool = False,
    ) -> List[Union[List[FaceEmbedding], "FaceprintError"]]: ...
    def quality(
        self,
        image: ImageInput,
        *,
        profile: str = "authentication",
        overrides: Optional[Dict[str, Any]] = None,
        bgr: bool = False,
    ) -> Dict[str, Any]: ...
    def liveness(self, image: ImageInput, *, bgr: bool = False) -> Liveness: ...
    def read_document(
        self, image: ImageInput, *, visual_zone: bool = False, bgr: bool = False
    ) -> Dict[str, Any]: ...
    def match_document(
        self, document: ImageInput, selfie: ImageInput, *, bgr: bool = False
    ) -> Dict[str, Any]: ...

class LivenessSession:
    def __init__(self, config: Optional[Dict[str, Any]] = None, *, now_ms: int = 0) -> None: ...
    @property
    def nonce(self) -> str: ...
    @property
    def challenges(self) -> List[str]: ...
    def feed(
        self, engine: Engine, nonce: str, timestamp_ms: int, image: ImageInput, *, bgr: bool = False
    ) -> Dict[str, Any]: ...

class EnrollmentSession:
    def __init__(self, config: Dict[str, Any], *, now_ms: int = 0) -> None: ...
    def feed(self, engine: Engine, timestamp_ms: int, image: ImageInput, *, bgr: bool = False) -> Dict[str, Any]: ...

class AuthenticationSession:
    def __init__(self, config: Dict[str, Any], *, now_ms: int = 0) -> None: ...
    def feed(self, engine: Engine, timestamp_ms: int, image: ImageInput, *, bgr: bool = False) -> Dict[str, Any]: ...
