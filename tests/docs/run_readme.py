#!/usr/bin/env python3
"""Runs the README's Python, Node and command-line code blocks as written, on the real photos
they name.

Each ```python block under "### Python", ```js block under "### Node" and ```sh block under
"## Enroll, verify, identify" (the `faceprint` command's tour) is written to a file and run in a
scratch folder whose ../shared is the data mirror (the README's paths are relative to a checkout
beside ../shared) and whose target/release holds this checkout's programs, with a fresh
FACEPRINT_KEY. A block must exit 0 and print what its comments promise (checked below). Usage:
  run_readme.py --python VENV_PYTHON --node-app DIR_WITH_node_modules/faceprint [--shared DIR]
"""
import argparse
import base64
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# What each block must print (in order), from the comments beside the calls: one list per block.
EXPECT = {
    "python": [["True float32", "obama True", "1/3", "3/3", "['biden', 'obama'] staff", "2",
                "image_unsupported_format 15"],
               ["True False False 3 (128,)"]],
    "js": [["true", "obama true []", "[ 1, 2, 1 ]", "true image_unsupported_format"]],
    # The command-line tour: obama identified from the training folder, both faces of the
    # group photo named, the stored embedding identified, obama verified.
    "sh": [["obama", "face 1", "obama", "face 2", "biden", '{"candidates":[{"matched":true',
            '{"face":', '{"deleted":"obama"}', '{"already_done":0']],
}


def blocks(readme: str, section: str, lang: str):
    """The ```lang blocks between the heading `section` and the next heading of level 2 or 3."""
    start = readme.index(f"\n{section}\n")
    end = re.search(r"\n##?#? ", readme[start + 5:])
    body = readme[start:start + 5 + end.start()] if end else readme[start:]
    return re.findall(rf"```{lang}\n(.*?)```", body, re.S)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True)
    ap.add_argument("--node-app", required=True)
    ap.add_argument("--shared", default=os.environ.get("FACEPRINT_SHARED", REPO.parent / "shared"))
    args = ap.parse_args()
    readme = (REPO / "README.md").read_text()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "checkout"
        run_dir.mkdir()
        (Path(tmp) / "shared").symlink_to(Path(args.shared).resolve())
        env = dict(os.environ, FACEPRINT_KEY=base64.b64encode(os.urandom(32)).decode())
        release = run_dir / "target" / "release"
        release.mkdir(parents=True)
        (release / "faceprint").symlink_to(REPO / "target" / "release" / "faceprint")
        for lang, section in (("python", "### Python"), ("js", "### Node"),
                              ("sh", "## Enroll, verify, identify")):
            found = blocks(readme, section, lang)
            if len(found) != len(EXPECT[lang]):
                failures.append(f"{len(found)} ```{lang} blocks under {section}, "
                                f"{len(EXPECT[lang])} expected")
                continue
            for n, code in enumerate(found):
                if lang == "python":
                    path = run_dir / f"readme_{n}.py"
                    cmd = [args.python, str(path)]
                elif lang == "sh":
                    path = run_dir / f"readme_{n}.sh"
                    cmd = ["bash", "-euo", "pipefail", str(path)]
                else:
                    # Beside node_modules, so `import 'faceprint'` resolves to the installed package.
                    path = Path(args.node_app) / f"readme_{n}.mjs"
                    cmd = ["node", str(path)]
                path.write_text(code)
                out = subprocess.run(cmd, cwd=run_dir, env=env, capture_output=True, text=True,
                                     timeout=300)
                print(f"-- {section} block {n + 1}: exit {out.returncode}")
                print("   " + "\n   ".join(out.stdout.strip().splitlines()[:12]))
                if out.returncode != 0:
                    failures.append(f"{section} block {n + 1} failed:\n{out.stderr[-2000:]}")
                    continue
                lines = [l.strip() for l in out.stdout.splitlines()]
                at = 0
                for want in EXPECT[lang][n]:
                    hit = next((i for i in range(at, len(lines)) if lines[i].startswith(want)), None)
                    if hit is None:
                        failures.append(f"{section} block {n + 1}: no line starting {want!r} "
                                        f"after line {at}: {lines}")
                        break
                    at = hit + 1
    if failures:
        print("README blocks FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print("README: the Python, Node and command-line examples run as written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
