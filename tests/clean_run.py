"""A test run that leaves nothing behind and, in CI, skips nothing.

Loaded as a plugin by the conftest.py at the repository root.

- The run's temporary folder (TMPDIR, TEMP, TMP: what `tempfile` uses, in this
  process and every process it starts) is a folder of its own, tt-XXXXXXXX in
  the system's temporary folder (in /dev/shm, in memory, on Linux when no
  temporary folder is set and it has room), removed when the run ends. A run that passed
  must have left it empty, or it fails, naming what was left. (Not inside
  pytest's basetemp: that path is too long for the Unix sockets that
  multiprocessing, so Sanic's worker manager, creates in the temporary folder,
  108 bytes at most on Linux and 104 on macOS. pytest's basetemp itself is
  made before the switch, in the system's temporary folder as always.)
- Every process the run starts (servers, kernels, the background jobs, curl)
  carries the run's mark in its environment (TUTORIAL_TEST_RUNS; a run inside a
  run adds its own). When the run ends, whatever still carries the mark is
  stopped: after Ctrl-C (or SIGTERM, handled as Ctrl-C) or `-x` that is expected
  and said in one line; after a
  run that passed it is a defect, and the run fails, naming the processes.
- With CI=true a skipped test is a failure, its reason shown: CI must run every
  test (.ci/run installs what they need). Not in a learner's check (--project):
  a missing redis-server is not a fault of their code, and the report says
  which tests could not run and how to install what they need.

tests/test_clean_run.py proves both: a run interrupted in the middle leaves no
process, and a run leaves nothing in the temporary folder but pytest's own.
"""
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

MARK = "TUTORIAL_TEST_RUNS"
SAVED = (MARK, "TMPDIR", "TEMP", "TMP")
_run = pytest.StashKey()


# ----------------------------------------------------------------- no process left behind

IN_MEMORY = "/dev/shm"  # Linux: a file system in memory, far quicker for the thousands of folders a run makes
IN_MEMORY_FREE = 2 << 30  # used only with this much room (a container may give it 64 MB)


def _in_memory():
    """/dev/shm when the user chose no temporary folder and it has room, else None."""
    if any(os.environ.get(k) for k in ("TMPDIR", "TEMP", "TMP")) or not os.path.isdir(IN_MEMORY):
        return None
    try:
        st = os.statvfs(IN_MEMORY)
    except OSError:
        return None
    return IN_MEMORY if st.f_bavail * st.f_frsize >= IN_MEMORY_FREE and os.access(IN_MEMORY, os.W_OK) else None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    # Before pytest picks its basetemp: the run's files in memory, where the
    # system has room for them (the suite takes a third less time).
    quick = _in_memory()
    if quick:
        os.environ.update(TMPDIR=quick, TEMP=quick, TMP=quick)
        tempfile.tempdir = None


def _terminated(signum, frame):
    raise KeyboardInterrupt("SIGTERM")


def pytest_sessionstart(session):
    # A run ended by SIGTERM (`kill`, a CI job's timeout) cleans up as after Ctrl-C:
    # by default SIGTERM ends Python at once, leaving servers, kernels and folders.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminated)
    mark = uuid.uuid4().hex
    session.config._tmp_path_factory.getbasetemp()  # where pytest puts it, before TMPDIR changes
    tmp = Path(tempfile.mkdtemp(prefix="tt-"))
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


def stop_marked(mark, grace=1.0, timeout=15.0):
    """Stop every process whose environment carries `mark` (not this one):
    SIGTERM, then SIGKILL what is still there after `grace` seconds (a Sanic
    manager stopped while its workers start never stops by itself), and again
    whatever a dying process started meanwhile, until none is left. Returns
    the command lines of the processes found."""
    from background import processes_with, wait_until_gone

    lines, sig = {}, signal.SIGTERM
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [p for p in processes_with(mark) if p != os.getpid()]
        if not found:
            break
        for pid in found:
            lines.setdefault(pid, "%d %s" % (pid, _command_line(pid)))
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if sig == signal.SIGTERM:
            wait_until_gone(mark, grace)
            sig = signal.SIGKILL
        else:
            time.sleep(0.1)
    return list(lines.values())


def pytest_sessionfinish(session, exitstatus):
    mark, tmp, saved = session.config.stash[_run]
    if signal.getsignal(signal.SIGTERM) is _terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    tempfile.tempdir = None
    from tutorial.warm import Starter

    Starter.shutdown()  # this run's warm starter (tutorial/warm.py) is done: it is not "left running"
    left = stop_marked(mark) if sys.platform.startswith("linux") else []  # /proc
    files = sorted(os.listdir(tmp))
    shutil.rmtree(tmp, ignore_errors=True)
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
        say("FAILED: the test run passed but left files in its temporary folder (now removed): %s" % files,
            red=True)


# ----------------------------------------------------------------- in CI, no skips

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI", "").lower() != "true" or not report.skipped or hasattr(report, "wasxfail"):
        return
    if item.config.getoption("--project"):  # a learner's check: its report names what could not run, and why
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = "skipped, and with CI=true a skip is a failure (CI must run every test): %s" % reason
