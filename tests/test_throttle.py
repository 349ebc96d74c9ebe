"""Step 12 (throttle): failed logins are counted per account and per client
address; after the free ones each attempt must wait, and is answered 429
meanwhile, without the hash. Guessing against chapter 11 is in test_lab.py."""
import os

import pytest

from support import AppClient, envelope, files_in
from test_login import assert_cookie_deleted
from tutorial.chapters import step

pytestmark = pytest.mark.since("throttle")

ADMIN_FILE = "manage_21232f297a57a5a743894a0e4a801fc3"
THROTTLED = (429, 429, "登录尝试过多，请稍后再试")


def from_address(client, ip):
    """The same in-process client, seen by the app as coming from `ip`."""
    import httpx

    other = AppClient(client.app)
    other._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=client.app, client=(ip, 40000)),
                                      base_url="http://127.0.0.1:8000")
    return other


@pytest.fixture
def hashes(chapter, be, monkeypatch):
    """How many times the login handler has checked a password so far."""
    calls = []
    real_check = be.checkPassword
    monkeypatch.setattr(be, "checkPassword", lambda p, s: calls.append(p) or real_check(p, s))
    return calls


def test_throttled_login_is_answered_at_once_without_the_hash(chapter, client, clock, config, hashes):
    for _ in range(config.LOGIN_FREE_FAILURES):
        assert envelope(client.login("admin", "wrong")) == (200, 400, "用户名或密码错误")
    assert len(hashes) == config.LOGIN_FREE_FAILURES
    res = client.login("admin", "wrong")
    assert envelope(res) == THROTTLED
    assert res.headers["retry-after"] == "1"
    assert len(hashes) == config.LOGIN_FREE_FAILURES, "a throttled attempt runs no hash"
    assert_cookie_deleted(res)


def test_right_password_is_refused_during_the_wait_and_works_after_it(chapter, client, clock, config, hashes):
    for _ in range(config.LOGIN_FREE_FAILURES + 3):
        client.login("admin", "wrong")
        clock.advance(1)
    res = client.login()
    assert envelope(res) == THROTTLED
    wait = int(res.headers["retry-after"])
    clock.advance(wait - 1)
    assert envelope(client.login()) == THROTTLED
    clock.advance(1)
    status, code, token = envelope(client.login())
    assert (status, code) == (200, 0) and token.startswith("admin|manage|")
    assert envelope(client.login("admin", "wrong"))[1] == 400, "a right password starts the count again"


def test_waits_double_up_to_the_maximum(chapter, counters, config):
    free, top = config.LOGIN_FREE_FAILURES, config.LOGIN_MAX_WAIT
    waits = [counters.loginWait(n) for n in range(free + 9)]
    assert waits == [0] * free + [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert top == 60 and config.LOGIN_FORGET == 900


def test_failures_are_counted_per_account_whatever_the_address(chapter, client, clock, config):
    for n in range(config.LOGIN_FREE_FAILURES):
        assert envelope(from_address(client, "198.51.100.%d" % n).login("admin", "wrong"))[1] == 400
    assert envelope(from_address(client, "198.51.100.99").login()) == THROTTLED
    assert envelope(from_address(client, "198.51.100.99").login("editor", "x"))[1] == 400, "other accounts go on"


def test_failures_are_counted_per_address_whatever_the_account(chapter, client, clock, config):
    attacker = from_address(client, "203.0.113.7")
    for n in range(config.LOGIN_FREE_FAILURES):
        assert envelope(attacker.login("user%d" % n, "wrong"))[1] == 400
    assert envelope(attacker.login("someone-else", "wrong")) == THROTTLED
    assert envelope(attacker.login()) == THROTTLED
    assert envelope(from_address(client, "203.0.113.8").login())[1] == 0, "other addresses go on"


def test_counts_are_forgotten_after_a_quiet_while(chapter, client, clock, config):
    for _ in range(config.LOGIN_FREE_FAILURES):
        client.login("admin", "wrong")
    assert envelope(client.login("admin", "wrong")) == THROTTLED
    clock.advance(config.LOGIN_FORGET + 1)
    for _ in range(config.LOGIN_FREE_FAILURES):
        assert envelope(client.login("admin", "wrong"))[1] == 400


def test_counters_are_files_shared_through_the_session_folder(chapter, client, session_dir, clock):
    client.login("admin", "wrong")
    names = sorted(files_in(session_dir))
    assert [n[:14] for n in names] == ["login_account_", "login_address_"]
    assert names[0] == "login_account_21232f297a57a5a743894a0e4a801fc3"
    assert (session_dir / names[0]).read_text() == (
        "%010d,%010d" % (1, clock.now) if chapter.number < step("attempts-under-way")
        else "%010d,%010d,%04d,%010d" % (1, clock.now, 0, clock.now))  # (failures, last failure, under way, started)
    if os.name != "nt":
        assert all((session_dir / n).stat().st_mode & 0o777 == 0o600 for n in names)
    assert envelope(client.login())[1] == 0
    left = [name for name in files_in(session_dir) if name != "device_secret"]  # (device cookies' key, step 26 on)
    assert left == [ADMIN_FILE], "a right password deletes both counters"


@pytest.mark.until("shared-counters")  # (then nothing is recorded before the end: test_failures_not_attempts.py)
def test_an_address_that_must_wait_gives_the_accounts_attempt_back(chapter, client, session_dir, clock, config):
    """An attempt throttled for its address is not counted against the account: it never took place."""
    attacker = from_address(client, "203.0.113.7")
    for n in range(config.LOGIN_FREE_FAILURES):
        attacker.login("user%d" % n, "wrong")
    assert envelope(attacker.login("admin", "wrong")) == THROTTLED
    account = session_dir / "login_account_21232f297a57a5a743894a0e4a801fc3"
    assert account.read_text() == "%010d,%010d" % (0, clock.now)
