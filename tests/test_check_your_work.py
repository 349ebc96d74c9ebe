"""`python -m pytest tests --project FOLDER --step NN` on copies of the chapters:
right code passes, missing or broken code fails with a message in plain words.

This is also the proof that the tests run the folder they name: a wrong change
in one copy makes that copy's run fail, while the repository's chapters pass.
"""
import re
import shlex
import shutil

import pytest

from tutorial.chapters import CHAPTERS, ROOT, by_key

pytestmark = pytest.mark.repository_only


def readme_check_command(ch):
    """The command the chapter README gives under 'Check your work'."""
    text = (ch.path / "README.md").read_text(encoding="utf-8")
    section = text.split("## 检查你的代码 / Check your work", 1)[1]
    return re.search(r"```shell\n(.*?)\n```", section, re.S).group(1)


@pytest.mark.parametrize("ch", CHAPTERS, ids=lambda c: c.slug)
def test_chapter_readme_gives_the_check_command_for_its_step(ch):
    assert readme_check_command(ch) == "python -m pytest tests --project ~/my-blog --step %s" % ch.tag


def copy_of(slug, dest):
    return shutil.copytree(by_key(slug).path, dest, ignore=shutil.ignore_patterns("__pycache__"))


def break_expiry(folder):
    path = folder / "core" / "session.py"
    text = path.read_text(encoding="utf-8")
    assert "> 3600" in text
    path.write_text(text.replace("> 3600", "> 36000"), encoding="utf-8")


def remove_session_module(folder):
    (folder / "core" / "session.py").unlink()


def run_check(pytester, slug, step, change=None):
    """Copy chapter `slug` as a learner's project, apply `change`, and run the
    chapter README's check command for `step` on it. Returns (exit code, output)
    and asserts the project was left as it was."""
    folder = copy_of(slug, pytester.path / "my-blog")
    if change:
        change(folder)
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    # the README's command, with this copy as the learner's project
    args = shlex.split(readme_check_command(by_key(step)).replace("~/my-blog", shlex.quote(str(folder))))
    assert args[:4] == ["python", "-m", "pytest", "tests"]
    result = pytester.runpytest_inprocess(str(ROOT / "tests"), *args[4:], "-q")
    out = "\n".join(result.outlines + result.errlines)
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before, "the check changed the project"
    return result.ret, out


def test_a_copy_of_chapter_02_passes_the_step_02_check(pytester):
    code, out = run_check(pytester, "02", "02")
    assert code == 0, out
    assert "All passed: up to step 02" in out


def test_a_copy_of_chapter_02_fails_the_step_03_check_naming_clear_token(pytester):
    code, out = run_check(pytester, "02", "03")
    assert code == 1, out
    report = out.split("Check of", 1)[1]
    assert "✗ 步骤 / Step 03" in report and "✓ 步骤 / Step 02" in report
    assert "core/session.py has no clearToken, which step 03 adds" in report


def test_broken_expiry_is_reported_as_expiry(pytester):
    code, out = run_check(pytester, "03", "03", break_expiry)
    assert code == 1, out
    report = out.split("Check of", 1)[1]
    assert ("checkToken returned 0 for a token stored 3,601 seconds ago; the article treats "
            "more than 3,600 seconds as expired, code 2") in report
    assert "✗ 步骤 / Step 02" in report  # checkToken is step 02's behaviour


def test_missing_file_is_named(pytester):
    code, out = run_check(pytester, "01", "01", remove_session_module)
    assert code == 1, out
    assert "core/session.py: file core/session.py is missing (step 01 needs it)" in out
