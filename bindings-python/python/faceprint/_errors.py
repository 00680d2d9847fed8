"""Exceptions: every error is a FaceprintError carrying `code` (the stable snake_case name
shared with C and Node) and `number` (the C status number); each code has its own subclass.
A few also derive from the matching builtin (ValueError, OSError, LookupError)."""

from typing import Dict, Type

from ._faceprint import ERROR_CODES


class FaceprintError(Exception):
    """Root of every Faceprint exception."""

    code: str = "internal"
    number: int = 99

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class InvalidArgumentError(FaceprintError, ValueError):
    code = "invalid_argument"
    number = 1

class IoError(FaceprintError, OSError):
    code = "io"
    number = 2

class ImageEmptyError(FaceprintError):
    code = "image_empty"
    number = 10

class ImageTooLargeError(FaceprintError):
    code = "image_too_large"
    number = 11

class ImageTooManyPixelsError(FaceprintError):
    code = "image_too_many_pixels"
    number = 12

class ImageTruncatedError(FaceprintError):
    code = "image_truncated"
    number = 13

class ImageCorruptError(FaceprintError):
    code = "image_corrupt"
    number = 14

class ImageUnsupportedFormatError(FaceprintError):
    code = "image_unsupported_format"
    number = 15

class InvalidPixelBufferError(FaceprintError, ValueError):
    code = "invalid_pixel_buffer"
    number = 16

class NoFaceError(FaceprintError):
    code = "no_face"
    number = 20

class MultipleFacesError(FaceprintError):
    code = "multiple_faces"
    number = 21

class ModelsNotFoundError(FaceprintError):
    code = "models_not_found"
    number = 30

class ModelChecksumError(FaceprintError):
    code = "model_checksum"
    number = 31

class ModelManifestError(FaceprintError):
    code = "model_manifest"
    number = 32

class RuntimeUnavailableError(FaceprintError):
    code = "runtime_unavailable"
    number = 33

class InferenceError(FaceprintError):
    code = "inference"
    number = 34

class ModelMismatchError(FaceprintError):
    code = "model_mismatch"
    number = 40

class InvalidEmbeddingError(FaceprintError, ValueError):
    code = "invalid_embedding"
    number = 41

class CalibrationRangeError(FaceprintError):
    code = "calibration_range"
    number = 42

class DecryptError(FaceprintError):
    code = "decrypt"
    number = 50

class WrongKeyError(FaceprintError):
    code = "wrong_key"
    number = 51

class StoreCorruptError(FaceprintError):
    code = "store_corrupt"
    number = 52

class NotFoundError(FaceprintError, LookupError):
    code = "not_found"
    number = 53

class AlreadyExistsError(FaceprintError):
    code = "already_exists"
    number = 54

class StorageError(FaceprintError):
    code = "storage"
    number = 55

class SubjectDisabledError(FaceprintError):
    code = "subject_disabled"
    number = 56

class QualityRejectedError(FaceprintError):
    code = "quality_rejected"
    number = 60

class SessionFinishedError(FaceprintError):
    code = "session_finished"
    number = 70

class NoDocumentError(FaceprintError):
    code = "no_document"
    number = 80

class NoMrzError(FaceprintError):
    code = "no_mrz"
    number = 81

class MrzUnreadableError(FaceprintError):
    code = "mrz_unreadable"
    number = 82

class MrzCheckFailedError(FaceprintError):
    code = "mrz_check_failed"
    number = 83

class NoPortraitError(FaceprintError):
    code = "no_portrait"
    number = 84

class InternalError(FaceprintError):
    code = "internal"
    number = 99


_by_code: Dict[str, Type[FaceprintError]] = {
    "invalid_argument": InvalidArgumentError,
    "io": IoError,
    "image_empty": ImageEmptyError,
    "image_too_large": ImageTooLargeError,
    "image_too_many_pixels": ImageTooManyPixelsError,
    "image_truncated": ImageTruncatedError,
    "image_corrupt": ImageCorruptError,
    "image_unsupported_format": ImageUnsupportedFormatError,
    "invalid_pixel_buffer": InvalidPixelBufferError,
    "no_face": NoFaceError,
    "multiple_faces": MultipleFacesError,
    "models_not_found": ModelsNotFoundError,
    "model_checksum": ModelChecksumError,
    "model_manifest": ModelManifestError,
    "runtime_unavailable": RuntimeUnavailableError,
    "inference": InferenceError,
    "model_mismatch": ModelMismatchError,
    "invalid_embedding": InvalidEmbeddingError,
    "calibration_range": CalibrationRangeError,
    "decrypt": DecryptError,
    "wrong_key": WrongKeyError,
    "store_corrupt": StoreCorruptError,
    "not_found": NotFoundError,
    "already_exists": AlreadyExistsError,
    "storage": StorageError,
    "subject_disabled": SubjectDisabledError,
    "quality_rejected": QualityRejectedError,
    "session_finished": SessionFinishedError,
    "no_document": NoDocumentError,
    "no_mrz": NoMrzError,
    "mrz_unreadable": MrzUnreadableError,
    "mrz_check_failed": MrzCheckFailedError,
    "no_portrait": NoPortraitError,
    "internal": InternalError,
}

# The core and this file must list the same codes (checked again by the test suite).
assert sorted(_by_code) == sorted(name for name, _ in ERROR_CODES), "error classes out of date"

# Spelled out (not computed) so mypy and pyright see every class; the test suite checks it
# against _by_code.
__all__ = [
    "FaceprintError",
    "InvalidArgumentError",
    "IoError",
    "ImageEmptyError",
    "ImageTooLargeError",
    "ImageTooManyPixelsError",
    "ImageTruncatedError",
    "ImageCorruptError",
    "ImageUnsupportedFormatError",
    "InvalidPixelBufferError",
    "NoFaceError",
    "MultipleFacesError",
    "ModelsNotFoundError",
    "ModelChecksumError",
    "ModelManifestError",
    "RuntimeUnavailableError",
    "InferenceError",
    "ModelMismatchError",
    "InvalidEmbeddingError",
    "CalibrationRangeError",
    "DecryptError",
    "WrongKeyError",
    "StoreCorruptError",
    "NotFoundError",
    "AlreadyExistsError",
    "StorageError",
    "SubjectDisabledError",
    "QualityRejectedError",
    "SessionFinishedError",
    "NoDocumentError",
    "NoMrzError",
    "MrzUnreadableError",
    "MrzCheckFailedError",
    "NoPortraitError",
    "InternalError",
]
