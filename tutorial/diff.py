"""What changed between two chapters, for projecting in class.

    python -m tutorial.diff 03 04                  # unified diff in the terminal
    python -m tutorial.diff 03 04 --html 03-04.html   # side-by-side page to open in a browser
    python -m tutorial.diff 05 final --stat        # only the list of changed files
    python -m tutorial.diff 03 04 --code           # without the chapter README

Chapters are named as elsewhere: 00..06, a folder name, or final. Caches and
session files are never part of a chapter, so they never show up here.
"""
from __future__ import annotations

import argparse
import difflib
import html
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tutorial.chapters import FINAL_DIR, ROOT, by_key  # noqa: E402

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


def side_by_side(a: Path, b: Path, readme: bool = True) -> str:
    ra, rb = a.relative_to(ROOT).as_posix(), b.relative_to(ROOT).as_posix()
    maker = difflib.HtmlDiff(tabsize=4, wrapcolumn=90)
    parts = []
    for path, old, new in changes(a, b, readme):
        parts.append("<h2>%s</h2>" % html.escape(path))
        parts.append(maker.make_table((old or "").splitlines(), (new or "").splitlines(),
                                      "%s/%s" % (ra, path) if old is not None else "(new file)",
                                      "%s/%s" % (rb, path) if new is not None else "(deleted)",
                                      context=True, numlines=3))
    title = "%s → %s" % (ra, rb)
    # HtmlDiff's own page skeleton has its styles; reuse them around our tables.
    page = maker.make_file([], [], "", "")
    head = page.split("<body>")[0]
    head = head.replace("<title></title>", "<title>%s</title>" % html.escape(title))
    head = head.replace("<head>", '<head>\n    <meta charset="utf-8">', 1)
    return "%s<body>\n<h1>%s</h1>\n%s\n</body>\n</html>\n" % (head, html.escape(title), "\n".join(parts))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", help="chapter: 00..06, folder name, or final")
    parser.add_argument("after", help="chapter: 00..06, folder name, or final")
    parser.add_argument("--html", metavar="FILE", help="write a side-by-side page to FILE")
    parser.add_argument("--stat", action="store_true", help="only list the changed files")
    parser.add_argument("--code", action="store_true", help="leave the chapter README out")
    args = parser.parse_args(argv)
    try:
        a, b = folder_of(args.before), folder_of(args.after)
    except KeyError as err:
        parser.error(str(err))
    if args.stat:
        for path, old, new in changes(a, b, not args.code):
            print(("A " if old is None else "D " if new is None else "M ") + path)
    elif args.html:
        Path(args.html).write_text(side_by_side(a, b, not args.code), encoding="utf-8")
        print("wrote", args.html)
    else:
        sys.stdout.reconfigure(encoding="utf-8")
        sys.stdout.write(unified(a, b, not args.code))
    return 0


if __name__ == "__main__":
    sys.exit(main())
