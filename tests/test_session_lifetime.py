"""Step 31 (session-lifetime): a session lasts SESSION_MAX_AGE seconds (12 hours by default) from its
login, however busy. The token's first 8 hex digits are the login's time, the other 24 are random, and
a refresh keeps the token, so the session's age travels with it. Time is the `clock` fixture's: a day
of requests every 50 minutes passes in no time at all. Chapters 18-30 keeping a busy token for ever:
the first test below (and the lab, notebooks/04-security-lab.ipynb, section 21)."""
import re
import time
from types import SimpleNamespace

import pytest

from support import SyncView, each_case, envelope, expect_answer, login_token
from test_guard import NO_PERMISSION, who_am_i
from test_redis_store import redis_stores, store  # noqa: F401 (fixtures: the Redis store in the file store's place)

pytestmark = pytest.mark.since("session-lifetime")

FIFTY_MINUTES = 50 * 60
ADMIN_FILE = "manage_21232f297a57a5a743894a0e4a801fc3"


def born(token: str) -> int:
    """The login time a token carries: its first 8 hex digits (the step-31 shape)."""
    return int(token.split("|")[-1][:8], 16)


def token_born_at(t: int) -> str:
    return "%08x" % t + "0123456789abcdef01234567"


def stay_busy(client, clock, config, token, login, until):
    """A request every 50 minutes until `until`: each one answered 200, its `expires` the sooner of
    the idle end (the refresh just now + SESSION_TTL) and the end of life (login + SESSION_MAX_AGE)."""
    data = None
    while clock.now + FIFTY_MINUTES <= until:
        clock.advance(FIFTY_MINUTES)
        status, code, data = envelope(who_am_i(client, token))
        minutes = (clock.now - login) // 60
        assert (status, code) == (200, 0), "logged out %d minutes after login, though busy" % minutes
        assert data["expires"] == min(clock.now + config.SESSION_TTL, login + config.SESSION_MAX_AGE), (
            "expires: the sooner of the idle end and the login + SESSION_MAX_AGE")
    return data


# ---------------------------------------------------------------- before: a busy token lives for ever

@pytest.mark.since("sliding-session")
@pytest.mark.until("browser-headers")
def test_before_a_token_used_every_50_minutes_is_valid_for_ever(chapter, client, session, clock, config):
    """The sliding session alone: every request moves the end an hour on, so a stolen token that is
    used now and then never expires."""
    token = login_token(client)
    login = clock.now
    for _ in range(30):  # 25 hours
        clock.advance(FIFTY_MINUTES)
        status, code, data = envelope(who_am_i(client, token))
        assert (status, code) == (200, 0), "logged out %d minutes after login" % ((clock.now - login) // 60)
        assert data["expires"] == clock.now + config.SESSION_TTL
    assert clock.now - login == 25 * 3600
    assert session.checkToken(token) == 0, "25 hours after its login, the token is still valid"
    expect_answer(client.get("logout", cookie=token), (200, 0, "退出成功"))


# ---------------------------------------------------------------- after: 12 hours at most

def test_a_busy_session_ends_12_hours_after_its_login(chapter, client, session, clock, config):
    assert config.SESSION_MAX_AGE == 12 * 3600, "the default lifetime is 12 hours"
    token = login_token(client)
    login = clock.now
    data = stay_busy(client, clock, config, token, login, login + config.SESSION_MAX_AGE)
    assert clock.now == login + 14 * FIFTY_MINUTES  # 11 h 40 min: the end of life is nearer than the idle end
    assert data["expires"] == login + config.SESSION_MAX_AGE < clock.now + config.SESSION_TTL
    clock.now = login + config.SESSION_MAX_AGE
    status, code, data = envelope(who_am_i(client, token))
    assert (status, code) == (200, 0), "exactly SESSION_MAX_AGE after the login is still valid"
    assert data["expires"] == clock.now, "refreshed now, and ending now"
    clock.advance(1)
    assert session.checkToken(token) == 2, "refreshed a second ago, but logged in over 12 hours ago: expired"
    expect_answer(who_am_i(client, token), NO_PERMISSION, "12 hours and a second after the login, however busy")
    expect_answer(client.get("logout", cookie=token), (401, 401, "退出失败"), "an expired session cannot log out")


def test_the_token_is_the_login_time_and_96_random_bits(chapter, session, clock, monkeypatch):
    calls = []

    def token_hex(n):
        calls.append(n)
        return "f" * (2 * n)

    with monkeypatch.context() as patched:
        patched.setattr(session.secrets, "token_hex", token_hex)
        assert session.makeToken("admin", "manage") == "admin|manage|%08x" % clock.now + "f" * 24
    assert calls == [12], "the random part: secrets.token_hex(12), 96 bits"
    first, second = (session.makeToken("admin", "manage").split("|")[2] for _ in range(2))
    for token in (first, second):
        assert re.fullmatch(r"[0-9a-f]{32}", token), token
        assert token[:8] == "%08x" % clock.now, "the first 8 hex digits are the login's Unix time"
    assert first[8:] != second[8:], "the other 24 are random"


def test_a_refresh_keeps_the_token_and_so_its_birth(chapter, client, session, session_dir, clock, config):
    token = login_token(client)
    login = clock.now
    clock.advance(FIFTY_MINUTES)
    assert envelope(who_am_i(client, token))[:2] == (200, 0)
    assert (session_dir / ADMIN_FILE).read_text() == "%s,%d" % (token.split("|")[2], clock.now), (
        "the refresh writes the same token with the time now")
    clock.advance(FIFTY_MINUTES)
    assert session.updataToken(token) is True
    assert (session_dir / ADMIN_FILE).read_text() == "%s,%d" % (token.split("|")[2], clock.now)
    assert born(token) == login


def test_a_new_login_starts_a_new_lifetime(chapter, client, session, clock, config):
    first = login_token(client)
    clock.advance(5 * 3600)
    second = login_token(client)
    assert born(second) == clock.now == born(first) + 5 * 3600
    assert session.checkToken(first) == 1, "(the same account: the new login replaced the first one's session)"
    stay_busy(client, clock, config, second, born(second), born(second) + config.SESSION_MAX_AGE)
    assert clock.now > born(first) + config.SESSION_MAX_AGE, "past the first login's end of life"
    assert session.checkToken(second) == 0, "the second login counts from its own time"
    clock.now = born(second) + config.SESSION_MAX_AGE
    assert envelope(who_am_i(client, second))[:2] == (200, 0)
    clock.advance(1)
    expect_answer(who_am_i(client, second), NO_PERMISSION, "12 hours and a second after the second login")


def test_a_token_whose_first_digits_are_not_a_recent_time_is_not_valid(chapter, client, session, clock, config):
    """Each written just now (so never idle): only its birth decides. Tokens made before this step
    (32 random digits) start with anything, almost never the last 12 hours: those sessions end at once."""
    def check(label, t, code):
        token = session.makeToken("admin", "manage", token_born_at(t))
        assert session.checkToken(token) == code
        assert envelope(who_am_i(client, token))[:2] == ((200, 0) if code == 0 else NO_PERMISSION[:2])

    now, most = clock.now, config.SESSION_MAX_AGE
    each_case([("logged in just now", now, 0),
               ("logged in exactly SESSION_MAX_AGE ago", now - most, 0),
               ("logged in a second too long ago", now - most - 1, 2),
               ("a minute in the future", now + 60, 2),
               ("a token from before this step: 1970", 0x01234567, 2),
               ("a token from before this step: 2106", 0xfedcba98, 2)], check, "label, t, code")


def test_the_lifetime_comes_from_the_environment(chapter, config, session_dir, monkeypatch):
    """SESSION_MAX_AGE=600 in the environment: a chapter's core/session.py imported with it (as a
    server started with it imports it) ends sessions 10 minutes after their login."""
    from tutorial.lab_inside import load_module

    module = load_module(chapter.path, session_dir, env={"SESSION_MAX_AGE": "600"})
    now = [int(time.time())]
    monkeypatch.setattr(module, "time", SimpleNamespace(time=lambda: float(now[0]), sleep=time.sleep))
    sessions = SyncView(module)
    token = sessions.makeToken("admin", "manage")
    now[0] += 600
    assert sessions.checkToken(token) == 0
    assert sessions.updataToken(token) is True
    now[0] += 1
    assert sessions.checkToken(token) == 2, "refreshed a second ago, but logged in 601 s ago with SESSION_MAX_AGE=600"
    assert config.SESSION_MAX_AGE == 12 * 3600, "(the chapter as the tests load it: the default)"


def test_with_redis_too_a_busy_session_ends_12_hours_after_its_login(chapter, session, store, clock, config):
    token = session.makeToken("admin", "manage")
    login = clock.now
    while clock.now + FIFTY_MINUTES <= login + config.SESSION_MAX_AGE:
        clock.advance(FIFTY_MINUTES)
        opened = session.openSession(token)
        assert opened is not None, "logged out %d minutes after login, though busy" % ((clock.now - login) // 60)
        assert opened["expires"] == min(clock.now + config.SESSION_TTL, login + config.SESSION_MAX_AGE)
    clock.now = login + config.SESSION_MAX_AGE
    assert session.openSession(token)["expires"] == clock.now
    clock.advance(1)
    assert session.checkToken(token) == 2
    assert session.openSession(token) is None
