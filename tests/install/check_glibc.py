#!/usr/bin/env python3
"""Fails when a shared object or program needs a glibc symbol version newer than --max
(read with `objdump -T`), or when --wheel's platform tag is not manylinux_<max>."""
import argparse
import re
import subprocess
import sys
import zipfile
from pathlib import Path


def versions(path: str) -> set:
    out = subprocess.run(["objdump", "-T", path], check=True, capture_output=True, text=True).stdout
    return {tuple(int(p) for p in v.split(".")) for v in re.findall(r"GLIBC_(\d+(?:\.\d+)+)", out)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max", required=True)
    ap.add_argument("--wheel")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    limit = tuple(int(p) for p in args.max.split("."))
    bad = False
    for f in args.files:
        found = versions(f)
        if not found:
            print(f"   {f}: no GLIBC symbol versions at all", file=sys.stderr)
            bad = True
            continue
        newest = max(found)
        over = sorted(v for v in found if v > limit)
        label = ".".join(map(str, newest))
        if over:
            print(f"   {Path(f).name}: needs GLIBC {', '.join('.'.join(map(str, v)) for v in over)}",
                  file=sys.stderr)
            bad = True
        else:
            print(f"   {Path(f).name}: newest GLIBC_{label}")
    if args.wheel:
        tag = f"manylinux_{args.max.replace('.', '_')}_x86_64"
        with zipfile.ZipFile(args.wheel) as z:
            wheel_file = next(n for n in z.namelist() if n.endswith(".dist-info/WHEEL"))
            tags = [l.split(":", 1)[1].strip() for l in z.read(wheel_file).decode().splitlines()
                    if l.startswith("Tag:")]
        if not Path(args.wheel).name.endswith(f"{tag}.whl") or not all(t.endswith(tag) for t in tags):
            print(f"   {Path(args.wheel).name}: tags {tags}, expected {tag}", file=sys.stderr)
            bad = True
        else:
            print(f"   {Path(args.wheel).name}: tag {', '.join(tags)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
