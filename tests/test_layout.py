"""The shape of the repository: chapters as the list says, clean diffs, final/ == last chapter."""
import filecmp
import os
import re
import subprocess
from pathlib import Path

import pytest

from tutorial.chapters import CHAPTERS, CHAPTERS_DIR, FINAL_DIR, LAST, ROOT, step
from tutorial.readme import CHAPTER_PAGE, README, full_chapter_table, last_readme, with_table

pytestmark = pytest.mark.repository_only

LAYOUT = ["run.py", "config.py", "core/__init__.py", "core/app.py", "core/tool.py",
          "api/__init__.py", "api/be.py", "temp/.gitignore", "README.md"]


def chapter_files(folder):
    """Every file a chapter consists of: no caches, no session files."""
    files = set()
    for path in folder.rglob("*"):
        rel = path.relative_to(folder).as_posix()
        if path.is_dir() or "__pycache__" in rel or rel.endswith(".pyc") or ".ipynb_checkpoints" in rel:
            continue
        if rel.startswith("temp/") and rel != "temp/.gitignore":
            continue
        files.add(rel)
    return files


def changed_files(a, b):
    fa, fb = chapter_files(a), chapter_files(b)
    return (fa ^ fb) | {f for f in fa & fb if not filecmp.cmp(a / f, b / f, shallow=False)}


def test_chapter_folders_are_the_chapter_list():
    on_disk = sorted(p.name for p in CHAPTERS_DIR.iterdir() if p.is_dir())
    assert on_disk == [ch.slug for ch in CHAPTERS]
    assert [ch.number for ch in CHAPTERS] == list(range(len(CHAPTERS)))


@pytest.mark.parametrize("ch", CHAPTERS, ids=lambda c: c.slug)
def test_chapter_has_the_article_layout(ch):
    # beyond the articles: a file for the session files, one for the login counters, the
    # back-office page, the Redis store
    later = {"core/session.py": 1, "core/file_store.py": step("atomic-files"), "core/file_counters.py": step("throttle"),
             "static/admin.html": step("sliding-session"), "core/redis_store.py": step("redis-store")}
    expected = set(LAYOUT) | {name for name, since in later.items() if ch.number >= since}
    assert chapter_files(ch.path) == expected


def test_final_is_identical_to_the_last_chapter():
    """File for file, the README too: its links start from the repository's root (tutorial/readme.py)."""
    diff = changed_files(LAST.path, FINAL_DIR)
    assert not diff, "final/ differs from %s in %s: run python -m tutorial.readme" % (LAST.slug, sorted(diff))
    readme = (LAST.path / "README.md").read_text(encoding="utf-8")
    assert readme == last_readme(readme), "%s/README.md climbs out of its folder: run python -m tutorial.readme" % (
        LAST.slug)


@pytest.mark.parametrize("before, after", list(zip(CHAPTERS, CHAPTERS[1:])),
                         ids=["%s->%s" % (a.slug, b.slug) for a, b in zip(CHAPTERS, CHAPTERS[1:])])
def test_neighbouring_chapters_differ_only_by_the_articles_step(before, after):
    assert changed_files(before.path, after.path) == set(after.touches) | {"README.md"}, (
        "%s -> %s should change only %s (and the README)" % (before.slug, after.slug, after.touches))


def code_lines_changed(a, b):
    """Lines added plus lines removed between two chapters, in every file but README.md."""
    import difflib

    total = 0
    for name in sorted(changed_files(a, b) - {"README.md"}):
        old = (a / name).read_text(encoding="utf-8").splitlines() if (a / name).exists() else []
        new = (b / name).read_text(encoding="utf-8").splitlines() if (b / name).exists() else []
        total += sum(1 for line in difflib.unified_diff(old, new, lineterm="", n=0)
                     if line[:1] in "+-" and not line.startswith(("+++", "---")))
    return total


@pytest.mark.parametrize("before, after", list(zip(CHAPTERS, CHAPTERS[1:])),
                         ids=["%s->%s" % (a.slug, b.slug) for a, b in zip(CHAPTERS, CHAPTERS[1:])])
def test_a_step_can_be_typed_in_one_sitting(before, after):
    """The articles' steps change 16 to 49 lines of code; ours stay near that, 150 at most."""
    assert code_lines_changed(before.path, after.path) <= 150


@pytest.mark.parametrize("ch", CHAPTERS, ids=lambda c: c.slug)
def test_chapter_readme_lists_the_files_it_changed(ch):
    text = (ch.path / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## 改动的文件 / Files changed\n(.*?)(?=^## )", text, re.S | re.M)
    assert section, "%s/README.md has no '## 改动的文件 / Files changed' section" % ch.slug
    listed = re.findall(r"^- `([^`]+)`", section.group(1), re.M)
    if ch.number == 0:
        assert listed == []
        return
    previous = CHAPTERS[ch.number - 1]
    assert set(listed) == changed_files(previous.path, ch.path) - {"README.md"}
    assert tuple(listed) == ch.touches


def test_readme_chapter_table_is_current():
    text = README.read_text(encoding="utf-8")
    assert with_table(text) == text, "the chapter table is out of date: run python -m tutorial.readme"
    page = CHAPTER_PAGE.read_text(encoding="utf-8")
    assert with_table(page, full_chapter_table) == page, "docs/chapters.md is out of date: run python -m tutorial.readme"


def test_the_tables_code_lines_are_each_steps_change():
    """The "code lines" column of both tables is each step's size, as this file measures it for the 150-line rule."""
    for text in (README.read_text(encoding="utf-8"), CHAPTER_PAGE.read_text(encoding="utf-8")):
        shown = dict(re.findall(r"^\| \[(\d\d)(?:-[\w-]+)?\]\(.*\| (\d+|—) \|$", text, re.M))
        assert list(shown) == [ch.tag for ch in CHAPTERS]
        assert shown["00"] == "—"
        for ch in CHAPTERS[1:]:
            assert shown[ch.tag] == str(code_lines_changed(CHAPTERS[ch.number - 1].path, ch.path)), ch.slug


def test_the_last_readme_links_work_from_its_chapter_and_from_final():
    shown = "[21-redis-outage](../21-redis-outage/) · [lab](../../notebooks/04-security-lab.ipynb) · [x](core/app.py)"
    assert last_readme(shown) == ("[21-redis-outage](/chapters/21-redis-outage/) · "
                                  "[lab](/notebooks/04-security-lab.ipynb) · [x](core/app.py)")


def test_nothing_refers_to_the_shared_folder_outside_the_repository():
    # A learner's clone has only this repository: nothing may reach outside it.
    hits = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in (".venv", ".git", "__pycache__", "node_modules")]
        for name in files:
            path = Path(folder) / name
            if path.suffix in (".py", ".md", ".ipynb", ".txt", ".ini", ".toml", ".cfg", ""):
                text = path.read_text(encoding="utf-8", errors="ignore")
                if re.search(r"\.\./" + "shared\\b", text):
                    hits.append(path.relative_to(ROOT).as_posix())
    assert hits == []


def _git(*args):
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        pytest.skip("git is not installed")
    if done.returncode != 0:
        pytest.skip("not a git checkout (downloaded as a zip?)")
    return done.stdout


def test_no_generated_files_are_tracked():
    tracked = _git("ls-files").splitlines()
    junk = [f for f in tracked if re.search(r"(__pycache__/|\.pyc$|\.ipynb_checkpoints/|(^|/)\.venv/|\.pytest_cache/)", f)
            or re.search(r"(^|/)temp/(?!\.gitignore$)[^/]+$", f)]
    assert junk == []


def test_session_files_would_be_ignored_by_git(tmp_path):
    ignored = _git("check-ignore", "--no-index", "chapters/04-login/temp/manage_21232f297a57a5a743894a0e4a801fc3",
                   "final/__pycache__/x.pyc", "notebooks/.ipynb_checkpoints/a.ipynb", ".venv/bin/python")
    assert len(ignored.splitlines()) == 4


@pytest.mark.parametrize("ch", CHAPTERS, ids=lambda c: c.slug)
def test_chapter_readme_opens_with_its_title_and_what_the_step_does(ch):
    """The title as the chapter list has it, then the step's one sentence, in Chinese and in English
    (the top README's table and the diff page show the same sentence)."""
    lines = (ch.path / "README.md").read_text(encoding="utf-8").split("\n")
    assert lines[0] == "# %s · %s / %s" % (ch.tag, ch.title_zh, ch.title_en)
    assert lines[1:5] == ["", ch.summary_zh, ch.summary_en, ""], "\n".join(lines[:6])


@pytest.mark.parametrize("ch", CHAPTERS, ids=lambda c: c.slug)
def test_chapter_readme_run_commands_name_this_chapter(ch):
    text = (ch.path / "README.md").read_text(encoding="utf-8")
    mentioned = re.findall(r"python chapters[/\\]([\w-]+)[/\\]run\.py", text)
    assert mentioned and set(mentioned) == {ch.slug}, mentioned
    to = r"\((?:\.\.|/chapters)/%s/\)"  # (from its folder, or from the root as the last chapter's README has it)
    assert not re.search(to % ch.slug, text), "a chapter README links to itself as previous/next"
    for near in [c for c in CHAPTERS[max(ch.number - 1, 0):ch.number + 2] if c is not ch]:  # previous, next
        assert re.search(r"\[%s\]" % near.slug + to % near.slug, text), "no link to %s" % near.slug
