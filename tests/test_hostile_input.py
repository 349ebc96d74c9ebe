"""Step 07 (hostile-input): every part of the cookie is checked before a file is
touched, and every error is answered in the envelope. The attacks themselves
(a cookie that walks out of the session folder, hostile bodies) are in test_lab.py."""
import pytest

from support import each_case, envelope, files_in
from tutorial.lab import FileAccess

pytestmark = pytest.mark.since("hostile-input")

TOKEN = "0123456789abcdef0123456789abcdef"
HOSTILE = ["admin|../outside/manage|" + TOKEN, "admin|/etc/manage|" + TOKEN, "admin|manage/../..|" + TOKEN,
           "../admin|manage|" + TOKEN, "a" * 65 + "|manage|" + TOKEN, "admin|staff|" + TOKEN,
           "admin|manage|" + TOKEN.upper(), "admin|manage|" + TOKEN[:-1], "admin|manage|" + TOKEN + "0",
           "ad min|manage|" + TOKEN, "admin\x00|manage|" + TOKEN, "\udcff|manage|" + TOKEN, None, 42]


def test_hostile_values_touch_no_file(chapter, session, session_dir, clock):
    session.makeToken("admin", "manage")
    before = {name: (session_dir / name).read_text() for name in files_in(session_dir)}

    def check(value):
        with FileAccess() as access:
            assert session.checkToken(value) == 4
            session.clearToken(value)
            session.updataToken(value)
        assert access.paths == [], "no file may be opened for %r: %s" % (value, access.paths)
        assert {name: (session_dir / name).read_text() for name in files_in(session_dir)} == before

    each_case(HOSTILE, check, "value")


def test_make_token_refuses_unsafe_names(chapter, session, session_dir, clock):
    def check(user, group):
        with pytest.raises(ValueError):
            session.makeToken(user, group)
        assert files_in(session_dir) == []

    each_case([("../x", "manage"), ("admin", "staff"), ("a|b", "manage"), (None, "manage")], check, "user, group")


def test_errors_answer_in_the_envelope(chapter, client):
    def check(method, path, status, message):
        assert envelope(client.request(method, path)) == (status, status, message)

    each_case([
        ("GET", "/api/v1/be/nothing-here", 404, "接口不存在"),
        ("GET", "/", 404, "接口不存在"),
        ("DELETE", "login", 405, "请求方法错误"),
        ("GET", "login", 405, "请求方法错误"),
        ("POST", "logout", 405, "请求方法错误"),
    ], check, "method, path, status, message")


def test_unexpected_exception_is_500_without_details(chapter):
    import asyncio

    from conftest import loaded

    answer = loaded(chapter).module("core.app").answerInEnvelope
    loop = asyncio.new_event_loop()
    try:
        res = loop.run_until_complete(answer(None, RuntimeError("secret detail")))
    finally:
        loop.close()
    assert res.status == 500 and b"secret detail" not in res.body
    assert res.body.decode() == '{"data":"服务器错误","status":500}'


@pytest.mark.until("secret-token")
@pytest.mark.since(0)
def test_before_the_envelope_unknown_paths_get_sanics_own_404(chapter, client):
    res = client.get("/api/v1/be/nothing-here")
    assert res.status_code == 404 and envelope(res)[1] is None


TOO_LARGE = (413, 413, "请求太大")


@pytest.mark.repository_only
@pytest.mark.slow
def test_size_limits_on_a_real_server(chapter, tmp_path):
    """A body over 64 KB and a header over Sanic's limit are refused in the envelope
    (Sanic's own server enforces both, not its ASGI app: a real server it is)."""
    import httpx

    from tutorial.lab import fast_hash_env
    from tutorial.server import ChapterServer

    with ChapterServer(chapter.path, session_dir=tmp_path, env=fast_hash_env()) as server:
        big_body = httpx.post(server.url("login"), content=b'{"account":"' + b"a" * 70000 + b'"}')
        big_cookie = httpx.get(server.url("logout"), headers={"Cookie": "session=" + "a" * 20000})
    assert envelope(big_body) == TOO_LARGE
    assert envelope(big_cookie) == TOO_LARGE
