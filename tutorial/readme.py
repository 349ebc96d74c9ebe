"""The chapter table of the top-level README, written from tutorial/chapters.py.

    python -m tutorial.readme            # rewrite the table in README.md
    python -m tutorial.readme --check    # exit 1 if README.md is out of date
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tutorial.chapters import CHAPTERS, ROOT  # noqa: E402

README = ROOT / "README.md"
START, END = "<!-- chapters:start -->", "<!-- chapters:end -->"


def chapter_table() -> str:
    rows = [
        "| 章节 / Chapter | 文章 / Article | 这一步 / What it adds | 上一章的漏洞 / The gap it closes | "
        "改动的文件 / Files changed |",
        "| --- | --- | --- | --- | --- |",
    ]
    for ch in CHAPTERS:
        files = ", ".join("`%s`" % f for f in ch.touches) or "—"
        article = "[%s](%s)" % (ch.article, ch.url) if not ch.beyond else "[超出文章 / beyond](%s)" % ch.url
        closes = "%s<br>%s" % (ch.closes_zh, ch.closes_en) if ch.closes_zh else "—"
        rows.append("| [%s](chapters/%s/) | %s | %s<br>%s | %s | %s |"
                    % (ch.slug, ch.slug, article, ch.title_zh, ch.title_en, closes, files))
    return "\n".join(rows)


def with_table(text: str) -> str:
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    if not rest:
        raise ValueError("README.md has no %s ... %s markers" % (START, END))
    return "%s%s\n%s\n%s%s" % (head, START, chapter_table(), END, tail)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check, change nothing")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    new = with_table(text)
    if args.check:
        if new != text:
            print("README.md's chapter table is out of date: run python -m tutorial.readme")
            return 1
        return 0
    if new != text:
        README.write_text(new, encoding="utf-8", newline="\n")
        print("updated README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
