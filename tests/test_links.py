"""Every link a reader can click inside the repository leads somewhere.

Markdown links in the READMEs (chapters, final/, the top one, bench/) and in
the notebooks' text cells: a relative path must exist, seen from the file
that holds the link, and an #anchor into a Markdown file must be one of its
headings (as GitHub makes anchors). Links to the web are not followed.
"""
import json
import os
import re
from pathlib import Path

import pytest

from diagnose import readme_anchor
from tutorial.chapters import ROOT

pytestmark = pytest.mark.repository_only

LINK = re.compile(r"\]\(([^)\s]+)\)")


def documents():
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in (".venv", "venv", ".git", "node_modules", "__pycache__")]
        found += [Path(folder) / name for name in files if name.endswith(".md")]
    found += (ROOT / "notebooks").glob("*.ipynb")
    return sorted(found)


def text_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return path.read_text(encoding="utf-8")


def anchors(markdown: Path) -> set:
    text = re.sub(r"^```.*?^```", "", markdown.read_text(encoding="utf-8"), flags=re.S | re.M)
    return {readme_anchor(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}


def broken_links(path: Path) -> list:
    broken = []
    for target in LINK.findall(text_of(path)):
        if re.match(r"[a-z]+:", target):
            continue  # the web (https:, mailto:)
        where, _, anchor = target.partition("#")
        if where.startswith("/"):  # from the repository's root, as GitHub reads it (the last chapter's README)
            dest = ROOT / where.lstrip("/")
        else:
            dest = (path.parent / where).resolve() if where else path
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(target + "  (no such heading)")
    return broken


@pytest.mark.parametrize("path", documents(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_in_the_repository_leads_somewhere(path):
    assert broken_links(path) == []


def test_a_broken_link_is_caught(tmp_path):
    (tmp_path / "there.md").write_text("# 有 / Here\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text("[a](there.md) [b](missing/) [c](there.md#有--here) [d](there.md#nowhere) [e](https://x.y/z) "
                    "[f](/README.md) [g](/no-such-file.md)", encoding="utf-8")
    assert broken_links(page) == ["missing/", "there.md#nowhere  (no such heading)", "/no-such-file.md"]
