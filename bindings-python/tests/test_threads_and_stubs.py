"""One engine shared by threads gives the sequential answers; the stubs match the module."""

import ast
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

import faceprint
from faceprint import _faceprint
from conftest import lfw

PHOTOS = [lfw(p, n) for p in ("Tony_Blair", "George_W_Bush", "Colin_Powell") for n in (1, 2, 3)]


def test_threads_match_sequential(engine):
    sequential = [engine.extract_largest(p).embedding for p in PHOTOS]
    arrays = [engine.decode(p) for p in PHOTOS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        from_paths = list(pool.map(lambda p: engine.extract_largest(p).embedding, PHOTOS * 2))
        from_arrays = list(pool.map(lambda a: engine.extract_largest(a).embedding, arrays))
    for got, want in zip(from_paths, sequential * 2):
        assert np.array_equal(got, want)
    for got, want in zip(from_arrays, sequential):
        assert np.array_equal(got, want)


def test_error_classes_cover_every_code():
    assert sorted(c.code for c in faceprint._errors._by_code.values()) == sorted(
        name for name, _ in _faceprint.ERROR_CODES
    )
    for name, number in _faceprint.ERROR_CODES:
        cls = faceprint._errors._by_code[name]
        assert cls.number == number and issubclass(cls, faceprint.FaceprintError)
        assert getattr(faceprint, cls.__name__) is cls


def test_stubs_name_what_exists():
    stub = ast.parse((Path(faceprint.__file__).parent / "_faceprint.pyi").read_text())
    for node in stub.body:
        if isinstance(node, ast.ClassDef):
            cls = getattr(_faceprint, node.name)
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("__"):
                    assert hasattr(cls, item.name), f"{node.name}.{item.name}"
        elif isinstance(node, ast.AnnAssign):
            assert hasattr(_faceprint, node.target.id), node.target.id
    assert (Path(faceprint.__file__).parent / "py.typed").exists()
