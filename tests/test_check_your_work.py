"""`python -m pytest tests --project FOLDER --step NN` on copies of the chapters:
right code passes, missing or broken code fails with a message in plain words.

This is also the proof that the tests run the folder they name: a wrong change
in one copy makes that copy's run fail, while the repository's chapters pass.
"""
import re
import shlex
import shutil
import subprocess
import sys

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


CASES = {
    # name: (chapter copied, change made, --step)
    "02-as-step-02": ("02", None, "02"),
    "02-as-step-03": ("02", None, "03"),
    "03-broken-expiry": ("03", break_expiry, "03"),
    "01-without-session-py": ("01", remove_session_module, "01"),
}


@pytest.fixture(scope="module")
def checks(tmp_path_factory):
    """Run every case at once (they are independent processes) and collect
    (exit code, output, files before, files after) for each."""
    running = {}
    for name, (slug, change, step) in CASES.items():
        folder = copy_of(slug, tmp_path_factory.mktemp(name) / "my-blog")
        if change:
            change(folder)
        before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
        # the README's command, with this copy as the learner's project
        args = shlex.split(readme_check_command(by_key(step)).replace("~/my-blog", shlex.quote(str(folder))))
        assert args[:2] == ["python", "-m"]
        proc = subprocess.Popen([sys.executable, *args[1:], "-q"], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        running[name] = (folder, before, proc)
    results = {}
    for name, (folder, before, proc) in running.items():
        out = proc.communicate(timeout=300)[0].decode("utf-8", "replace")
        after = sorted(p.relative_to(folder) for p in folder.rglob("*"))
        results[name] = (proc.returncode, out, before, after)
    return results


def test_a_copy_of_chapter_02_passes_the_step_02_check(checks):
    code, out, _, _ = checks["02-as-step-02"]
    assert code == 0, out
    assert "All passed: up to step 02" in out


def test_a_copy_of_chapter_02_fails_the_step_03_check_naming_clear_token(checks):
    code, out, _, _ = checks["02-as-step-03"]
    assert code == 1, out
    report = out.split("Check of", 1)[1]
    assert "✗ 步骤 / Step 03" in report and "✓ 步骤 / Step 02" in report
    assert "core/session.py has no clearToken, which step 03 adds" in report


def test_broken_expiry_is_reported_as_expiry(checks):
    code, out, _, _ = checks["03-broken-expiry"]
    assert code == 1, out
    report = out.split("Check of", 1)[1]
    assert ("checkToken returned 0 for a token stored 3,601 seconds ago; the article treats "
            "more than 3,600 seconds as expired, code 2") in report
    assert "✗ 步骤 / Step 02" in report  # checkToken is step 02's behaviour


def test_missing_file_is_named(checks):
    code, out, _, _ = checks["01-without-session-py"]
    assert code == 1, out
    assert "core/session.py: file core/session.py is missing (step 01 needs it)" in out


@pytest.mark.parametrize("case", CASES)
def test_the_check_leaves_the_project_as_it_was(checks, case):
    _, out, before, after = checks[case]
    assert after == before, out
