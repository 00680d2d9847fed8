#!/usr/bin/env python3
"""Runs the README's code blocks as written: shell, Python, Node and CMake (the Rust blocks run
in tests/tests/readme_rust.rs, the C program in ffi/tests/readme_c.rs; the CMake block builds
that same C program here).

Two places, as a reader would use them:
- the checkout itself, for the commands that build and install from it (`./setup.sh`, the C,
  Python and Node install blocks), with HOME a fresh directory so `~/.local`, `~/app` and the
  `pip` of a fresh virtual environment land nowhere real; afterwards `git status` must be clean;
- a scratch folder whose ../shared is the data mirror (the README's paths are relative to a
  checkout beside ../shared) and whose target/x86_64-unknown-linux-gnu/release holds this
  checkout's programs, for the commands that use them (first run, the `faceprint` tour, the face-login, attendance and KYC
  servers).
Every block gets a fresh FACEPRINT_KEY, must exit 0 and print what its comments promise (EXPECT
below). The Python and Node examples run on what the README's install blocks installed, with no
FACEPRINT_MODELS: the model packages must be found by themselves. `./test.sh` is the command
this runs inside; its block is checked to be what `.ci/run` runs. Usage:
  run_readme.py [--shared DIR]
"""
import argparse
import base64
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Where the checkout's programs are (the build's target is set in .cargo/config.toml).
BUILT = Path("target/x86_64-unknown-linux-gnu/release")

# What each block must print, in order: a string is a line's start, a compiled pattern is
# searched in a line. One list per block of the section.
UUID = r'"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"'
EXPECT = {
    ("## Set up", "sh"): [[]],
    ("## First run", "sh"): [[re.compile(r'"same":true')]],
    # The command-line tour: obama identified from the training folder, both faces of the
    # group photo named, the stored embedding identified, obama verified.
    ("## Enroll, verify, identify", "sh"): [
        ["obama", "face 1", "obama", "face 2", "biden", '{"candidates":[{"matched":true',
         '{"face":', '{"deleted":"obama"}', '{"already_done":0']],
    ("### Start it", "sh"): [[], [re.compile(r'"username":"root"'), "fpk_",
                                  re.compile(r'"collection":"partner-a"'),
                                  '{"revoked":"']],
    # The attendance tour: staff made, an employee enrolled from two photos, the video
    # camera's one visit recorded, the day's summary and the CSV, a frame pushed with a key.
    ("### Run it", "sh"): [[], [re.compile(r'"username":"root","role":"admin"'),
                                re.compile(r'"username":"guard","role":"viewer"'),
                                '{"accepted":2,"rejected":[]}',
                                re.compile(r'"state":"finished".*"records_written":1'),
                                '{"direction":"in"', re.compile(r'"present":1|"late":1'),
                                "record_id,employee_id,employee",
                                # the push camera's key took a frame
                                '{"queued":true}']],
    # The KYC tour: a verifier made, the specimen read with every digit and its printed
    # names and dates found, a stranger's selfie rejected, the verifier's list.
    ("### Start the KYC server", "sh"): [[], [re.compile(r'"username":"vera","role":"verifier"'),
                                              '{"number":"L898902C3","valid":true,"printed":[true,true,true,true,true]}',
                                              '{"status":"rejected","reasons":["document_expired","face_mismatch"]}',
                                              '[{"status":"rejected","reasons":["document_expired","face_mismatch"],"steps_done":3}]']],
    # A node on the PostgreSQL the tests run (FACEPRINT_TEST_PG, as $DATABASE_URL): started,
    # an administrator made there by the tool, the node ready.
    ("### Several nodes on PostgreSQL", "sh"): [[], [re.compile(r'"username":"root"'),
                                                     '{"status":"ready"}']],
    ("### User API (curl)", "sh"): [[
        re.compile("^" + UUID + "$"), re.compile("^" + UUID + "$"),
        re.compile(r'"email":"obama@example.com"'),
        '["access_token","expires_in","refresh_token"', re.compile(r'"current":true'),
        re.compile(r'"faces":2'), '{"matched":true', re.compile(r'"action":"verify"'), "204"]],
    # identify.c: everyone in the training folder enrolled, the probe named obama.
    ("### C", "sh"): [[re.compile(r"face 1 candidate 1: obama ")]],
    ("### C", "cmake"): [["same: 1 score 0.718"]],
    ("### Python", "sh"): [[]],
    ("### Python", "python"): [["True float32", "obama True", "1/3", "3/3",
                                "['biden', 'obama'] staff", "2", "image_unsupported_format 15"]],
    ("#### For face_recognition users", "python"): [["True False False 3 (128,)"]],
    ("### Node", "sh"): [[]],
    ("### Node", "js"): [["true", "obama true []", "[ 1, 2, 1 ]",
                          "true image_unsupported_format"]],
}


def blocks(readme: str, section: str, lang: str):
    """The ```lang blocks between the heading `section` and the next heading."""
    start = readme.index(f"\n{section}\n")
    end = re.search(r"\n#+ ", readme[start + len(section) + 2:])
    body = readme[start:start + len(section) + 2 + end.start()] if end else readme[start:]
    return re.findall(rf"```{lang}\n(.*?)```", body, re.S)


class Run:
    def __init__(self, shared: Path, tmp: Path):
        self.failures = []
        self.readme = (REPO / "README.md").read_text()
        self.home = tmp / "home"
        self.home.mkdir()
        # The scratch checkout: ../shared beside it, this build's programs where the README runs
        # them.
        self.scratch = tmp / "checkout"
        release = self.scratch / BUILT
        release.mkdir(parents=True)
        (tmp / "shared").symlink_to(shared.resolve())
        for program in ("faceprint", "faceprint-auth", "faceprint-attendance", "faceprint-kyc"):
            (release / program).symlink_to(REPO / BUILT / program)
        self.venv = tmp / "venv"
        # Building from the checkout with HOME elsewhere: cargo and rustup keep their own homes.
        real_home = Path(os.environ.get("HOME", "/root"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("FACEPRINT_")}
        env.update(FACEPRINT_KEY=base64.b64encode(os.urandom(32)).decode(),
                   CARGO_HOME=os.environ.get("CARGO_HOME", str(real_home / ".cargo")),
                   RUSTUP_HOME=os.environ.get("RUSTUP_HOME", str(real_home / ".rustup")))
        self.env = env
        # HOME is fresh so `~/.local` and `~/app` land in scratch; the machine's caches (zig's,
        # pip's, npm's) stay where they are, so nothing built before is built again.
        self.install_env = dict(env, HOME=str(self.home),
                                XDG_CACHE_HOME=os.environ.get("XDG_CACHE_HOME",
                                                              str(real_home / ".cache")),
                                npm_config_cache=os.environ.get("npm_config_cache",
                                                                str(real_home / ".npm")),
                                PATH=f"{self.venv / 'bin'}:{env['PATH']}",
                                VIRTUAL_ENV=str(self.venv))

    def check(self, name: str, stdout: str, expect: list):
        lines = [l.strip() for l in stdout.splitlines()]
        at = 0
        for want in expect:
            hit = next((i for i in range(at, len(lines))
                        if (want.search(lines[i]) if isinstance(want, re.Pattern)
                            else lines[i].startswith(want))), None)
            if hit is None:
                shown = want.pattern if isinstance(want, re.Pattern) else want
                self.failures.append(f"{name}: no line matching {shown!r} after line {at}: "
                                     f"{lines[:40]}")
                return
            at = hit + 1

    def section(self, section: str, lang: str):
        found = blocks(self.readme, section, lang)
        want = EXPECT[(section, lang)]
        if len(found) != len(want):
            self.failures.append(f"{len(found)} ```{lang} blocks under {section}, {len(want)} "
                                 "expected")
            return []
        return list(zip(found, want))

    def run(self, section, lang, n, cmd, cwd, env, expect, timeout=1800):
        name = f"{section} ```{lang} block {n + 1}"
        t0 = time.monotonic()
        out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                             timeout=timeout)
        print(f"-- {name}: exit {out.returncode} ({time.monotonic() - t0:.0f} s)")
        print("   " + "\n   ".join(out.stdout.strip().splitlines()[-12:]))
        if out.returncode != 0:
            self.failures.append(f"{name} failed:\n{out.stdout[-1500:]}\n{out.stderr[-3000:]}")
            return False
        self.check(name, out.stdout, expect)
        return True

    def shell(self, section, cwd, env):
        for n, (code, expect) in enumerate(self.section(section, "sh")):
            path = Path(tempfile.mkdtemp(dir=self.home.parent)) / "block.sh"
            path.write_text(code)
            if not self.run(section, "sh", n, ["bash", "-euo", "pipefail", str(path)], cwd,
                            env, expect):
                return False
        return True

    def test_command(self):
        # ./test.sh is this test's own caller: the block must be what CI runs.
        found = blocks(self.readme, "## Test", "sh")
        ci = (REPO / ".ci" / "run").read_text()
        if found != ["./test.sh\n"] or "\n./test.sh\n" not in ci:
            self.failures.append(f"## Test: the README's block {found} is not what .ci/run runs")

    def setup_block(self):
        # Run as written in the checkout (a no-op when everything is there): git must see no
        # change from it.
        before = git_status()
        if self.shell("## Set up", REPO, self.env) and git_status() != before:
            self.failures.append(f"./setup.sh changed the checkout:\n{git_status()}")

    def c_blocks(self):
        if not self.shell("### C", REPO, self.install_env):
            return
        # The CMake block builds the README's C program against the prefix just installed.
        app = self.home / "cmake-app"
        app.mkdir()
        [c_program] = blocks(self.readme, "### C", "c")
        (app / "app.c").write_text(c_program)
        for n, (code, expect) in enumerate(self.section("### C", "cmake")):
            (app / "CMakeLists.txt").write_text(code)
            env = dict(self.install_env,
                       PKG_CONFIG_PATH=str(self.home / ".local" / "lib" / "pkgconfig"))
            script = f"cmake -S {app} -B {app}/build >/dev/null && " \
                     f"cmake --build {app}/build >/dev/null && {app}/build/app"
            self.run("### C", "cmake", n, ["bash", "-euo", "pipefail", "-c", script],
                     self.scratch, env, expect)

    def python_blocks(self):
        subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
        if not self.shell("### Python", REPO, self.install_env):
            return
        for section in ("### Python", "#### For face_recognition users"):
            for n, (code, expect) in enumerate(self.section(section, "python")):
                path = self.scratch / f"readme_{section.strip('# ').replace(' ', '_')}_{n}.py"
                path.write_text(code)
                self.run(section, "python", n, [str(self.venv / "bin" / "python"), str(path)],
                         self.scratch, self.install_env, expect)

    def node_blocks(self):
        if not self.shell("### Node", REPO, self.install_env):
            return
        for n, (code, expect) in enumerate(self.section("### Node", "js")):
            # In the app folder the install block made, so `import 'faceprint'` resolves there.
            path = self.home / "app" / f"readme_{n}.mjs"
            path.write_text(code)
            self.run("### Node", "js", n, ["node", str(path)], self.scratch, self.install_env,
                     expect)

    def server(self, url: str, section: str, then: tuple = (), env: dict = None):
        """Starts a server with the first ```sh block of `section` (it puts the server in the
        background), waits until it is ready, runs the section's other blocks and the sections
        in `then`, and stops it; `env` adds to the blocks' environment."""
        env = dict(self.env, **(env or {}))
        try:
            urllib.request.urlopen(f"{url}/health", timeout=2)
            self.failures.append(f"{url} already answers: stop that server first")
            return
        except OSError:
            pass
        found = self.section(section, "sh")
        if not found:
            return
        (start, _), rest = found[0], found[1:]
        log_path = self.home.parent / f"server-{section.strip('# ').replace(' ', '_')}.log"
        log = open(log_path, "w")
        # Its own session lets the whole group be stopped afterwards.
        server = subprocess.Popen(["bash", "-euo", "pipefail", "-c", start], cwd=self.scratch,
                                  env=env, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    urllib.request.urlopen(f"{url}/health/ready", timeout=2)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        self.failures.append(f"{section}: not ready in 120 s:\n"
                                             + log_path.read_text()[-2000:])
                        return
                    time.sleep(0.3)
            print(f"-- {section} ```sh block 1: ready")
            for n, (code, expect) in enumerate(rest, start=1):
                path = self.home.parent / f"server_{n}.sh"
                path.write_text(code)
                self.run(section, "sh", n, ["bash", "-euo", "pipefail", str(path)],
                         self.scratch, env, expect)
            for other in then:
                self.shell(other, self.scratch, self.env)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
            log.close()
            text = log_path.read_text()
            if "panicked" in text:
                self.failures.append(f"the server of {section} panicked:\n{text[-3000:]}")

def git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True,
                          text=True, check=True).stdout


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.environ.get("FACEPRINT_SHARED", REPO.parent / "shared"))
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="faceprint-readme-"))
    try:
        r = Run(Path(args.shared), tmp)
        before = git_status()
        r.test_command()
        r.setup_block()
        r.shell("## First run", r.scratch, r.env)
        r.shell("## Enroll, verify, identify", r.scratch, r.env)
        r.server("http://127.0.0.1:8080", "### Start it", ("### User API (curl)",))
        database = os.environ.get("FACEPRINT_TEST_PG")
        if database:
            r.server("http://127.0.0.1:8090", "### Several nodes on PostgreSQL",
                     env={"DATABASE_URL": database})
        else:
            r.failures.append("FACEPRINT_TEST_PG is not set: ./test.sh starts the PostgreSQL "
                              "the README's node block runs on")
        r.server("http://127.0.0.1:8081", "### Run it")
        r.server("http://127.0.0.1:8082", "### Start the KYC server")
        r.c_blocks()
        r.python_blocks()
        r.node_blocks()
        # Nothing the install blocks built may show in git either.
        if git_status() != before:
            r.failures.append(f"the README's blocks changed the checkout:\n{git_status()}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if r.failures:
        print("README blocks FAILED:\n  " + "\n  ".join(r.failures), file=sys.stderr)
        return 1
    print("README: every shell, Python, Node and CMake block ran as written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
