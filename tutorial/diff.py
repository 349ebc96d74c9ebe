"""What changed between two chapters, for projecting in class.

    python -m tutorial.diff 03 04                  # unified diff in the terminal
    python -m tutorial.diff 03 04 --html           # the page to project, written to a temporary folder
    python -m tutorial.diff 03 04 --html page.html # ... or to the file you name
    python -m tutorial.diff 03 04 --html --readme  # ... with the chapter README's diff after the code
    python -m tutorial.diff 05 final --stat        # only the changed files, with lines added and removed
    python -m tutorial.diff 03 04 --code           # without the chapter README

The page (--html) is in projector mode: the code only, in large type, the files in the order the
step teaches them, each step's sentence and its README linked at the top (tutorial/diffpage.py).
The terminal diff and --stat include the chapter README, last, unless --code.

In a terminal the diff is in colour (green added, red removed); piped, or with NO_COLOR set, or
with --color never, it is plain text. --color always keeps the colour in a pipe (| less -R).

Chapters are named as elsewhere: a two-digit number, a folder name, or final. Caches and
session files are never part of a chapter, so they never show up here.
"""
from __future__ import annotations

import argparse
import difflib
import os
import sys
import tempfile
import webbrowser
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tutorial import diffpage  # noqa: E402
from tutorial.chapters import CHAPTERS, FINAL_DIR, LAST, ROOT, by_key  # noqa: E402

SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}


def folder_of(key: str) -> Path:
    if key.strip("/\\") in ("final",):
        return FINAL_DIR
    return by_key(key).path


def chapter_files(folder: Path) -> dict:
    """relative path -> text, for every file that belongs to the chapter."""
    files = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or SKIP_PARTS & set(rel.parts) or path.suffix == ".pyc":
            continue
        if rel.parts[0] == "temp" and rel.name != ".gitignore":
            continue  # session files a learner's run left behind
        files[rel.as_posix()] = path.read_text(encoding="utf-8")
    return files


def changes(a: Path, b: Path, readme: bool = True) -> list:
    """[(path, old text or None, new text or None)] for every file that differs,
    the code first and the chapter README last."""
    fa, fb = chapter_files(a), chapter_files(b)
    paths = sorted(set(fa) | set(fb), key=lambda p: (p == "README.md", p))
    return [(p, fa.get(p), fb.get(p)) for p in paths
            if fa.get(p) != fb.get(p) and (readme or p != "README.md")]


def steps_between(before: str, after: str) -> tuple:
    """The steps that lead from chapter `before` to chapter `after` (or back)."""
    first, last = sorted((by_key(before).number, by_key(after).number))
    return CHAPTERS[first + 1:last + 1]


def teaching_order(changed: list, steps) -> list:
    """`changed` (as changes() lists it) in the order the steps teach: their `touches` in order of first
    appearance, then any other changed file alphabetically, the chapter README last."""
    taught = list(dict.fromkeys(path for ch in steps for path in ch.touches))

    def rank(change):
        path = change[0]
        if path == "README.md":
            return 2, 0, path
        return (0, taught.index(path), path) if path in taught else (1, 0, path)

    return sorted(changed, key=rank)


def unified(a: Path, b: Path, readme: bool = True) -> str:
    out = []
    ra, rb = a.relative_to(ROOT).as_posix(), b.relative_to(ROOT).as_posix()
    for path, old, new in changes(a, b, readme):
        out.extend(difflib.unified_diff(
            (old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True),
            "%s/%s" % (ra, path) if old is not None else "/dev/null",
            "%s/%s" % (rb, path) if new is not None else "/dev/null"))
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
    return "".join(out)


def counts(old, new) -> tuple:
    """(lines added, lines removed) from old text to new (None: no such file)."""
    added = removed = 0
    for line in difflib.unified_diff((old or "").splitlines(), (new or "").splitlines(), lineterm="", n=0):
        if line.startswith(("+++", "---", "@@")):
            continue
        added += line.startswith("+")
        removed += line.startswith("-")
    return added, removed


def stat(a: Path, b: Path, readme: bool = True) -> str:
    """One line per changed file (A added, D deleted, M modified) with its +/- counts, then the totals."""
    rows = [(("A " if old is None else "D " if new is None else "M ") + path, *counts(old, new))
            for path, old, new in changes(a, b, readme)]
    width = max((len(name) for name, _, _ in rows), default=0)
    lines = ["%-*s  +%-4d -%d" % (width, name, plus, minus) for name, plus, minus in rows]
    lines.append("%d files changed, %d lines added (+), %d removed (-)"
                 % (len(rows), sum(r[1] for r in rows), sum(r[2] for r in rows)))
    return "\n".join(lines) + "\n"


COLOURS = {"+": "\033[32m", "-": "\033[31m", "@": "\033[36m"}


def coloured(text: str) -> str:
    """A unified diff with ANSI colours: added lines green, removed red, hunk headers cyan, file names bold."""
    out = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\n")
        if line.startswith(("+++", "---")):
            body = "\033[1m%s\033[0m" % body
        elif line[:1] in COLOURS:
            body = "%s%s\033[0m" % (COLOURS[line[:1]], body)
        out.append(body + line[len(line.rstrip("\n")):])
    return "".join(out)


def use_colour(choice: str, stream) -> bool:
    """--color auto: only to a terminal, and not with NO_COLOR set (https://no-color.org) or TERM=dumb."""
    if choice != "auto":
        return choice == "always"
    return stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def side_by_side(a: Path, b: Path, readme: bool = False, keys=None) -> str:
    """The page to project (tutorial/diffpage.py): the code in teaching order, with each file's
    line counts, and the chapter README's diff last with `readme`; `keys` name the chapters as typed."""
    ra, rb = a.relative_to(ROOT).as_posix(), b.relative_to(ROOT).as_posix()
    keys = keys or (a.name if a != FINAL_DIR else "final", b.name if b != FINAL_DIR else "final")
    steps = steps_between(*keys)
    files = [(path, old, new, counts(old, new)) for path, old, new in teaching_order(changes(a, b, readme), steps)]
    return diffpage.page(keys[0], keys[1], files, (ra, rb), steps)


def page_path(named: str, before: str, after: str) -> Path:
    """Where --html writes: the file named, or a new temporary folder (never the repository)."""
    if named:
        return Path(named)
    name = "%s-%s.html" % (before.strip("/\\").split("/")[-1][:2], after.strip("/\\").split("/")[-1][:5])
    return Path(tempfile.mkdtemp(prefix="tutorial-diff-")) / name


def main(argv=None) -> int:
    known = "%s..%s, a folder name, or final" % (CHAPTERS[0].tag, LAST.tag)
    parser = argparse.ArgumentParser(prog="python -m tutorial.diff", description=__doc__.split("\n\n")[0])
    parser.add_argument("before", help="chapter: " + known)
    parser.add_argument("after", help="chapter: " + known)
    parser.add_argument("--html", metavar="FILE", nargs="?", const="",
                        help="write the page to project to FILE (default: a new temporary folder): "
                             "the code only, in teaching order, the chapter README linked")
    parser.add_argument("--open", action="store_true", help="with --html: open the page in a browser")
    parser.add_argument("--stat", action="store_true", help="only list the changed files, with lines added and removed")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour the diff: in a terminal only (auto, the default), always, or never")
    parser.add_argument("--readme", action="store_true",
                        help="with --html: diff the chapter README too, after the code (the terminal diff "
                             "and --stat always include it, unless --code)")
    parser.add_argument("--code", action="store_true",
                        help="leave the chapter README out (the page leaves it out anyway, unless --readme)")
    args = parser.parse_args(argv)
    try:
        a, b = folder_of(args.before), folder_of(args.after)
    except KeyError as err:
        parser.error(str(err))
    if args.stat:
        sys.stdout.write(stat(a, b, not args.code))
    elif args.html is not None:
        path = page_path(args.html, args.before, args.after)
        page = side_by_side(a, b, args.readme and not args.code, (args.before, args.after))
        path.write_text(page, encoding="utf-8")
        print(path)
        if args.open:
            webbrowser.open(path.resolve().as_uri())
    else:
        sys.stdout.reconfigure(encoding="utf-8")
        text = unified(a, b, not args.code)
        sys.stdout.write(coloured(text) if use_colour(args.color, sys.stdout) else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
