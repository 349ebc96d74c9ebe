"""`python -m tutorial.diff`: what an instructor projects between two chapters."""
import subprocess
import sys

import pytest

from tutorial.chapters import ROOT
from tutorial.diff import changes, folder_of

pytestmark = pytest.mark.repository_only


def run(*args):
    done = subprocess.run([sys.executable, "-m", "tutorial.diff", *args], cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_diff_03_04_shows_only_be_py_and_the_readme():
    out = run("03", "04")
    files = [l[4:] for l in out.splitlines() if l.startswith("+++ ")]
    assert files == ["chapters/04-login/api/be.py", "chapters/04-login/README.md"]
    assert "+    res.add_cookie('session', token, httponly=True, secure=False, samesite=None)" in out
    assert run("03", "04", "--stat").split() == ["M", "api/be.py", "M", "README.md"]


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


def test_every_neighbouring_diff_is_the_articles_step():
    from tutorial.chapters import CHAPTERS

    for before, after in zip(CHAPTERS, CHAPTERS[1:]):
        paths = [p for p, _, _ in changes(before.path, after.path, readme=False)]
        assert paths == sorted(after.touches), (before.slug, after.slug, paths)
    assert changes(CHAPTERS[-1].path, folder_of("final")) == []


def test_readme_diff_commands_run(tmp_path):
    import re
    import shlex

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = re.findall(r"^\.venv/bin/python -m tutorial\.diff .*$", readme, re.M)
    assert len(lines) == 2
    for line in lines:
        args = shlex.split(line)[3:]
        if "--html" in args:
            args[args.index("--html") + 1] = str(tmp_path / "page.html")
        assert run(*args)
    assert (tmp_path / "page.html").exists()
