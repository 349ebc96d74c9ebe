"""Without the optional programs the README's test command still passes: every test
that needs one skips with a line saying how to install it, and nothing else
changes. CI has them all, so the tests that need them run once more here, in a
child pytest whose PATH hides them and where CI is unset (tests/without_programs.py)."""
import re

import pytest

from tutorial.chapters import ROOT
from without_programs import READERS, needing_files

pytestmark = pytest.mark.repository_only

SKIPPED = re.compile(r"^SKIPPED \[(\d+)\] (\S+): (.+)$", re.M)
SUMMARY = re.compile(r"^(\d+) passed, (\d+) skipped(?:, \d+ deselected)? in [\d.]+s", re.M)
# A reason says how to install what is missing.
HOW = re.compile(r"sudo apt install [\w-]+")


def skips(output) -> list:
    """[(count, where, reason)] of a run's -rs lines."""
    return [(int(n), where, reason) for n, where, reason in SKIPPED.findall(output)]


def test_without_them_the_tests_that_need_them_skip_saying_how_to_install(executed_without_programs):
    run = executed_without_programs
    output = run["output"]
    assert run["code"] == 0 and not re.search(r"^(FAILED|ERROR) ", output, re.M), output[-5000:]
    found = skips(output)
    assert found, output[-3000:]
    for count, where, reason in found:
        assert HOW.search(reason), "%s skips without saying how to install what it needs: %s" % (where, reason)
    reasons = " ".join(reason for _, _, reason in found)
    for program in ("redis-server", "chromium", "wrk", "strace"):
        assert program in reasons, "no test skipped for want of %s:\n%s" % (program, output[-3000:])
    summary = SUMMARY.search(output)
    assert summary and int(summary.group(2)) == sum(n for n, _, _ in found), output[-1000:]
    # The learner's check of the last step, with this machine's own PATH, says the same as without any
    # program: what the failure of issue 18 was about (it claimed that a redis-server is always there).
    assert "test_tests_that_cannot_run_here_are_named_with_what_to_install" in " ".join(run["args"])


def test_the_run_has_every_test_file_that_needs_one():
    """A file that needs an optional program and reads a background job's results must say which of its
    tests need it (READERS): the child run cannot afford every job."""
    files = needing_files()
    assert {"tests/test_redis_store.py", "tests/test_browser.py", "tests/test_bench.py"} <= set(files)
    for name in files:
        if re.search(r"\bexecuted_\w+\b", (ROOT / name).read_text(encoding="utf-8")):
            assert name in READERS, "%s reads a background job: list its tests that need a program in READERS" % name


@pytest.mark.full_run_only
def test_readme_shows_the_summary_of_a_run_without_them(executed_without_programs, request):
    """The "Some tests are skipped" entry (docs/troubleshooting.md, linked from the README) shows the last line a learner sees without any of the
    programs: this run's tests, less those that skip then (the child run above counted them), but for the
    tests that run beside this process (tests/beside.py): their skips are that child's."""
    run = executed_without_programs
    skipped = int(SUMMARY.search(run["output"]).group(2))
    assert len(run["skipped"]) == skipped, run["skipped"]
    skipped -= len(set(run["skipped"]) & set(request.config.tutorial_beside))
    total = len(request.session.items)
    shown = "%d passed, %d skipped, %d deselected" % (total - skipped, skipped, len(request.config.tutorial_beside))
    readme = (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    entry = readme.split("**有测试被跳过 / Some tests are skipped.**")[1].split("\n\n")[0]
    assert "`%s in " % shown in entry, "docs/troubleshooting.md's 'Some tests are skipped' should show `%s in …`" % shown
