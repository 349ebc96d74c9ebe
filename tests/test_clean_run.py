"""A test run leaves nothing behind: no file in the temporary folder but
pytest's own basetemp, and no process, even when it is interrupted.

tests/clean_run.py makes every run use basetemp/tmp as its temporary folder,
fails a passing run that left anything in it or left a process running, and
stops what an interrupted run left running. These tests check that it works."""
import getpass
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from background import processes_with, wait_until_gone
from clean_run import _command_line
from tutorial.chapters import ROOT

pytestmark = pytest.mark.repository_only

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def pytest_in_a_child(tmp_path, *args, env=None):
    """`python -m pytest ARGS` with its own empty temporary folder (TMPDIR)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp), TEMP=str(tmp), TMP=str(tmp), **(env or {}))
    env.pop("PYTEST_ADDOPTS", None)
    log = open(tmp_path / "pytest.log", "w+b")
    child = subprocess.Popen([sys.executable, "-m", "pytest", "-q", *args], cwd=str(ROOT), env=env,
                             stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    child.output = lambda: (log.seek(0), log.read().decode(errors="replace"))[1]
    return child, tmp


def only_pytests_own(tmp):
    """What the child left in its temporary folder, beyond pytest's basetemp root."""
    return sorted(set(os.listdir(tmp)) - {"pytest-of-%s" % getpass.getuser()})


def test_background_work_leaves_its_temporary_folder_empty(background_folders):
    """The notebooks (their session folders, the benchmark's output) and the
    README sessions clean up after themselves: each job ran with its own
    temporary folder inside basetemp, and it is empty now."""
    for job, folder in background_folders.items():
        assert sorted(os.listdir(folder / "tmp")) == [], "the %s job left files behind" % job


@linux_only
def test_an_interrupted_run_leaves_no_process_and_no_file_behind(tmp_path):
    """Ctrl-C a run (a child pytest with an empty temporary folder) while it
    starts servers and the notebooks' kernels are starting: afterwards none of
    its processes is left, and its temporary folder holds only pytest's basetemp."""
    mark = "INTERRUPTED_TEST_RUN=" + uuid.uuid4().hex
    key, value = mark.split("=")
    child, tmp = pytest_in_a_child(tmp_path, "tests/test_server.py", "tests/test_notebooks.py",
                                   env={key: value})
    deadline = time.monotonic() + 60
    while True:
        running = [_command_line(p) for p in processes_with(mark)]
        if any("run.py" in c for c in running) and any("ipykernel" in c for c in running):
            break
        assert child.poll() is None and time.monotonic() < deadline, (
            "no server and kernel seen running:\n%s\n%s" % ("\n".join(running), child.output()))
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGINT)  # what Ctrl-C does to pytest
    try:
        child.wait(60)
    finally:
        left = ["%d %s" % (pid, _command_line(pid)) for pid in wait_until_gone(mark, 15)]
        for pid in processes_with(mark):  # not left to the outer run
            os.kill(pid, signal.SIGKILL)
    assert "KeyboardInterrupt" in child.output(), child.output()
    assert left == [], "still running after the interrupted run:\n%s\n%s" % ("\n".join(left), child.output())
    assert only_pytests_own(tmp) == [], child.output()
