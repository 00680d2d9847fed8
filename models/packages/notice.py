#!/usr/bin/env python3
"""Writes NOTICE (the repository's, also shipped in every package) from models/manifest.toml:
the project's licence and each model's own. `--check` fails when NOTICE is out of date."""
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def notice() -> str:
    manifest = tomllib.loads((ROOT / "models/manifest.toml").read_text())
    lines = [
        "Faceprint",
        "Copyright 2026 the Faceprint authors. Licensed under the Apache License, Version 2.0",
        "(LICENSE).",
        "",
        "The model pack (the `faceprint-models` wheel, the `@faceprint/models` npm package, a",
        "pack installed by `faceprint models install`) holds third-party model weights, each",
        "under its own licence, unchanged except where a conversion is named in",
        "models/manifest.toml:",
        "",
    ]
    for m in manifest["models"]:
        lines.append(f"- {m['id']} ({m['file']}): {m['licence']}")
    lines += [
        "",
        "The Python wheel and the npm package of the library also carry ONNX Runtime 1.31.1",
        "(libonnxruntime.so.1.31.1, MIT License, Copyright (c) Microsoft Corporation).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    path = ROOT / "NOTICE"
    if sys.argv[1:] == ["--check"]:
        if not path.is_file() or path.read_text() != notice():
            sys.exit("NOTICE is out of date with models/manifest.toml: run models/packages/notice.py")
    else:
        path.write_text(notice())
