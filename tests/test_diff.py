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
    code = run("03", "04", "--code")  # the code only
    assert [l[4:] for l in code.splitlines() if l.startswith("+++ ")] == ["chapters/04-login/api/be.py"]
    assert [line.split()[:2] for line in run("03", "04", "--stat", "--code").splitlines()[:-1]] == [["M", "api/be.py"]]


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
    page = diff.side_by_side(a, b, readme=True)
    assert 'id="file-temp/' not in page and "__pycache__" not in page


def page_of(tmp_path, *args):
    """The page `python -m tutorial.diff ARGS --html FILE` writes, and its header."""
    page = tmp_path / ("%s.html" % "-".join(a.strip("-") for a in args))
    run(*args, "--html", str(page))
    text = page.read_text(encoding="utf-8")
    return text, text.split("</header>")[0]


def sections(page):
    """The files the page shows, in order, each with its table's HTML."""
    return re.findall(r'<section id="file-(.*?)">(.*?)</section>', page, re.S)


def test_html_page_is_the_code_side_by_side(tmp_path):
    page, header = page_of(tmp_path, "03", "04")
    assert '<meta charset="utf-8">' in page and '<html lang="zh-CN">' in page
    assert [path for path, _ in sections(page)] == ["api/be.py"], "the code only: the README is linked, not diffed"
    assert "chapters/03-clear-update-token/api/be.py</th>" in page and "chapters/04-login/api/be.py</th>" in page
    assert page.count('<table class="diff two"') == 1 and '<td class="mark del">−</td>' in page
    # the chapters' titles and a legend at the top, in both languages
    assert "03-clear-update-token" in header and "登录接口发放 token 与 cookie" in header
    assert "Login hands out a token and a cookie" in header and '<span lang="en">' in header
    assert '删掉的行 / <span lang="en">removed</span>' in header and '新加的行 / <span lang="en">added</span>' in header


def test_html_page_shows_the_files_in_teaching_order(tmp_path):
    """The order of the step's `touches`; across several steps, in order of first appearance; then any other
    changed file alphabetically, and the README last when --readme diffs it."""
    from tutorial.chapters import by_key
    from tutorial.diff import teaching_order

    one = [path for path, _ in sections(page_of(tmp_path, "17", "18")[0])]
    assert one == list(by_key("18").touches) != sorted(one)
    several = [path for path, _ in sections(page_of(tmp_path, "16", "18", "--readme")[0])]
    assert several == ["core/session.py", "api/be.py", "config.py", "core/app.py", "static/admin.html", "README.md"]
    listed = [(p, None, "") for p in ("README.md", "z.py", "api/be.py", "a.py", "config.py")]
    assert [p for p, _, _ in teaching_order(listed, [by_key("17"), by_key("18")])] == [
        "api/be.py", "config.py", "a.py", "z.py", "README.md"]


def test_html_page_has_an_index_with_each_files_counts(tmp_path):
    from tutorial.diff import counts

    page, header = page_of(tmp_path, "16", "18")
    index = re.findall(r'<a href="#file-(.*?)">(.*?)</a> <span class="plus">\+(\d+)</span> '
                       r'<span class="minus">−(\d+)</span>', header)
    assert [(target, name) for target, name, _, _ in index] == [(p, p) for p, _ in sections(page)]
    for path, plus, minus in [(p, int(a), int(r)) for p, _, a, r in index]:
        old, new = [(folder_of(key) / path) for key in ("16", "18")]
        assert (plus, minus) == counts(old.read_text(encoding="utf-8") if old.exists() else None,
                                       new.read_text(encoding="utf-8")), path
    assert ("static/admin.html", "static/admin.html", "99", "0") in index


def test_html_page_links_the_readme_and_diffs_it_only_with_readme(tmp_path):
    from urllib.parse import unquote, urlparse

    page, header = page_of(tmp_path, "04", "05")
    link = re.search(r'<a class="readme" href="(file://[^"]+)">chapters/05-logout/README.md</a>', header)
    assert link and Path(unquote(urlparse(link.group(1)).path)) == folder_of("05") / "README.md"
    assert "README.md" not in [p for p, _ in sections(page)] and "chapters/04-login/README.md" not in page
    diffed = [p for p, _ in sections(page_of(tmp_path, "04", "05", "--readme")[0])]
    assert diffed == ["api/be.py", "README.md"]
    assert [p for p, _ in sections(page_of(tmp_path, "04", "05", "--readme", "--code")[0])] == ["api/be.py"]


def test_html_page_opens_with_what_each_step_does(tmp_path):
    """One line per step: its sentence (zh, en), and the article it follows, linked; for our own steps
    "beyond the articles" and no article link at all."""
    from tutorial.chapters import ARTICLES, by_key

    _, header = page_of(tmp_path, "04", "06")
    for key in ("05", "06"):
        assert by_key(key).summary_zh in header and by_key(key).summary_en in header
    assert by_key("04").summary_en not in header, "only the steps after the first chapter"
    assert header.count('<p class="step">') == 2
    step05, step06 = header.split('<p class="step">')[1:]
    article = '文章 / <span lang="en">Article</span>: <a href="%s">1.10 制作退出接口</a>' % by_key("05").url
    assert article in step05
    assert "超出文章 / <span lang=\"en\">beyond the articles</span>" in step06 and ARTICLES not in step06
    _, own = page_of(tmp_path, "29", "30")
    assert "beyond the articles" in own and ARTICLES not in own and "Article" not in own


def test_lines_only_one_version_has_take_the_whole_width(tmp_path):
    """A new (or deleted) file is one column; so is a block of new (or removed) lines in a changed file,
    while the two versions of a changed line stand side by side."""
    page, _ = page_of(tmp_path, "17", "18")
    admin = dict(sections(page))["static/admin.html"]
    assert '<table class="diff one">' in admin and len(re.findall(r"<col[ >]", admin)) == 3
    assert "新文件 / <span lang=\"en\">new file</span>: chapters/18-sliding-session/static/admin.html" in admin
    body = admin.split("<tbody>")[1]
    assert body.count("<tr>") == len((folder_of("18") / "static/admin.html").read_text().splitlines()) > 50
    assert all(row.count("<td") == 3 for row in body.split("</tr>")[:-1])
    gone = dict(sections(page_of(tmp_path, "18", "17")[0]))["static/admin.html"]
    assert '<table class="diff one">' in gone and "已删除 / <span lang=\"en\">deleted</span>" in gone
    logout = dict(sections(page_of(tmp_path, "04", "05")[0]))["api/be.py"]
    added = [row for row in logout.split("<tr>") if 'class="mark add"' in row]
    assert len(added) == 16 and all('<td class="add" colspan="4">' in row for row in added)
    assert '<td class="mark del">−</td><td class="del">from config import ALLOWED_HOSTS</td>' in dict(
        sections(page_of(tmp_path, "29", "30")[0]))["core/app.py"]


def test_help_describes_readme_and_code():
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        diff_main(["--help"])
    text = " ".join(out.getvalue().split())
    assert "--readme with --html: diff the chapter README too" in text and "--code leave the chapter README out" in text


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
    """The diff commands the README and the instructors' page (docs/) show, run as shown."""
    import shlex

    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    lines = [line for doc in docs if doc.exists()
             for line in re.findall(r"^\.venv/bin/python -m tutorial\.diff .*$", doc.read_text(encoding="utf-8"), re.M)]
    assert len(lines) >= 2 and any("--html" in line for line in lines), lines
    for line in lines:
        args = [a for a in shlex.split(line)[1:] if a != "--open"]  # (no browser to open in a test)
        done = subprocess.run([sys.executable] + args, cwd=ROOT, capture_output=True, text=True,
                              encoding="utf-8", env=dict(os.environ, TMPDIR=str(tmp_path)), timeout=60)
        assert done.returncode == 0 and done.stdout, done.stderr
    pages = list(tmp_path.rglob("*.html"))
    assert len(pages) == sum("--html" in line for line in lines), \
        "each --html example writes its page to a temporary folder, not the repository"
