"""The Faceprint model pack, packaged the way face_recognition_models is: install it beside
`faceprint` and `faceprint.Engine()` finds it (after FACEPRINT_MODELS, before
~/.local/share/faceprint/models).

    import faceprint_models
    faceprint_models.models_dir()     # the pack: manifest.toml and the ONNX files
"""

from pathlib import Path

__all__ = ["models_dir", "manifest_path", "__version__"]
__version__ = "0.1.0"


def models_dir() -> str:
    """The directory of the pack (holding manifest.toml)."""
    return str(Path(__file__).resolve().parent / "pack")


def manifest_path() -> str:
    """The pack's manifest: every model's file, sha256, size, licence and input spec."""
    return str(Path(models_dir()) / "manifest.toml")
