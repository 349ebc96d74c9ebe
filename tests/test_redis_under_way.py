"""Step 25 (redis-under-way): with Redis, attempts under way are counted and
limited by the file store's rules, across every machine on that Redis.
Chapter 24's Redis store checking every parallel guess is in test_lab_attacks.py."""
import asyncio

import pytest

from support import envelope, run_now
from test_attempts_under_way import WRONG, checks  # noqa: F401 (a fixture the tests below use)
from test_failures_not_attempts import RIGHT, at_once, unbounded_hash_queue  # noqa: F401 (an autouse fixture)
from test_redis_store import redis_keys, redis_stores, store, client, session  # noqa: F401 (the Redis fixtures)
from tutorial.chapters import step

pytestmark = pytest.mark.since("redis-under-way")


def test_parallel_guesses_add_up_to_no_more_than_the_free_failures(chapter, client, config, checks, clock):
    """(`clock`: the time stands still. A second ending meanwhile would rightly let a sixth guess in: the
    first wait, 1 s, would be over.)"""
    answers = [envelope(a)[:2] for a in at_once(client, [WRONG] * 16)]
    assert answers.count((200, 400)) == config.LOGIN_FREE_FAILURES
    assert answers.count((429, 429)) == 16 - config.LOGIN_FREE_FAILURES
    assert checks["most"] <= config.LOGIN_FREE_FAILURES


def test_right_passwords_beyond_the_limit_queue_and_all_log_in(chapter, client, config, checks, clock):
    answers = [envelope(a)[:2] for a in at_once(client, [RIGHT] * 12)]
    assert answers == [(200, 0)] * 12
    assert checks["most"] == config.LOGIN_FREE_FAILURES


def test_starting_is_atomic_across_connections(chapter, session, store, clock, config):
    """Twenty attempts at the same moment, from twenty addresses, over as many connections to Redis (as many
    machines would): exactly the free ones start; the others are told to ask again (None)."""
    names = [session.module._loginNames("admin", "198.51.100.%d" % n) for n in range(20)]

    async def at_the_same_moment():
        if chapter.number < step("device-cookies"):
            return await asyncio.gather(*(store.holdLogin(*pair, clock.now) for pair in names))
        return await asyncio.gather(*(store.holdLogin(list(pair), clock.now) for pair in names))

    results = run_now(at_the_same_moment())
    assert results.count(0) == config.LOGIN_FREE_FAILURES and results.count(None) == 20 - config.LOGIN_FREE_FAILURES
