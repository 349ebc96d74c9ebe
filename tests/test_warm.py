"""tutorial/warm.py: a test run's servers (and README sessions' `python -c` lines) start from a warm interpreter, and are
still each chapter's own run.py, with its exit code, output and clean stop."""
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest

from tutorial.chapters import by_key
from tutorial.lab import fast_hash_env
from tutorial.server import ChapterServer
from tutorial.warm import Starter, WarmProcess

pytestmark = [pytest.mark.repository_only,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="warm starts are for Linux only")]


def test_each_warm_server_runs_its_own_chapter(tmp_path):
    """The starter imported Sanic, never a chapter: 05 has no "who am I", 22 has, in the same starter."""
    answers = {}
    for key in ("05", "22", "05"):
        with ChapterServer(by_key(key).path, session_dir=tmp_path / key, env=fast_hash_env(), warm=True) as server:
            assert isinstance(server.process, WarmProcess)
            answers.setdefault(key, []).append(httpx.get(server.url("session")).status_code)
        assert server.process.returncode == 0, server.output()
    assert answers == {"05": [404, 404], "22": [401]}


def test_a_warm_server_exits_as_run_py_does(tmp_path):
    """A port in use: run.py's one line, and exit code 1, as from `python run.py`."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = ChapterServer(by_key("05").path, port=port, session_dir=tmp_path, warm=True).launch()
        assert server.process.wait(30) == 1
    assert "Cannot listen on 127.0.0.1:%d (Address already in use)" % port in server.output()


def test_servers_end_with_their_starter(tmp_path):
    """A starter that dies (a killed kernel, an interrupted run) takes its servers along."""
    server = ChapterServer(by_key("05").path, session_dir=tmp_path, warm=True).start()
    starter = Starter.get()
    try:
        starter.process.kill()
        deadline = time.monotonic() + 10
        while os.path.exists("/proc/%d" % server.process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        alive = os.path.exists("/proc/%d" % server.process.pid)
    finally:
        Starter.shutdown()
        try:
            os.killpg(server.process.pid, signal.SIGKILL)
        except OSError:
            pass
    assert not alive, "the server outlived its starter"


def test_requests_that_arrive_together_are_each_answered(tmp_path):
    """Two servers asked for at the same moment (the README sessions start three at a time, from threads)
    can reach the starter in one read: each is started at once, none left waiting in a buffer (it was:
    "the warm starter did not answer", after 30 s, once in a while)."""
    script, log = tmp_path / "quick.py", tmp_path / "log"
    script.write_text("raise SystemExit(3)\n")
    log.write_text("")
    starter = Starter()
    try:
        asked = "".join(json.dumps({"id": n, "argv": [str(script)], "cwd": str(tmp_path), "env": {},
                                    "log": str(log)}) + "\n" for n in (1, 2))
        with starter.changed:
            starter.process.stdin.write(asked)  # (one write: both in one read, as two threads' can be)
            starter.process.stdin.flush()
            assert starter.changed.wait_for(lambda: {1, 2} <= set(starter.pids), 10), "answered: %s" % starter.pids
            assert starter.changed.wait_for(lambda: len(starter.exits) == 2, 10)
        assert sorted(starter.exits) == sorted(starter.pids.values()) and set(starter.exits.values()) == {3}
    finally:
        starter.close()


def test_several_workers_are_forked_and_leave_no_temporary_folder(tmp_path, monkeypatch):
    """A warm server with two workers forks them (a spawned worker would be a new Python, its command line
    `... spawn_main ...`): both answer, and multiprocessing's temporary folder goes with the server.
    (A short TMPDIR: multiprocessing puts a Unix socket in it, and their paths are limited to 107 bytes.)"""
    import shutil
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix="t", dir="/tmp"))
    monkeypatch.setenv("TMPDIR", str(scratch))
    server = ChapterServer(by_key("05").path, session_dir=tmp_path / "sessions", workers=2, warm=True)
    with server:
        def children(pid):
            with open("/proc/%d/task/%d/children" % (pid, pid)) as found:
                return [int(p) for p in found.read().split()]
        deadline = time.monotonic() + 10
        while len(children(server.process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = children(server.process.pid)
        lines = [open("/proc/%d/cmdline" % pid, "rb").read() for pid in workers]
        answers = {httpx.get(server.url("logout")).status_code for _ in range(8)}
    left = os.listdir(scratch)
    shutil.rmtree(scratch)
    assert len(workers) >= 2 and not any(b"spawn_main" in line for line in lines), lines
    assert answers == {401}
    assert left == [], "left behind: %s" % left


PYTHON_C = [  # (what a README's `python -c` line may do: print, write errors, stop with a message, fail)
    "import sys; print(sys.path[0] == '', sys.dont_write_bytecode, sys.argv); print('to stderr', file=sys.stderr)",
    "import config; print(config.SESSION_STORE)",
    "import sys; print('before'); sys.exit('a message and exit code 1')",
    "print('before'); import no_such_module",
    "def f():\n    raise ValueError('deep')\nf()",
]


def test_python_c_runs_warm_as_python_minus_c_does(monkeypatch):
    """README sessions run their `python -c` lines in a warm interpreter: the same output, error output and
    traceback as `python -B -c` in the chapter's folder, and nothing of the starter's own code."""
    import subprocess

    from tutorial import transcript

    folder = by_key("33").path
    for code in PYTHON_C:
        monkeypatch.setenv("TUTORIAL_WARM_SERVERS", "0")
        cold = transcript.python_c(code, folder)
        monkeypatch.setenv("TUTORIAL_WARM_SERVERS", "1")
        assert transcript.python_c(code, folder) == cold, code
    assert "Traceback" in cold and "ValueError: deep" in cold  # (the last case did fail, and said where)
    assert not (folder / "__pycache__").exists() and subprocess.run(
        ["git", "status", "--porcelain", str(folder)], capture_output=True, text=True).stdout == ""
