"""Check your own code: the tests of a step, run against a learner's project.

    python -m pytest tests --project ~/my-blog --step 03

runs every test of steps 00 to 03 against the folder ~/my-blog (the article's
layout: run.py, config.py, core/, api/) and prints a short report instead of
pytest's usual pages: for each step, each root cause once, with the line of
the learner's code, what to change, and the case that showed it (diagnose.py
knows the causes). `-v` adds pytest's own output and every test.

The learner's code runs with its current folder in a temporary folder, and its
session files go to temporary folders too: nothing lands in the project, in
this repository or wherever the learner stands.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

import diagnose
import slips
from explain import Explainer, Finding, cause_finding, first_line, short, step_of_test
from support import Target, loaded
from tutorial.chapters import CHAPTERS

IGNORED = ("__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".git")


def learner_target(config) -> Target:
    project, step = config.getoption("--project"), config.getoption("--step")
    last = CHAPTERS[-1].number
    if not step:
        raise pytest.UsageError("--project needs --step: the chapter you have reached, 00 to %02d" % last)
    try:
        number = int(step)
    except ValueError:
        raise pytest.UsageError("--step takes a chapter number, 00 to %02d" % last)
    if not 0 <= number <= last:
        raise pytest.UsageError("--step takes a chapter number, 00 to %02d" % last)
    path = Path(project).expanduser().resolve()
    if not path.is_dir():
        raise pytest.UsageError("--project %s: no such folder" % project)
    return Target("%s@step%02d" % (path.name, number), number, path, learner=True)


def _files(folder: Path) -> set:
    return {p for p in folder.rglob("*") if p.is_file() and not any(part in IGNORED for part in p.parts)}


def _empty(folder: Path) -> None:
    for entry in folder.iterdir():
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


class LearnerReport:
    """Runs the learner's code somewhere harmless and reports in the learner's terms."""

    def __init__(self, target: Target, config):
        self.target, self.config = target, config
        self.verbose = config.option.verbose > 0
        if not self.verbose:
            # the report below says it all: no progress, no tracebacks, no pytest summary
            config.option.verbose = -2
            config.option.tbstyle = "no"
            config.option.reportchars = ""
            config.option.disable_warnings = True
        self.code = diagnose.Code(target.path)
        self.writes = slips.Writes(self.code)
        self.findings = {}   # key -> Finding
        self.notes = {}      # (zh, en) -> step
        self.skipped = {}    # why some tests could not run here -> how many
        self.ran = self.passed = 0
        self.fatal = None
        self.before = _files(target.path)
        self.home = os.getcwd()
        self.scratch = Path(tempfile.mkdtemp(prefix="learner-cwd-"))
        self.explainer = Explainer(self.code, self.writes, self.scratch)

    # ------------------------------------------------------------ running

    def pytest_sessionstart(self, session):
        os.chdir(self.scratch)  # what the code writes "here" lands in the scratch folder
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        t = self.target
        if CHAPTERS[t.number].beyond:
            tr.write_line("第 %02d 步是本仓库自己加的，超出了文章（文章写到第 05 步为止）。" % t.number)
            tr.write_line("Step %02d is this repository's own, beyond the articles (they end at step 05)." % t.number)
        tr.write_line("检查你的代码 / Checking your code: %s, as step %02d" % (t.path, t.number))
        self.fatal = slips.fatal_import_problem(loaded(t), self.code)
        _empty(self.scratch)  # written while importing: not a test's doing

    def pytest_ignore_collect(self, collection_path, config):
        """The repository's own checks never run against a project: not even collected."""
        if collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
            text = collection_path.read_text(encoding="utf-8")
            return bool(re.search(r"^pytestmark = \[?pytest\.mark\.repository_only", text, re.M)) or None

    def pytest_collection_modifyitems(self, config, items):
        if self.fatal and items:
            config.hook.pytest_deselected(items=list(items))
            items[:] = []

    def pytest_report_teststatus(self, report, config):
        if not self.verbose:
            return report.outcome, "", ""  # no progress dots: the report comes at the end

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        os.chdir(self.scratch)  # (a test may have moved)
        errors = self.explainer.errors
        errors.caught.clear()
        logger = logging.getLogger("sanic.error")
        logger.addHandler(errors)
        self.writes.seen.clear()
        with self.writes:
            yield
        logger.removeHandler(errors)
        _empty(self.scratch)  # what this test's code wrote "here"

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = (yield).get_result()
        if report.skipped and not hasattr(report, "wasxfail"):  # e.g. no Redis server here: say so, once
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            reason = reason.replace("Skipped: ", "", 1)
            self.skipped[reason] = self.skipped.get(reason, 0) + 1
            return
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.ran += 1
            self.passed += report.passed
        if not report.failed or call.excinfo is None or report.when == "teardown":
            return
        beyond = item.get_closest_marker("beyond_article")
        if beyond and report.when == "call":
            # the article's code does this too: a note, not a failure
            note = (beyond.kwargs["zh"], beyond.kwargs["en"])
            self.notes[note] = min(self.notes.get(note, 99), step_of_test(item))
            self.ran -= 1  # counted apart
            report.outcome, report.wasxfail = "skipped", note[1]
            return
        try:
            key, finding = self.explainer.explain(item, call.excinfo.value, report.when)
        except Exception as oops:  # the check must never bury the learner in its own traceback
            key, finding = ("check", repr(oops)), Finding(step_of_test(item), "%s  (%s; the check could not explain "
                                                          "it: %r)" % (first_line(call.excinfo.value), item.name, oops))
        self.add(key, finding, item.nodeid)

    def add(self, key, finding, test=None):
        kept = self.findings.setdefault(key, finding)
        kept.step = min(kept.step, finding.step)
        kept.places += [p for p in finding.places if p not in kept.places]
        kept.tests += [test] if test else []

    def pytest_sessionfinish(self, session):
        os.chdir(self.home)
        shutil.rmtree(self.scratch, ignore_errors=True)
        # Remove what the run left in the project's temp/ (code that ignores TEMPPATH).
        self.left = sorted(_files(self.target.path) - self.before)
        for path in self.left:
            if path.parent.name == "temp":
                path.unlink()
        if self.fatal:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    # ------------------------------------------------------------ the report

    def pytest_terminal_summary(self, terminalreporter):
        write = terminalreporter.write_line
        t = self.target
        if self.verbose:  # after pytest's own pages, say where the report starts
            terminalreporter.section("检查你的代码 / Check of %s as step %02d" % (t.path, t.number))
        if self.fatal:
            return self.report_fatal(write)
        self.add_unreached_causes()
        for ch in CHAPTERS[: t.number + 1]:
            mine = [f for f in self.findings.values() if f.step == ch.number]
            write("%s 步骤 / Step %s · %s / %s (%s)" % ("✗" if mine else "✓", ch.tag, ch.title_zh, ch.title_en,
                                                       ch.article or "超出文章 / beyond the articles"))
            for f in mine:
                write("  ✗ " + self.headline(f))
                for line in f.lines:
                    write("    " + line)
                if f.cause and not f.tests:
                    write("    （读代码发现：应用还建不起来，测试走不到这里 / found by reading your code: "
                          "no test reaches it until the app builds）")
                if f.case:
                    write("    例子 / Case: " + short(f.case))
                more = len(f.tests) - 1
                if more > 0:
                    write("    还有 %d 个测试因同一原因失败 / and %d more %s for the same reason" % (
                        more, more, "test fails" if more == 1 else "tests fail"))
                if self.verbose:
                    for test in f.tests:
                        write("      " + test)
            for (zh, en), step in self.notes.items():
                if step == ch.number:
                    write("  · 说明：" + zh)
                    write("    Note: " + en)
        outside = [p for p in self.left if p.parent.name != "temp"]
        if outside:
            write("注意 / Note: the run created files in your project outside temp/: %s" % ", ".join(map(str, outside)))
        self.report_summary(write)

    def add_unreached_causes(self):
        """When the app cannot even be built, the tests never reach the lines
        that hold the other Sanic-forced causes: find them by reading the code."""
        if loaded(self.target).app is not None:
            return
        for cause, rel, number in diagnose.scan(self.code):
            key, finding = cause_finding(cause, self.code, rel, number)
            if finding.step <= self.target.number:
                self.add(key, finding)

    def headline(self, f: Finding) -> str:
        if not f.cause:
            return f.headline
        (rel, first), code = sorted(f.places)[0], self.code
        numbers = ", ".join(str(n) for r, n in sorted(f.places) if r == rel)
        return "%s:%s  %s  →  %s" % (rel, numbers, code.line(rel, first), f.cause.fix)

    def report_fatal(self, write):
        exc, rel, number = self.fatal
        fix = slips.python_fix(exc, rel, self.code)
        write("✗ %s:%d  %s" % (rel, number, diagnose.describe(exc)))
        if isinstance(exc, SyntaxError):
            for line in slips.show_syntax_error(exc):
                write(line)
            write("Python 读不懂这个文件，检查到此为止：改好这一行再运行一次。")
            write("Python cannot read this file, so the check stops here: fix this line and run the check again.")
        else:
            write("    " + self.code.line(rel, number))
            if fix:
                write("    " + fix)
            write("导入失败，所以检查到此为止：改好这一处再运行一次。")
            write("Importing your code failed, so the check stops here: fix this and run the check again.")

    def report_summary(self, write):
        t = self.target
        for reason, count in self.skipped.items():
            write("没有运行 / Not run: %d 个测试 / test(s): %s" % (count, reason))
        problems = sorted(self.findings.values(), key=lambda f: f.step)
        zh = "，另有 %d 条说明" % len(self.notes) if self.notes else ""
        en = ", and %d note(s)" % len(self.notes) if self.notes else ""
        if not problems:
            write("全部通过：到第 %02d 步为止，你的代码和文章的行为一致%s。" % (t.number, zh))
            write("All passed: up to step %02d your code behaves as the article's%s." % (t.number, en))
            return
        steps = ", ".join(sorted({"%02d" % f.step for f in problems}))
        write("结果：第 %s 步有 %d 个问题要改%s；%d 个测试里 %d 个通过。先从第 %02d 步改起。" % (
            steps, len(problems), zh, self.ran, self.passed, problems[0].step))
        write("Result: %d problem(s) to fix, in step(s) %s%s; %d of %d tests passed. Start with step %02d.%s" % (
            len(problems), steps, en, self.passed, self.ran, problems[0].step,
            "" if self.verbose else " (-v: every test, full tracebacks)"))
