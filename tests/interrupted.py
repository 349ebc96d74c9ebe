"""A test run interrupted in the middle, for tests/test_clean_run.py.

A child pytest (with an empty temporary folder of its own) runs until one of its
servers serves, and, with the README sessions, until its background job runs;
then it gets SIGINT (what Ctrl-C does) or SIGTERM (what `kill` or a CI
timeout does). What it printed, and what it left behind, are written down for
the test to judge. Run by tests/background.py as the job "interruptions", beside
the rest of the suite: the child needs a core of its own for a few seconds, and
the suite's own process has other tests to run meanwhile. Linux only (/proc).
"""
import getpass
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from background import processes_with, wait_until_gone
from clean_run import _command_line
from tutorial.chapters import ROOT

# (name, signal, with the README job in the background)
CASES = [("ctrl-c", signal.SIGINT, True), ("sigterm", signal.SIGTERM, False)]


def pytest_in_a_child(folder, *args, env=None):
    """pytest ARGS in a process of its own, with its own empty temporary folder (TMPDIR)."""
    tmp = folder / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp), TEMP=str(tmp), TMP=str(tmp), **(env or {}))
    env.pop("PYTEST_ADDOPTS", None)
    log = open(folder / "pytest.log", "w+b")
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


def interrupt(folder: Path, sig, background: bool) -> dict:
    """Interrupt a child run with `sig` once it serves (and its README job runs);
    {"output", "seen", "left", "files"}: what it printed, whether the moment came,
    the processes still running after it ended, what it left in its temporary folder."""
    mark = "INTERRUPTED_TEST_RUN=" + uuid.uuid4().hex
    key, value = mark.split("=")
    files = ["tests/test_server.py"] + (["tests/test_readmes.py"] if background else [])
    child, tmp = pytest_in_a_child(folder, *files, env={key: value})
    deadline = time.monotonic() + 60
    seen = False
    while child.poll() is None and time.monotonic() < deadline:
        if serving(mark) and (not background or any("background.py" in _command_line(p)
                                                     for p in processes_with(mark))):
            seen = True
            break
        time.sleep(0.05)
    if not seen:
        running = "\n".join(_command_line(p) for p in processes_with(mark))
        child.kill()
    else:
        os.kill(child.pid, sig)
    try:
        child.wait(60)
    finally:
        left = ["%d %s" % (pid, _command_line(pid)) for pid in wait_until_gone(mark, 15)]
        for pid in processes_with(mark):  # not left to the outer run
            os.kill(pid, signal.SIGKILL)
    output = child.output()
    if not seen:
        output = "no server serving and no background job seen; running:\n%s\n%s" % (running, output)
    return {"output": output, "seen": seen, "left": left, "files": only_pytests_own(tmp)}


def run_all(folder: Path) -> None:
    results = {}
    if not sys.platform.startswith("linux"):  # (the tests that read these skip there)
        CASES.clear()
    for name, sig, background in CASES:
        (folder / name).mkdir()
        results[name] = interrupt(folder / name, sig, background)
    (folder / "results.json").write_text(json.dumps(results), encoding="utf-8")
