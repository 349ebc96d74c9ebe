"""run.py as a learner starts it: options, worker processes, Ctrl-C.

(Every chapter's README test also starts its run.py from another folder; see
test_readmes.py. run.py is the same file in every chapter, test_layout.py.)
"""
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from probes import Probe
from support import files_in
from tutorial.chapters import ROOT
from tutorial.server import ChapterServer, ServerFailed

pytestmark = [pytest.mark.repository_only, pytest.mark.final_only]


def call(url, data=None, cookie=None):
    """(HTTP status, JSON body, Set-Cookie headers) of one request."""
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    if cookie:
        req.add_header("Cookie", "session=" + cookie)
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.loads(res.read()), res.headers.get_all("Set-Cookie")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), err.headers.get_all("Set-Cookie")


LOGIN = b'{"account":"admin","password":"123456"}'


def test_inside_its_folder_with_two_workers(chapter, tmp_path):
    """`python run.py --workers 2` inside final/: the article's session works
    across two worker processes, and Ctrl-C stops them all cleanly."""
    from tutorial.lab import fast_hash_env

    sessions = tmp_path / "sessions"
    probe = Probe(tmp_path)
    # (the password hash, from step 10 on, with one iteration here: this test is about the workers)
    server = ChapterServer(chapter.path, cwd=chapter.path, workers=2, session_dir=sessions,
                           env=dict(probe.env, **fast_hash_env()), warm=False)
    assert server.command[1:] == ["run.py", "--host", "127.0.0.1", "--port", str(server.port), "--workers", "2"]
    with server:
        assert call(server.url("logout"))[:2] == (401, {"data": "退出失败", "status": 401})
        status, body, _ = call(server.url("login"), LOGIN)
        token = body["data"]
        assert (status, body["status"]) == (200, 0)
        sessions_of = lambda: [name for name in files_in(sessions) if name != "device_secret"]  # noqa: E731 (26 on)
        assert sessions_of() == ["manage_21232f297a57a5a743894a0e4a801fc3"]
        # several requests, so that both workers answer some
        for _ in range(6):
            assert call(server.url("login"), b'{"account":"admin"}')[1]["status"] == 400
        assert call(server.url("logout"), cookie=token)[:2] == (200, {"data": "退出成功", "status": 0})
        assert sessions_of() == []
    assert server.process.returncode == 0, server.output()
    assert "Traceback" not in server.output()
    assert server.output().count("Starting worker") == 2, server.output()
    probe.assert_ran(chapter.path)


def _port_in_use(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def port_8000(wait=30.0):
    """Port 8000 for this test alone. Test runs on one machine (two clones, two
    CI jobs) take turns: on Linux, holding an abstract Unix socket named after
    the port is a machine-wide lock that leaves no file and ends with its
    process. Another program on the port is waited for, then skipped (in CI
    a skip fails)."""
    lock = None
    deadline = time.monotonic() + wait
    if sys.platform.startswith("linux"):
        lock = socket.socket(socket.AF_UNIX)
        while True:
            try:
                lock.bind("\0tutorial-tests-port-8000")
                break
            except OSError:
                if time.monotonic() > deadline:
                    lock.close()
                    pytest.skip("another test run kept port 8000 for %ss" % wait)
                time.sleep(0.05)
    try:
        while _port_in_use(8000):
            if time.monotonic() > deadline:
                pytest.skip("another program listens on port 8000 (python run.py with no options needs it)")
            time.sleep(0.1)
        yield
    finally:
        if lock is not None:
            lock.close()


def test_defaults_are_127_0_0_1_port_8000(chapter, tmp_path):
    server = ChapterServer(chapter.path, session_dir=tmp_path, options=False, warm=False)
    assert server.command[1:] == ["run.py"]
    with port_8000(), server:
        assert call("http://127.0.0.1:8000/api/v1/be/logout")[0] == 401
    assert "http://127.0.0.1:8000" in server.output()
    assert server.process.returncode == 0


@pytest.mark.parametrize("workers", [1, 2])
def test_a_port_in_use_gets_one_line_naming_it(chapter, tmp_path, workers):
    """Another program on the port: one line in Chinese and English naming the
    port and --port, exit code 1, no traceback."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        server = ChapterServer(chapter.path, port=port, workers=workers, session_dir=tmp_path, warm=False)
        with pytest.raises(ServerFailed):
            server.start()
    lines = server.output().strip().splitlines()
    assert server.process.returncode == 1, server.output()
    assert lines == ["无法监听 127.0.0.1:%d（Address already in use），请用 --port 换一个端口，例如 --port %d"
                     " / Cannot listen on 127.0.0.1:%d (Address already in use): choose another port with"
                     " --port, e.g. --port %d" % (port, port + 1, port, port + 1)], server.output()
    # docs/troubleshooting.md ("when something goes wrong", linked from the README) shows this very line, for port 8000
    readme = (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    shown = re.search(r"```text\n(.*?)\n *```", readme, re.S).group(1).strip()
    assert shown == lines[0].replace(str(port + 1), "8001").replace(str(port), "8000")


def test_a_port_it_cannot_bind_gets_one_line_too(chapter, tmp_path):
    server = ChapterServer(chapter.path, port=70000, session_dir=tmp_path, warm=False)
    with pytest.raises(ServerFailed):
        server.start()
    assert server.process.returncode == 1
    assert server.output().strip().splitlines() == [
        "无法监听 127.0.0.1:70000（bind(): port must be 0-65535.），请用 --port 换一个端口，例如 --port 8000"
        " / Cannot listen on 127.0.0.1:70000 (bind(): port must be 0-65535.): choose another port with"
        " --port, e.g. --port 8000"]


def test_a_port_taken_before_the_server_binds_it_is_replaced(monkeypatch):
    """A port ChapterServer chose can be taken by another program (a client's
    connection, another run's server) before run.py binds it: it chooses again."""
    from tutorial import server as server_module

    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        taken = other.getsockname()[1]
        ports = iter([taken])
        monkeypatch.setattr(server_module, "free_port", lambda real=server_module.free_port: next(ports, None) or real())
        server = ChapterServer(ROOT / "final", warm=False)
        assert server.port == taken
        with server:
            assert server.port != taken
            assert call(server.url("logout"))[0] == 401
        assert "Cannot listen on 127.0.0.1:%d" % taken not in server.output()  # the output of the second start


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
@pytest.mark.parametrize("which", ["sanic", "run.py"])
def test_sanic_pr_3145_workaround_is_still_needed(which):
    """Sanic's multi-worker Ctrl-C bug, made to happen every time
    (tests/sanic_pr_3145.py): with Sanic's own handler the manager's read of
    its workers' state goes wrong; with run.py's workaround it does not. When
    Sanic is fixed the first case fails: then delete the workaround from run.py
    (every chapter) and this test."""
    done = subprocess.run([sys.executable, "-B", str(Path(__file__).parent / "sanic_pr_3145.py"), which],
                          capture_output=True, text=True, timeout=60, cwd=str(ROOT))
    outcome = done.stdout.strip()
    if which == "sanic":
        assert outcome.startswith("broken: "), (
            "Sanic's own Ctrl-C handler no longer breaks the manager's state (%r): "
            "sanic-org/sanic PR 3145 may be fixed; remove the workaround from run.py\n%s"
            % (outcome, done.stderr))
    else:
        assert outcome == "clean", done.stdout + done.stderr


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_a_second_ctrl_c_kills_as_in_sanic(tmp_path):
    """run.py's first Ctrl-C only asks Sanic's loop to stop; a second one kills,
    as Sanic's own does: a manager stuck waiting for workers that died while
    starting (Ctrl-C in the first second) can still be stopped."""
    done = subprocess.run([sys.executable, "-B", str(Path(__file__).parent / "sanic_pr_3145.py"), "twice"],
                          capture_output=True, text=True, timeout=60, cwd=str(ROOT), start_new_session=True,
                          env=dict(os.environ, TMPDIR=str(tmp_path)))  # killed: it cannot remove its socket folder
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    assert done.stdout.startswith("posted\n") and "Shutdown interrupted. Killing." in done.stdout, done.stdout


def test_reading_the_output_does_not_move_where_the_server_writes(tmp_path):
    """ChapterServer.output() while the server writes (as wait_ready polls it):
    every line arrives whole and in place."""
    script = tmp_path / "talk.py"
    script.write_text("import sys\nfor i in range(3000):\n    print('line %d' % i, flush=True)\n")
    server = ChapterServer(ROOT / "final", script=script, warm=False).launch()
    while server.process.poll() is None:
        server.output()
    assert server.output().splitlines() == ["line %d" % i for i in range(3000)]
