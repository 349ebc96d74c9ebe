"""`python -m tutorial.diff`: what an instructor projects between two chapters."""
import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tutorial.chapters import ROOT
from tutorial.diff import changes, folder_of
from tutorial.diff import main as diff_main

pytestmark = pytest.mark.repository_only


def run(*args):
    """What `python -m tutorial.diff ARGS` prints, run in this process (the command itself
    runs as a program in test_html_page_goes_to_a_temporary_folder_by_default and the README test)."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with contextlib.redirect_stdout(out):
        assert diff_main(list(args)) == 0
    out.flush()
    return out.buffer.getvalue().decode("utf-8")


def test_diff_03_04_shows_only_be_py_and_the_readme():
    out = run("03", "04")
    files = [l[4:] for l in out.splitlines() if l.startswith("+++ ")]
    assert files == ["chapters/04-login/api/be.py", "chapters/04-login/README.md"]
    assert "+    res.add_cookie('session', token, httponly=True, secure=False, samesite=None)" in out
    assert [line.split()[:2] for line in run("03", "04", "--stat").splitlines()[:-1]] == [
        ["M", "api/be.py"], ["M", "README.md"]]


def test_stat_counts_the_lines_each_file_gains_and_loses():
    """--stat's +/- per file are the + and - lines of that file's own unified diff, and the last line adds
    them up (17 -> 18: an added file, so an A line too)."""
    for before, after in (("03", "04"), ("17", "18")):
        diff, listed = run(before, after), run(before, after, "--stat").splitlines()
        per_file = re.split(r"^--- ", diff, flags=re.M)[1:]
        expected = []
        for part in per_file:
            lines = part.splitlines()[2:]  # (the --- and +++ lines)
            expected.append((sum(l.startswith("+") for l in lines), sum(l.startswith("-") for l in lines)))
        found = [tuple(int(n) for n in re.search(r"\+(\d+) +-(\d+)$", line).groups()) for line in listed[:-1]]
        assert found == expected, (before, after)
        assert listed[-1] == "%d files changed, %d lines added (+), %d removed (-)" % (
            len(found), sum(p for p, _ in found), sum(m for _, m in found))
    assert any(line.startswith("A static/admin.html") for line in run("17", "18", "--stat").splitlines())


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_colour_in_a_terminal_only(monkeypatch):
    """Green added and red removed lines in a terminal; plain text when piped, with NO_COLOR, or --color never;
    --color always keeps it in a pipe. The text is the same either way, the colour codes aside."""
    from tutorial.diff import use_colour

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert use_colour("auto", Terminal()) and not use_colour("auto", io.StringIO())
    assert not use_colour("never", Terminal()) and use_colour("always", io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour("auto", Terminal())
    plain, colour = run("03", "04"), run("03", "04", "--color", "always")
    assert "\033[" not in plain and "\033[32m+from core.session import" in colour and "\033[31m-" in colour
    assert re.sub(r"\033\[[0-9;]*m", "", colour) == plain


def test_diff_leaves_out_caches_and_session_files(tmp_path, monkeypatch):
    # a chapter as a learner's run leaves it: __pycache__ and a session file
    import shutil

    import tutorial.diff as diff

    a = shutil.copytree(folder_of("04"), tmp_path / "chapters" / "04-login")
    b = shutil.copytree(folder_of("05"), tmp_path / "chapters" / "05-logout")
    (b / "__pycache__").mkdir()
    (b / "__pycache__" / "run.cpython-311.pyc").write_bytes(b"\0")
    (b / "temp" / "manage_21232f297a57a5a743894a0e4a801fc3").write_text("x,1")
    assert [p for p, _, _ in changes(a, b)] == ["api/be.py", "README.md"]
    monkeypatch.setattr(diff, "ROOT", tmp_path)
    assert "05-logout/temp/" not in diff.unified(a, b)
    page = diff.side_by_side(a, b)
    assert "<h2>temp/" not in page and "__pycache__" not in page


def test_html_page_is_side_by_side(tmp_path):
    page = tmp_path / "03-04.html"
    run("03", "04", "--html", str(page), "--code")
    html = page.read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in html and "<h2>api/be.py</h2>" in html
    assert html.count('<table class="diff"') == 1  # only be.py with --code
    assert "chapters/03-clear-update-token/api/be.py" in html and "chapters/04-login/api/be.py" in html
    # the chapter titles, the article's section and a legend at the top
    assert "03-clear-update-token" in html and "登录接口发放 token 与 cookie" in html
    assert 'href="https://github.com/fengcms/articles/blob/master/webAppDesign/1.10.md#更新登录接口"' in html
    assert "删掉的行 / removed" in html and "新加的行 / added" in html


def test_html_page_opens_with_what_each_step_does(tmp_path):
    """At the top, the sentence each step's README opens with, and where it comes from."""
    from tutorial.chapters import by_key

    page = tmp_path / "04-06.html"
    run("04", "06", "--html", str(page), "--code")
    header = page.read_text(encoding="utf-8").split("</header>")[0]
    for key in ("05", "06"):
        assert by_key(key).summary_zh in header and by_key(key).summary_en in header
    assert by_key("04").summary_en not in header, "only the steps after the first chapter"
    assert "文章 / Article:" in header and "超出文章 / beyond the articles" in header  # 05 follows one, 06 does not


def test_html_page_shows_code_before_the_readme(tmp_path):
    page = tmp_path / "05-06.html"
    run("05", "06", "--html", str(page))
    files = re.findall(r"<h2>(.*?)</h2>", page.read_text(encoding="utf-8"))
    assert files[-1] == "README.md" and len(files) > 2


def test_html_page_goes_to_a_temporary_folder_by_default(tmp_path):
    out = subprocess.run([sys.executable, "-m", "tutorial.diff", "03", "04", "--html"], cwd=ROOT,
                         env=dict(os.environ, TMPDIR=str(tmp_path)), capture_output=True, text=True, timeout=60)
    page = Path(out.stdout.strip())
    assert page.exists() and tmp_path in page.parents, out
    assert page.name == "03-04.html"


def test_every_neighbouring_diff_is_the_articles_step():
    from tutorial.chapters import CHAPTERS

    for before, after in zip(CHAPTERS, CHAPTERS[1:]):
        paths = [p for p, _, _ in changes(before.path, after.path, readme=False)]
        assert paths == sorted(after.touches), (before.slug, after.slug, paths)
    assert changes(CHAPTERS[-1].path, folder_of("final"), readme=False) == []


def test_readme_diff_commands_run(tmp_path):
    import shlex

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = re.findall(r"^\.venv/bin/python -m tutorial\.diff .*$", readme, re.M)
    assert len(lines) == 2
    for line in lines:
        args = [a for a in shlex.split(line)[1:] if a != "--open"]  # (no browser to open in a test)
        done = subprocess.run([sys.executable] + args, cwd=ROOT, capture_output=True, text=True,
                              encoding="utf-8", env=dict(os.environ, TMPDIR=str(tmp_path)), timeout=60)
        assert done.returncode == 0 and done.stdout, done.stderr
    pages = list(tmp_path.rglob("*.html"))
    assert len(pages) == 1, "the --html example writes its page to a temporary folder, not the repository"
