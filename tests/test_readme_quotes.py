"""Code a README quotes is the code in the file it names.

A quote is a ```python block whose first line names the file (`# api/be.py`,
relative to the README's folder). Its lines must appear in that file in the
same order and next to each other; a line `...` stands for any lines between.
Indentation may differ (quotes are often shown dedented).
"""
import re

import pytest

from tutorial.chapters import CHAPTERS, FINAL_DIR, ROOT

pytestmark = pytest.mark.repository_only

READMES = [ch.path / "README.md" for ch in CHAPTERS] + [FINAL_DIR / "README.md", ROOT / "README.md"]


def quotes(readme):
    text = readme.read_text(encoding="utf-8")
    for block in re.findall(r"^[ \t]*```python\n(.*?)^[ \t]*```", text, re.S | re.M):
        lines = [line.strip() for line in block.strip("\n").split("\n")]
        m = re.fullmatch(r"# ([\w./-]+\.py)", lines[0])
        assert m, "%s: a python block must start with '# <file it quotes>': %r" % (readme, lines[0])
        yield m.group(1), lines[1:]


def appears_in(quote, lines):
    """The quote's runs (split at '...') appear in `lines` in order, each contiguous."""
    runs, run = [], []
    for line in quote:
        if line == "...":
            runs.append(run)
            run = []
        elif line:
            run.append(line)
    runs.append(run)
    code = [l.strip() for l in lines if l.strip()]
    at = 0
    for run in filter(None, runs):
        for i in range(at, len(code) - len(run) + 1):
            if code[i:i + len(run)] == run:
                at = i + len(run)
                break
        else:
            return False
    return True


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_code_quoted_in_readme_is_in_the_file(readme):
    for name, quote in quotes(readme):
        source = (readme.parent / name).read_text(encoding="utf-8").split("\n")
        assert appears_in(quote, source), "%s quotes lines that are not in %s:\n%s" % (
            readme.relative_to(ROOT), name, "\n".join(quote))


def test_quotes_exist_where_the_readmes_explain_a_difference():
    counted = {p.parent.name: len(list(quotes(p))) for p in READMES[:-2]}
    assert counted["04-login"] >= 2 and counted["05-logout"] >= 1 and counted["01-make-token"] >= 1


def test_a_wrong_quote_is_caught():
    source = (CHAPTERS[4].path / "api" / "be.py").read_text(encoding="utf-8").split("\n")
    assert appears_in(["res = ok(token)", "...", "return res"], source)
    assert not appears_in(["res.add_cookie('session', token, httponly=True)"], source)
    assert not appears_in(["return res", "...", "res = ok(token)", "return 1"], source)
