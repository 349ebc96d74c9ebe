"""Step 24 (attempts-under-way): per account and per address, no more attempts
are checked at once than free failures are left (one once throttled); more
logins queue instead of being refused. Chapter 23 checking every parallel
guess is in test_lab_attacks.py; the same rules in Redis in test_redis_under_way.py."""
import asyncio
import threading

import pytest

from support import envelope
from test_failures_not_attempts import RIGHT, at_once, unbounded_hash_queue  # noqa: F401 (an autouse fixture)

pytestmark = pytest.mark.since("attempts-under-way")

WRONG = {"account": "admin", "password": "wrong"}


@pytest.fixture
def checks(be, monkeypatch):
    """[(under way now, most at once so far)]: a password check that takes a while, watched."""
    real, state = be.passwordMatches, {"now": 0, "most": 0}

    async def slow(password, stored):
        state["now"] += 1
        state["most"] = max(state["most"], state["now"])
        try:
            await asyncio.sleep(0.05)
            return await real(password, stored)
        finally:
            state["now"] -= 1

    monkeypatch.setattr(be, "passwordMatches", slow)
    return state


@pytest.mark.beside
@pytest.mark.slow  # (real time: each check takes 50 ms)
def test_parallel_guesses_add_up_to_no_more_than_the_free_failures(chapter, client, config, checks, clock):
    """(`clock`: the time stands still. A second ending meanwhile would rightly let a sixth guess in: the
    first wait, 1 s, would be over.)"""
    answers = [envelope(a)[:2] for a in at_once(client, [WRONG] * 16)]
    assert answers.count((200, 400)) == config.LOGIN_FREE_FAILURES
    assert answers.count((429, 429)) == 16 - config.LOGIN_FREE_FAILURES
    assert checks["most"] <= config.LOGIN_FREE_FAILURES


@pytest.mark.beside
@pytest.mark.slow  # (real time: each check takes 50 ms)
def test_right_passwords_beyond_the_limit_queue_and_all_log_in(chapter, client, config, checks, clock):
    answers = [envelope(a)[:2] for a in at_once(client, [RIGHT] * 12)]
    assert answers == [(200, 0)] * 12
    assert checks["most"] == config.LOGIN_FREE_FAILURES, "five at once, the others waited their turn"


def test_the_limit_shrinks_with_each_failure_and_is_one_once_throttled(chapter, counters, config):
    free = config.LOGIN_FREE_FAILURES
    assert [counters.allowed(n) for n in range(free + 3)] == list(range(free, 0, -1)) + [1, 1, 1]


def test_starting_is_atomic_across_threads(chapter, counters, session_dir, clock, config):
    """Twenty attempts at the same moment, each with its own file handles (as separate workers have):
    exactly the free ones start; the others are told to ask again (None)."""
    barrier, results = threading.Barrier(20), []
    paths = [str(session_dir / ("login_account_" + "c" * 32)), str(session_dir / ("login_address_" + "d" * 32))]

    def attempt():
        barrier.wait()
        results.append(counters.start(paths, clock.now))

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(0) == config.LOGIN_FREE_FAILURES and results.count(None) == 20 - config.LOGIN_FREE_FAILURES


def test_an_attempt_that_never_ended_stops_counting(chapter, client, session_dir, clock, config):
    """A worker that died in the middle leaves its attempts under way; after LOGIN_STALE seconds they no longer
    count, and the next login goes on."""
    stuck = session_dir / "login_account_21232f297a57a5a743894a0e4a801fc3"
    stuck.write_bytes(b"%010d,%010d,%04d,%010d" % (0, 0, config.LOGIN_FREE_FAILURES, clock.now))
    clock.advance(config.LOGIN_STALE + 1)
    assert envelope(client.login())[:2] == (200, 0)


@pytest.mark.beside
@pytest.mark.slow  # (real time: it queues for 0.2 s)
def test_a_login_queued_too_long_is_told_to_try_again(chapter, client, session, session_dir, clock, config,
                                                        monkeypatch):
    """All the attempts allowed under way (by a worker that died a moment ago): a login waits its turn for
    LOGIN_QUEUE seconds (shortened here), then is answered 429 with Retry-After 1, no hash."""
    monkeypatch.setattr(session.module, "LOGIN_QUEUE", 0.2)
    stuck = session_dir / "login_account_21232f297a57a5a743894a0e4a801fc3"
    stuck.write_bytes(b"%010d,%010d,%04d,%010d" % (0, 0, config.LOGIN_FREE_FAILURES, clock.now))
    res = client.login()
    assert envelope(res) == (429, 429, "登录尝试过多，请稍后再试") and res.headers["retry-after"] == "1"

