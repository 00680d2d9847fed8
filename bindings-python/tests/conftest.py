import os
from pathlib import Path

import pytest

import faceprint

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("FACEPRINT_SHARED", REPO.parent / "shared"))
LFW = SHARED / "data" / "lfw" / "images"
DEV = SHARED / "data" / "dev"


def lfw(person: str, n: int) -> Path:
    return LFW / person / f"{person}_{n:04d}.jpg"


@pytest.fixture(scope="session")
def engine() -> faceprint.Engine:
    if not LFW.is_dir():
        pytest.fail(f"test photos not found at {LFW} (set FACEPRINT_SHARED)")
    # Models from FACEPRINT_MODELS (the test runner sets it to the checkout's models/).
    return faceprint.Engine()
