"""A test run leaves nothing behind: no file in the temporary folder but
pytest's own basetemp, and no process, even when it is interrupted.

tests/clean_run.py gives every run a temporary folder of its own and removes
it at the end, fails a passing run that left anything in it or left a process
running, and stops what an interrupted run left running. These tests check
that it works."""
import getpass
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from background import processes_with, wait_until_gone
from clean_run import _command_line
from tutorial.chapters import ROOT

pytestmark = pytest.mark.repository_only

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def pytest_in_a_child(tmp_path, *args, env=None):
    """pytest ARGS in a process of its own, with its own empty temporary folder (TMPDIR)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp), TEMP=str(tmp), TMP=str(tmp), **(env or {}))
    env.pop("PYTEST_ADDOPTS", None)
    log = open(tmp_path / "pytest.log", "w+b")
    # Ctrl-C works in the child even where it is ignored in this run (started as
    # a background job of a script, say): a process inherits "ignore SIGINT".
    code = ("import signal, sys, pytest; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "sys.exit(pytest.main(sys.argv[1:]))")
    child = subprocess.Popen([sys.executable, "-c", code, "-q", *args], cwd=str(ROOT), env=env,
                             stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    child.output = lambda: (log.seek(0), log.read().decode(errors="replace"))[1]
    return child, tmp


def only_pytests_own(tmp):
    """What the child left in its temporary folder, beyond pytest's basetemp root."""
    return sorted(set(os.listdir(tmp)) - {"pytest-of-%s" % getpass.getuser()})


def serving(mark):
    """Whether a run.py process carrying `mark` answers on its port."""
    for pid in processes_with(mark):
        command = _command_line(pid).split()
        if any(c.endswith("run.py") for c in command) and "--port" in command:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", int(command[command.index("--port") + 1]))) == 0:
                    return True
    return False


def test_nothing_is_left_in_the_runs_temporary_folder(executed_notebooks, executed_readmes):
    """The notebooks (their session folders, the benchmark's output), the README
    sessions and every test before this one used the run's own temporary
    folder, and cleaned up after themselves: it is empty."""
    tmp = Path(tempfile.gettempdir())
    assert tmp.name.startswith("tt-"), "the run's temporary folder was not set (tests/clean_run.py): %s" % tmp
    assert sorted(os.listdir(tmp)) == []


@linux_only
@pytest.mark.parametrize("sig, background", [(signal.SIGINT, True), (signal.SIGTERM, False)], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_run_leaves_no_process_and_no_file_behind(tmp_path_factory, sig, background):
    """Ctrl-C a run (a child pytest with an empty temporary folder) while a
    server of it serves and the README sessions run in the background:
    afterwards none of its processes (servers, workers, the background job,
    curl) is left, and its temporary folder holds only pytest's basetemp. The
    same for a run ended by SIGTERM, as `kill` or a CI timeout ends it (turned
    into Ctrl-C: the same clean-up; a server is enough to show it). (A killed
    notebook kernel leaves no server either: test_notebooks.py.)"""
    mark = "INTERRUPTED_TEST_RUN=" + uuid.uuid4().hex
    key, value = mark.split("=")
    files = ["tests/test_server.py"] + (["tests/test_readmes.py"] if background else [])
    # (a short path: the child's Unix sockets live below it)
    child, tmp = pytest_in_a_child(tmp_path_factory.mktemp("i"), *files, env={key: value})
    deadline = time.monotonic() + 60
    while not (serving(mark) and (not background or any("background.py" in _command_line(p)
                                                        for p in processes_with(mark)))):
        assert child.poll() is None and time.monotonic() < deadline, (
            "no server serving and no background job seen:\n%s\n%s"
            % ("\n".join(_command_line(p) for p in processes_with(mark)), child.output()))
        time.sleep(0.05)
    os.kill(child.pid, sig)  # SIGINT: what Ctrl-C does to pytest
    try:
        child.wait(60)
    finally:
        left = ["%d %s" % (pid, _command_line(pid)) for pid in wait_until_gone(mark, 15)]
        for pid in processes_with(mark):  # not left to the outer run
            os.kill(pid, signal.SIGKILL)
    assert "KeyboardInterrupt" in child.output(), child.output()
    assert left == [], "still running after the interrupted run:\n%s\n%s" % ("\n".join(left), child.output())
    assert only_pytests_own(tmp) == [], child.output()
