"""Commands shown in a README, with their answers, checked against a real server.

A README shows a session as a ```console block: lines starting with `$ ` are
commands, the lines under a command are its answer. This module runs those
commands for real (curl against the chapter's running server; `ls` and `cat`
of the chapter folder) and compares the answers, after masking the values that
change on every run with one rule, `mask`.

    python -m tutorial.transcript            # check every README, print differences
    python -m tutorial.transcript --update   # rewrite the answers from a real run

The rewritten README is what a reviewer then reads in `git diff`.
"""
from __future__ import annotations

import argparse
import difflib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python tutorial/transcript.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tutorial.chapters import CHAPTERS, FINAL_DIR, ROOT  # noqa: E402
from tutorial.lab import fast_hash_env  # noqa: E402
from tutorial import warm as warm_start  # noqa: E402
from tutorial.server import ChapterServer  # noqa: E402

README_PORT = 8000
TOKEN_PLACEHOLDER = "<token>"

# The one rule for values that differ on every run.
_MASKS = (
    # a token after "user|group|" (answers, cookies) or before ",time" (a session file)
    (re.compile(r"(?<=\|)[0-9a-f]{32}(?![0-9a-f])"), TOKEN_PLACEHOLDER),
    (re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{32}(?=,\d)"), TOKEN_PLACEHOLDER),
    # the Unix time stored after the token, and when a session ends ("expires")
    (re.compile(r"(?<=,)\d{10}(?!\d)"), "<time>"),
    (re.compile(r'(?<="expires":)\d{10}(?!\d)'), "<time>"),
    (re.compile(r'(?<="expires": )\d{10}(?!\d)'), "<time>"),  # (JSON laid out as jq shows it)
    # a device cookie (step 26 on): a random nonce and its signature, new with every login
    (re.compile(r"(?<=\|)[0-9a-f]{16}\|[0-9a-f]{64}(?![0-9a-f])"), "<nonce>|<signature>"),
    # how many seconds a throttled login must still wait: counted in whole seconds, so it depends
    # on where in a second the requests fell
    (re.compile(r"(?im)(?<=^Retry-After: )\d+$"), "<seconds>"),
    # whatever port the server really listened on
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:%d" % README_PORT),
    (re.compile(r"(?<=--port )\d+"), str(README_PORT)),
)


PORT = re.compile(r"(?<=127\.0\.0\.1:)\d+|(?<=--port )\d+")


def mask(text: str, ports: dict = None) -> str:
    """`ports`: {real port: port to show}, for several servers (the notebooks
    show theirs as 8000, 8001, ... in the order they appear); without it every
    port shows as 8000."""
    if ports is not None:
        text = PORT.sub(lambda m: str(ports.get(int(m.group()), README_PORT)), text)
    for pattern, replacement in _MASKS if ports is None else _MASKS[:-2]:
        text = pattern.sub(replacement, text)
    return text


def normalise(output: str) -> str:
    lines = output.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


@dataclass
class Step:
    command: str
    expected: str


@dataclass
class Block:
    start: int  # offset of the block's first line in the README
    end: int    # offset just after its last line (before the closing fence)
    steps: list


_BLOCK = re.compile(r"^```console\n(.*?)^```", re.S | re.M)


def parse(text: str) -> list:
    blocks = []
    for m in _BLOCK.finditer(text):
        steps = []
        for line in m.group(1).split("\n"):
            if line.startswith("$ "):
                steps.append(Step(line[2:].strip(), ""))
            elif steps:
                steps[-1].expected += line + "\n"
            elif line.strip():
                raise ValueError("text before the first `$ ` command in a console block: %r" % line)
        for step in steps:
            step.expected = normalise(step.expected)
        blocks.append(Block(m.start(1), m.end(1), steps))
    return blocks


class Session:
    """Runs README commands the way a learner types them, against one server."""

    def __init__(self, folder: Path, port: int):
        self.folder = Path(folder)
        self.port = port
        self.token = None  # the last token a login answered with

    def run(self, command: str) -> str:
        args = shlex.split(command)
        if TOKEN_PLACEHOLDER in command:
            if self.token is None:
                raise ValueError("%r uses %s before any login answered one" % (command, TOKEN_PLACEHOLDER))
            args = [a.replace(TOKEN_PLACEHOLDER, self.token) for a in args]
        name, rest = args[0], args[1:]
        if name == "curl":
            rest = [a.replace("127.0.0.1:%d" % README_PORT, "127.0.0.1:%d" % self.port) for a in rest]
            done = subprocess.run(["curl"] + rest, capture_output=True, timeout=30)
            output = done.stdout.decode("utf-8", "replace")
        elif name == "python" and len(rest) == 2 and rest[0] == "-c":
            # run inside the chapter folder, as a learner does after `cd chapters/<chapter>`
            output = python_c(rest[1], self.folder)
        elif name == "ls" and len(rest) == 1:
            # done in Python so the check also runs where there is no `ls`
            names = sorted(p.name for p in (self.folder / rest[0]).iterdir() if not p.name.startswith("."))
            output = "\n".join(names)
        elif name == "cat" and len(rest) == 1:
            path = self.folder / rest[0]
            output = path.read_text(encoding="utf-8") if path.exists() else \
                "cat: %s: No such file or directory" % rest[0]
        else:
            raise ValueError("a README console block may only show curl, python -c, `ls DIR` or `cat FILE`: %r"
                             % command)
        found = re.findall(r"\|([0-9a-f]{32})(?![0-9a-f])", output)
        if found:
            self.token = found[-1]
        return normalise(output)


def python_c(code: str, folder: Path) -> str:
    """What `python -B -c CODE` prints in `folder` (its output, then its error output). In a test run, in a
    warm interpreter (tutorial/warm.py): the same program, without paying for a new Python each time."""
    if not warm_start.wanted():
        done = subprocess.run([sys.executable, "-B", "-c", code], cwd=str(folder), capture_output=True,
                              timeout=30, env=_child_env())
        return (done.stdout + done.stderr).decode("utf-8", "replace")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        where = "/proc/%d/fd/%%d" % os.getpid()
        warm_start.Starter.get().start(["-c", code], folder, _child_env(), where % out.fileno(),
                                       where % err.fileno()).wait(30)
        out.seek(0)
        err.seek(0)
        return (out.read() + err.read()).decode("utf-8", "replace")


def _child_env() -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("SESSION_DIR", None)
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def copy_chapter(folder: Path, dest: Path) -> Path:
    """A copy of a chapter folder with an empty temp/, as a learner's clone has."""
    shutil.copytree(folder, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    temp = dest / "temp"
    for p in temp.iterdir() if temp.is_dir() else []:
        if p.name != ".gitignore":
            p.unlink()
    return dest


@dataclass
class Result:
    readme: Path
    blocks: list
    actual: list  # per block, per step: masked actual output
    server_exit: int = None   # how the server ended when Ctrl-C'd after the session
    server_output: str = ""

    @property
    def differences(self) -> list:
        out = []
        for block, answers in zip(self.blocks, self.actual):
            for step, got in zip(block.steps, answers):
                want = mask(step.expected)
                if got != want:
                    diff = "\n".join(difflib.unified_diff(want.split("\n"), got.split("\n"),
                                                          "README shows", "the app answered", lineterm=""))
                    out.append("%s\n$ %s\n%s" % (self.readme, step.command, diff))
        return out

    def updated_text(self) -> str:
        text = self.readme.read_text(encoding="utf-8")
        for block, answers in reversed(list(zip(self.blocks, self.actual))):
            body = "".join("$ %s\n%s" % (s.command, (a + "\n") if a else "") for s, a in zip(block.steps, answers))
            text = text[:block.start] + body + text[block.end:]
        return text


def server_env(blocks, env=None) -> dict:
    """The environment of a README session's server: `env`, and a password hash of one iteration. The answers
    are the same, and the forty-odd logins of the sessions would take some 6 s of CPU at 600,000. A session
    that sends logins at once (curl --parallel) keeps the real work factor: what it shows depends on how long
    a hash takes."""
    if any("--parallel" in step.command for block in blocks for step in block.steps):
        return dict(env or {})
    return dict(fast_hash_env(), **(env or {}))


def run_readme(readme: Path, app_folder: Path, workdir: Path, env=None) -> Result:
    """Run every console block of `readme` against a fresh copy of `app_folder`.

    `workdir` stands for the repository root: the app folder is copied to the
    same place below it (chapters/04-login, final), so nothing is written into
    the repository, and the server is started from there as
    `python chapters/04-login/run.py`. The commands run in the README's own
    folder, where a learner reading it would type them.
    """
    readme, app_folder, workdir = Path(readme).resolve(), Path(app_folder).resolve(), Path(workdir)
    blocks = parse(readme.read_text(encoding="utf-8"))
    copy = copy_chapter(app_folder, workdir / app_folder.relative_to(ROOT))
    here = workdir / readme.parent.relative_to(ROOT)
    actual = []
    server = ChapterServer(copy, cwd=workdir, env=server_env(blocks, env)).start()
    try:
        session = Session(here, server.port)
        for block in blocks:
            actual.append([mask(session.run(step.command)) for step in block.steps])
    finally:
        code = server.stop()
    return Result(readme, blocks, actual, code, server.output())


def readmes() -> dict:
    """{name: (README, the app folder its commands run against)}: every chapter's
    README (by slug) and the top-level one ("README.md", against final/).
    final/README.md is the last chapter's (python -m tutorial.readme writes it), and
    final/ is that chapter file for file: its session is the last chapter's."""
    pairs = {ch.slug: (ch.path / "README.md", ch.path) for ch in CHAPTERS}
    pairs["README.md"] = (ROOT / "README.md", FINAL_DIR)
    return pairs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="rewrite the answers in the READMEs")
    parser.add_argument("only", nargs="*", help="README paths (default: all)")
    args = parser.parse_args(argv)
    pairs = list(readmes().values())
    if args.only:
        wanted = {Path(p).resolve() for p in args.only}
        pairs = [(r, f) for r, f in pairs if r.resolve() in wanted]
    failed = 0
    for readme, folder in pairs:
        with tempfile.TemporaryDirectory() as tmp:
            result = run_readme(readme, folder, Path(tmp))
        rel = readme.relative_to(ROOT)
        if args.update:
            new = result.updated_text()
            if new != readme.read_text(encoding="utf-8"):
                readme.write_text(new, encoding="utf-8", newline="\n")
                print("updated", rel)
            else:
                print("unchanged", rel)
        elif result.differences:
            failed += 1
            print("\n\n".join(result.differences))
        else:
            print("ok", rel)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
