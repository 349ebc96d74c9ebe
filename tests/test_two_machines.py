"""Chapters 20-22 (Redis) on real servers: two instances of the app, each started as a
learner starts it (`python <chapter>/run.py --port N`) with a session folder of
its own, stand in for two machines behind a load balancer. With the file store
a session stays on the machine that made it; with one Redis server behind both
(conftest.py `redis_server`, a real redis-server) they share sessions and login
counters, answer 503 while Redis is down, and work again when it is back. A
malformed SESSION_STORE stops the app at start-up with one line.
"""
import httpx
import pytest

from support import envelope, stopped_at_start
from tutorial.lab import fast_hash_env
from tutorial.lab_inside import start_servers
from tutorial.server import ChapterServer

pytestmark = [pytest.mark.repository_only, pytest.mark.since("redis-store"), pytest.mark.final_only,  # final/run.py, as
              pytest.mark.beside]  # a learner runs it

ADMIN_FILE = "manage_21232f297a57a5a743894a0e4a801fc3"
RIGHT = '{"account":"admin","password":"123456"}'
WRONG = '{"account":"admin","password":"wrong"}'
STORE_DOWN = (503, 503, "会话服务暂时不可用")


def two_instances(chapter, folder, **env):
    """Servers A and B of the chapter, started, each with its own session folder."""
    servers = [ChapterServer(chapter.path, session_dir=folder / name, env=dict(fast_hash_env(), **env))
               for name in ("a", "b")]
    start_servers(servers)
    return servers


@pytest.fixture(scope="module")
def running():
    """{chapter folder: (A, B)} on Redis, kept for this module's tests, stopped after them."""
    pairs = {}
    yield pairs
    for pair in pairs.values():
        for server in pair:
            server.stop()


@pytest.fixture
def on_redis(chapter, empty_redis, running, tmp_path_factory):
    """Servers A and B of the chapter, both with SESSION_STORE=<the run's Redis>, and
    session folders of their own (which stay empty)."""
    if chapter.path not in running:
        running[chapter.path] = two_instances(chapter, tmp_path_factory.mktemp("two"), SESSION_STORE=empty_redis.url)
    return running[chapter.path]


def session_on(server, token):
    return envelope(httpx.get(server.url("session"), headers={"Cookie": "session=" + token}))


def log_in(server, body=RIGHT):
    return httpx.post(server.url("login"), content=body)


def test_with_the_file_store_a_session_stays_on_its_machine(chapter, tmp_path):
    a, b = two_instances(chapter, tmp_path)
    try:
        token = envelope(log_in(a))[2]
        assert session_on(a, token)[:2] == (200, 0)
        assert session_on(b, token) == (401, 401, "没有权限"), "B has its own session folder: it never heard of it"
        assert (tmp_path / "a" / ADMIN_FILE).is_file() and not (tmp_path / "b" / ADMIN_FILE).exists()
    finally:
        a.stop(), b.stop()


def test_with_redis_two_instances_share_sessions_and_login_counters(chapter, on_redis):
    a, b = on_redis
    # log in on A, carry on on B, log out on B: A knows
    token = envelope(log_in(a))[2]
    status, code, data = session_on(b, token)
    assert (status, code, data["user"]) == (200, 0, "admin"), "B knows the session A made"
    logout = httpx.get(b.url("logout"), headers={"Cookie": "session=" + token})
    assert envelope(logout) == (200, 0, "退出成功")
    assert session_on(a, token) == (401, 401, "没有权限"), "A knows of the logout on B"
    assert not a.session_dir.exists() and not b.session_dir.exists(), "no session files: not even the folder"
    # wrong passwords, by turns on A and B: one count for both. (Counted apart, each would let 5 through,
    # 10 in all; counted together the 6th waits, and 10 checked attempts would take 15 s of waiting.)
    answers = []
    while len(answers) < 10 and (not answers or answers[-1].status_code != 429):
        answers.append(log_in((a, b)[len(answers) % 2], WRONG))
    checked = [r for r in answers if envelope(r) == (200, 400, "用户名或密码错误")]
    assert answers[-1].status_code == 429 and int(answers[-1].headers["retry-after"]) >= 1, [
        envelope(r) for r in answers]
    assert 5 <= len(checked) < 10, "the first 429 after %d checked attempts" % len(checked)


def test_with_redis_down_both_answer_503_and_recover_without_a_restart(chapter, on_redis, empty_redis):
    a, b = on_redis
    token = envelope(log_in(a))[2]
    logged = {server: len(server.output()) for server in on_redis}
    empty_redis.stop()
    try:
        assert session_on(b, token) == STORE_DOWN
        assert envelope(log_in(a)) == STORE_DOWN
    finally:
        empty_redis.start()  # on the same port, empty: it saved nothing
    for server in on_redis:
        lines = [line for line in server.output()[logged[server]:].splitlines() if "ERROR" in line]
        assert len(lines) == 1 and "failed: session store unavailable: " in lines[0], server.output()
        assert "Traceback" not in server.output()
    token = envelope(log_in(b))[2]
    assert session_on(a, token)[:2] == (200, 0), "both work again, and were never restarted"
    assert a.process.poll() is None and b.process.poll() is None


def test_a_malformed_session_store_stops_the_app_with_one_line(chapter, tmp_path):
    value = "redis:/127.0.0.1:6379/0"  # one slash short (tests/test_redis_store.py checks more)
    code, lines = stopped_at_start(chapter.path, tmp_path, {"SESSION_STORE": value})
    assert code != 0 and len(lines) == 1, lines
    assert lines[0] == ("SESSION_STORE 设置错误：%r 既不是 file，也不是 redis://主机:端口/库号 这样的地址。 / "
                        "SESSION_STORE is wrong: %r is neither file nor a Redis URL such as redis://localhost:6379/0."
                        % (value, value))
