"""Check your own code: the tests of a step, run against a learner's project.

    python -m pytest tests --project ~/my-blog --step 03

runs every test of steps 00 to 03 against the folder ~/my-blog (the article's
layout: run.py, config.py, core/, api/) and ends with a report in plain words:
which step's behaviour differs from the article and what the code did.
Session files go to a temporary folder, never into the project; if the
project's own code writes into its temp/ anyway, those files are removed.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from support import Target
from tutorial.chapters import CHAPTERS

IGNORED = ("__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".git")


def learner_target(config) -> Target:
    project, step = config.getoption("--project"), config.getoption("--step")
    if not step:
        raise pytest.UsageError("--project needs --step: the chapter you have reached, 00 to %02d"
                                % CHAPTERS[-1].number)
    try:
        number = int(step)
    except ValueError:
        raise pytest.UsageError("--step takes a chapter number, 00 to %02d" % CHAPTERS[-1].number)
    if not 0 <= number <= CHAPTERS[-1].number:
        raise pytest.UsageError("--step takes a chapter number, 00 to %02d" % CHAPTERS[-1].number)
    path = Path(project).expanduser().resolve()
    if not path.is_dir():
        raise pytest.UsageError("--project %s: no such folder" % project)
    return Target("%s@step%02d" % (path.name, number), number, path, learner=True)


def _files(folder: Path) -> set:
    return {p for p in folder.rglob("*") if p.is_file() and not any(part in IGNORED for part in p.parts)}


def _first_line(excinfo) -> str:
    text = str(excinfo.value).strip() or excinfo.typename
    first = text.split("\n")[0]
    if excinfo.errisinstance(AssertionError):
        return first
    return "%s: %s" % (excinfo.typename, first)


class LearnerReport:
    """Collects failures by step and prints them in the learner's terms."""

    def __init__(self, target: Target, config):
        if config.option.tbstyle == "auto":
            config.option.tbstyle = "line"  # the report below says it in plain words
        self.target = target
        self.failures = {}  # step number -> [(test name, message)]
        self.passed = 0
        self.before = _files(target.path)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" and report.passed:
            self.passed += 1
        if report.failed and call.excinfo is not None:
            since = item.get_closest_marker("since")
            step = since.args[0] if since else 0
            beyond = item.get_closest_marker("beyond_article") is not None
            message = _first_line(call.excinfo)
            if beyond:
                message += "  (this repository's rule, beyond the article / 超出文章的要求)"
            self.failures.setdefault(step, []).append((item.originalname, message))

    def pytest_sessionfinish(self, session):
        # Remove anything the run left in the project (its own temp/ session files).
        self.left = sorted(_files(self.target.path) - self.before)
        for path in self.left:
            if path.parent.name == "temp":
                path.unlink()

    def pytest_terminal_summary(self, terminalreporter):
        tr = terminalreporter
        t = self.target
        tr.section("检查你的代码 / Check of %s as step %02d" % (t.path, t.number))
        for ch in CHAPTERS[: t.number + 1]:
            problems = self.failures.get(ch.number, [])
            mark = "✗" if problems else "✓"
            tr.write_line("%s 步骤 / Step %s · %s / %s (%s)" % (mark, ch.tag, ch.title_zh, ch.title_en, ch.article))
            seen = {}
            for name, message in problems:  # the same message from several cases is said once
                seen.setdefault(message, []).append(name)
            for message, names in seen.items():
                tr.write_line("    - %s" % message)
                tr.write_line("      (%s)" % ", ".join(sorted(set(names))))
        outside = [p for p in self.left if p.parent.name != "temp"]
        if outside:
            tr.write_line("Note: the run created files in your project outside temp/: %s" % ", ".join(map(str, outside)))
        if not self.failures:
            tr.write_line("全部通过：到第 %02d 步为止，你的代码和文章的行为一致。" % t.number)
            tr.write_line("All passed: up to step %02d your code behaves as the article expects." % t.number)
        else:
            first = min(self.failures)
            tr.write_line("先从第 %02d 步的问题改起。 / Start with the problems of step %02d." % (first, first))
