"""What the READMEs take from elsewhere: the chapter tables (a short one in the top README, the whole one
in docs/chapters.md), written from tutorial/chapters.py and the chapters themselves, and final/README.md, the same file as the last
chapter's README, whose links climbing out of its folder start from the
repository's root instead (/chapters/..., /notebooks/...: GitHub and editors
resolve those from the root), so that they work from both folders.

    python -m tutorial.readme            # rewrite the tables, the last chapter's links, final/README.md
    python -m tutorial.readme --check    # exit 1 if any is out of date
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import re  # noqa: E402

from tutorial.chapters import CHAPTERS, FINAL_DIR, LAST, ROOT  # noqa: E402

README = ROOT / "README.md"
CHAPTER_PAGE = ROOT / "docs" / "chapters.md"
FINAL_README = FINAL_DIR / "README.md"
START, END = "<!-- chapters:start -->", "<!-- chapters:end -->"


def code_lines_changed(ch) -> str:
    """Lines added plus lines removed against the chapter before, in every file but the README ("—" for 00)."""
    from tutorial.diff import changes, counts

    if ch.number == 0:
        return "—"
    return str(sum(sum(counts(old, new)) for _, old, new in changes(CHAPTERS[ch.number - 1].path, ch.path, False)))


def chapter_table() -> str:
    """The top README's short table: one line a chapter, its article for the articles' steps."""
    rows = ["| 章 / Ch | 这一步 | What it adds | 代码行 / Code lines |", "| --- | --- | --- | ---: |"]
    for ch in CHAPTERS:
        article = "" if ch.beyond else "（[%s](%s)）" % (ch.article, ch.url)
        rows.append("| [%s](chapters/%s/) | %s%s | %s | %s |"
                    % (ch.tag, ch.slug, ch.title_zh, article, ch.title_en, code_lines_changed(ch)))
    return "\n".join(rows)


def full_chapter_table() -> str:
    """docs/chapters.md's table: besides, the gap each step closes and the files it changes, in teaching order."""
    rows = [
        "| 章节 / Chapter | 文章 / Article | 这一步 / What it adds | 上一章的漏洞 / The gap it closes | "
        "改动的文件 / Files changed | 代码行 / Code lines |",
        "| --- | --- | --- | --- | --- | ---: |",
    ]
    for ch in CHAPTERS:
        files = ", ".join("`%s`" % f for f in ch.touches) or "—"
        article = "[%s](%s)" % (ch.article, ch.url) if not ch.beyond else "[超出文章 / beyond](%s)" % ch.url
        closes = "%s<br>%s" % (ch.closes_zh, ch.closes_en) if ch.closes_zh else "—"
        rows.append("| [%s](../chapters/%s/) | %s | %s<br>%s | %s | %s | %s |"
                    % (ch.slug, ch.slug, article, ch.title_zh, ch.title_en, closes, files, code_lines_changed(ch)))
    return "\n".join(rows)


def with_table(text: str, table=chapter_table, name="README.md") -> str:
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    if not rest:
        raise ValueError("%s has no %s ... %s markers" % (name, START, END))
    return "%s%s\n%s\n%s%s" % (head, START, table(), END, tail)


def last_readme(text: str) -> str:
    """The last chapter's README, as it is kept there and in final/: the links that
    climb out of the chapter folder start from the repository's root (a sibling
    chapter ../NN-slug/ is /chapters/NN-slug/; ../../x is /x), the same from both."""
    text = re.sub(r"\]\(\.\./\.\./", "](/", text)
    return re.sub(r"\]\(\.\./(\d\d-[\w-]+)", r"](/chapters/\1", text)


def expected() -> dict:
    """{path: the text it should have}"""
    last = last_readme((LAST.path / "README.md").read_text(encoding="utf-8"))
    page = with_table(CHAPTER_PAGE.read_text(encoding="utf-8"), full_chapter_table, "docs/chapters.md")
    return {README: with_table(README.read_text(encoding="utf-8")), CHAPTER_PAGE: page,
            LAST.path / "README.md": last, FINAL_README: last}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check, change nothing")
    args = parser.parse_args(argv)
    stale = [path for path, text in expected().items()
             if not path.is_file() or path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print("%s is out of date: run python -m tutorial.readme" % path.relative_to(ROOT))
        return 1 if stale else 0
    for path, text in expected().items():
        if path in stale:
            path.write_text(text, encoding="utf-8", newline="\n")
            print("updated", path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
