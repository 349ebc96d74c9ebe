"""Step 21 (redis-outage): Redis stopped, or taking connections and answering
nothing, is a 503 in the envelope within a second, with one log line; the app
recovers by itself once Redis is back. A malformed SESSION_STORE stops the app
with one line. What chapter 20 does instead is at the end."""
import signal
import time

import pytest

from support import envelope, loaded, login_token, set_cookies
from test_redis_store import redis_keys, redis_stores, store, client, session  # noqa: F401 (the Redis fixtures)

pytestmark = pytest.mark.since("redis-outage")

STORE_DOWN = (503, 503, "会话服务暂时不可用")


def test_redis_down_is_a_503_with_one_log_line_until_it_is_back(chapter, client, empty_redis, caplog):
    token = login_token(client)
    empty_redis.stop()
    try:
        for name, request in (("who am I", lambda: client.get("session", cookie=token)),
                              ("login", client.login), ("logout", lambda: client.get("logout", cookie=token))):
            caplog.clear()
            res = request()
            assert envelope(res) == STORE_DOWN, name
            assert set_cookies(res) == [], "%s: the cookie stays; the session may well still be there" % name
            errors = [r for r in caplog.records if r.levelname == "ERROR"]
            assert len(errors) == 1, [r.getMessage() for r in errors]
            assert "failed: session store unavailable: " in errors[0].getMessage() and not errors[0].exc_info
    finally:
        empty_redis.start()  # the same port, and empty: it saved nothing
    assert envelope(client.get("session", cookie=token)) == (401, 401, "没有权限"), "back, without a restart"
    token = login_token(client)
    assert envelope(client.get("session", cookie=token))[:2] == (200, 0)


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="SIGSTOP pauses a process on POSIX systems only")
def test_a_redis_that_does_not_answer_is_a_503_without_a_hang(chapter, client, empty_redis, caplog, monkeypatch):
    """Redis paused (SIGSTOP): it takes connections but answers nothing. The
    request gives up after the store's timeout (1 s; 0.2 s here), and works
    again as soon as Redis answers (SIGCONT)."""
    monkeypatch.setattr(loaded(chapter).module("core.redis_store"), "TIMEOUT", 0.2)
    token = login_token(client)
    empty_redis.process.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        res = client.get("session", cookie=token)
        waited = time.monotonic() - started
    finally:
        empty_redis.process.send_signal(signal.SIGCONT)
    assert envelope(res) == STORE_DOWN and waited < 5, waited
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == ["GET /api/v1/be/session failed: session store unavailable: no answer within 0.2 s"]
    assert envelope(client.get("session", cookie=token))[:2] == (200, 0), "answered again, without a restart"


# ---------------------------------------------------------------- the SESSION_STORE setting (no server needed)

@pytest.mark.parametrize("value", ["file", "redis://127.0.0.1:6379/0", "redis://localhost", "rediss://cache.example:6380/2",
                                   "redis://:secret@10.0.0.5/1", "unix:///var/run/redis/redis.sock"])
def test_session_store_setting_takes_file_or_a_redis_url(chapter, value):
    assert loaded(chapter).module("config").checkedStore(value) == value


@pytest.mark.parametrize("value", ["redis", "files", "redis:/127.0.0.1:6379", "redis://", "redis://127.0.0.1:port/0",
                                   "redis://127.0.0.1:6379/zero", "redis://127.0.0.1:99999", "http://127.0.0.1:6379",
                                   "127.0.0.1:6379", "unix://"])
def test_a_malformed_session_store_setting_stops_the_app_with_one_line(chapter, value):
    with pytest.raises(SystemExit) as stopped:
        loaded(chapter).module("config").checkedStore(value)
    message = str(stopped.value.code)
    assert "\n" not in message and repr(value) in message
    assert message.startswith("SESSION_STORE 设置错误：") and " / SESSION_STORE is wrong: " in message


# ---------------------------------------------------------------- before this step (chapter 20)

@pytest.mark.since("redis-store")
@pytest.mark.until("redis-store")
def test_before_the_fix_redis_down_is_a_500_with_a_traceback_per_request(chapter, client, empty_redis, caplog):
    """What 21's README says of 20: each request while Redis is stopped is the envelope's 500
    and a log line with the whole traceback."""
    token = login_token(client)
    empty_redis.stop()
    try:
        for _ in range(2):
            caplog.clear()
            assert envelope(client.get("session", cookie=token)) == (500, 500, "服务器错误")
            errors = [r for r in caplog.records if r.levelname == "ERROR"]
            assert len(errors) == 1 and errors[0].exc_info, "one line, with the traceback"
    finally:
        empty_redis.start()


@pytest.mark.since("redis-store")
@pytest.mark.until("redis-store")
def test_before_the_fix_a_malformed_setting_quietly_means_something_else(chapter):
    """What 21's README says of 20: nothing checks SESSION_STORE. One slash short, redis-py finds no host
    and uses its default, localhost:6379; a database named 'zero' becomes its default, 0."""
    session = loaded(chapter).module("core.session")
    short_slash = session.makeStore("redis:/localhost:6379/0").redis.connection_pool._connection_kwargs
    assert short_slash.get("host") is None and short_slash.get("port") is None  # redis-py's defaults, then
    named_db = session.makeStore("redis://localhost:6379/zero").redis.connection_pool._connection_kwargs
    assert named_db.get("db") is None  # redis-py's default, 0
