"""A test run that leaves nothing behind and, in CI, skips nothing.

Loaded as a plugin by the conftest.py at the repository root.

- The run's temporary folder (TMPDIR, TEMP, TMP: what `tempfile` uses, in this
  process and every process it starts) is basetemp/tmp, inside pytest's own
  basetemp. After a run that passed it must be empty, or the run fails, naming
  what was left.
- Every process the run starts (servers, kernels, the background jobs, curl)
  carries the run's mark in its environment (TUTORIAL_TEST_RUNS; a run inside a
  run adds its own). When the run ends, whatever still carries the mark is
  stopped: after Ctrl-C or `-x` that is expected and said in one line; after a
  run that passed it is a defect, and the run fails, naming the processes.
- With CI=true a skipped test is a failure, its reason shown: CI must run every
  test (.ci/run installs what they need).

tests/test_clean_run.py proves both: a run interrupted in the middle leaves no
process, and a run leaves nothing in the temporary folder but pytest's own.
"""
import os
import signal
import sys
import tempfile
import uuid

import pytest

MARK = "TUTORIAL_TEST_RUNS"
SAVED = (MARK, "TMPDIR", "TEMP", "TMP")
_run = pytest.StashKey()


# ----------------------------------------------------------------- no process left behind

def pytest_sessionstart(session):
    mark = uuid.uuid4().hex
    tmp = session.config._tmp_path_factory.getbasetemp() / "tmp"
    tmp.mkdir()
    session.config.stash[_run] = (mark, tmp, {k: os.environ.get(k) for k in SAVED})
    os.environ[MARK] = ("%s %s" % (os.environ.get(MARK, ""), mark)).strip()
    os.environ.update(TMPDIR=str(tmp), TEMP=str(tmp), TMP=str(tmp))
    tempfile.tempdir = None  # read them again


def _command_line(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "(gone)"


def stop_marked(mark, grace=10.0):
    """Stop every process whose environment carries `mark` (not this one):
    SIGTERM, then SIGKILL what is still there after `grace` seconds. Returns
    the command lines of the processes found."""
    from background import processes_with, wait_until_gone

    found = [p for p in processes_with(mark) if p != os.getpid()]
    lines = ["%d %s" % (pid, _command_line(pid)) for pid in found]
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        for pid in found:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        found = [p for p in wait_until_gone(mark, wait) if p != os.getpid()]
        if not found:
            break
    return lines


def pytest_sessionfinish(session, exitstatus):
    mark, tmp, saved = session.config.stash[_run]
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    tempfile.tempdir = None
    left = stop_marked(mark) if sys.platform.startswith("linux") else []  # /proc
    files = sorted(os.listdir(tmp))
    if not left and not files:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    say = reporter.write_line if reporter else (lambda line, **markup: print(line))
    passed = exitstatus == pytest.ExitCode.OK
    if passed:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if left:
        say("FAILED: the test run passed but left %d processes running (now stopped):" % len(left) if passed
            else "stopped %d processes the interrupted or failed run had left running:" % len(left), red=passed)
        for line in left:
            say("  " + line[:300])
    if files and passed:
        say("FAILED: the test run passed but left files in its temporary folder %s: %s" % (tmp, files), red=True)


# ----------------------------------------------------------------- in CI, no skips

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI", "").lower() != "true" or not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = "skipped, and with CI=true a skip is a failure (CI must run every test): %s" % reason
