"""run.py as a learner starts it: options, worker processes, Ctrl-C.

(Every chapter's README test also starts its run.py from another folder; see
test_readmes.py. run.py is the same file in every chapter, test_layout.py.)
"""
import json
import socket
import urllib.error
import urllib.request

import pytest

from probes import Probe
from tutorial.server import ChapterServer

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
    # (chapter 06's password hash, with one iteration here: this test is about the workers)
    server = ChapterServer(chapter.path, cwd=chapter.path, workers=2, session_dir=sessions,
                           env=dict(probe.env, **fast_hash_env()))
    assert server.command[1:] == ["run.py", "--host", "127.0.0.1", "--port", str(server.port), "--workers", "2"]
    with server:
        assert call(server.url("logout"))[:2] == (401, {"data": "退出失败", "status": 401})
        status, body, _ = call(server.url("login"), LOGIN)
        token = body["data"]
        assert (status, body["status"]) == (200, 0)
        assert [p.name for p in sessions.iterdir()] == ["manage_21232f297a57a5a743894a0e4a801fc3"]
        # several requests, so that both workers answer some
        for _ in range(6):
            assert call(server.url("login"), b'{"account":"admin"}')[1]["status"] == 400
        assert call(server.url("logout"), cookie=token)[:2] == (200, {"data": "退出成功", "status": 0})
        assert list(sessions.iterdir()) == []
    assert server.process.returncode == 0, server.output()
    assert "Traceback" not in server.output()
    assert server.output().count("Starting worker") == 2, server.output()
    probe.assert_ran(chapter.path)


def _port_in_use(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_defaults_are_127_0_0_1_port_8000(chapter, tmp_path):
    if _port_in_use(8000):
        pytest.skip("something else listens on port 8000")
    server = ChapterServer(chapter.path, session_dir=tmp_path, options=False)
    assert server.command[1:] == ["run.py"]
    with server:
        assert call("http://127.0.0.1:8000/api/v1/be/logout")[0] == 401
    assert "http://127.0.0.1:8000" in server.output()
    assert server.process.returncode == 0
