"""Step 22 (shared-counters): with Redis, the login counters live there too, so
every machine throttles the same guesses. What chapter 21 does instead is at the end."""
import asyncio
import hashlib

import pytest

import test_throttle
from support import envelope, login_token, run_now
from tutorial.chapters import step
from test_redis_store import again, redis_keys, redis_stores, store, client, session  # noqa: F401 (the Redis fixtures)
from test_throttle import hashes  # noqa: F401 (a fixture the tests below use)

pytestmark = pytest.mark.since("shared-counters")

ADMIN_KEY = "session:manage:admin"

# step 12: throttled logins, counted in Redis now
test_throttled_login_is_answered_at_once_without_the_hash = again(
    test_throttle.test_throttled_login_is_answered_at_once_without_the_hash)
test_right_password_is_refused_during_the_wait_and_works_after_it = again(
    test_throttle.test_right_password_is_refused_during_the_wait_and_works_after_it)
test_failures_are_counted_per_account_whatever_the_address = again(
    test_throttle.test_failures_are_counted_per_account_whatever_the_address)
test_failures_are_counted_per_address_whatever_the_account = again(
    test_throttle.test_failures_are_counted_per_address_whatever_the_account)
test_counts_are_forgotten_after_a_quiet_while = again(test_throttle.test_counts_are_forgotten_after_a_quiet_while)


def test_the_counter_keys_and_values_are_the_readmes(chapter, client, clock, config, redis_keys, session_dir):
    """login:account:<MD5> and login:address:<MD5> hold "failures,time" for
    LOGIN_FORGET seconds and one more; nothing goes to the session folder."""
    login_token(client)
    client.login("admin", "wrong")
    counters = sorted(k for k in redis_keys.keys("*") if k not in (ADMIN_KEY, "device:secret"))
    assert counters == sorted(["login:account:" + hashlib.md5(b"admin").hexdigest(),
                               "login:address:" + hashlib.md5(b"127.0.0.1").hexdigest()])
    value = ("1,%d" % clock.now if chapter.number < step("redis-under-way")
             else "1,%d,0,%d" % (clock.now, clock.now))  # (failures, last failure, under way, last started)
    for key in counters:
        assert redis_keys.get(key) == value
        assert config.LOGIN_FORGET - 10 < redis_keys.ttl(key) <= config.LOGIN_FORGET + 1
    assert envelope(client.login())[:2] == (200, 0)
    left = [k for k in redis_keys.keys("*") if k != "device:secret"]  # (the device cookies' key, step 26 on)
    assert left == [ADMIN_KEY], "a right password deletes both counters"
    assert list(session_dir.iterdir()) == [], "nothing in the session folder"


@pytest.mark.until("shared-counters")  # (then only failures are counted, at the end: test_redis_under_way.py)
def test_login_counters_are_counted_atomically(chapter, session, clock, config):
    """Twenty attempts for one account at the same moment, from twenty addresses,
    over as many connections to Redis (as many machines would): exactly the free ones go on."""
    async def at_once():
        return await asyncio.gather(*(session.module.holdLogin("admin", "198.51.100.%d" % n) for n in range(20)))

    waits = run_now(at_once())
    assert sorted(waits) == [0] * config.LOGIN_FREE_FAILURES + [1] * (20 - config.LOGIN_FREE_FAILURES)


@pytest.mark.since("redis-store")
@pytest.mark.until("redis-outage")
def test_before_this_step_sessions_are_in_redis_but_counters_in_the_folder(chapter, client, redis_keys, session_dir):
    """What 22's README says of 20 and 21: a wrong password writes its counters into this
    machine's session folder, so two machines count apart, while the session itself is in Redis."""
    client.login("admin", "wrong")
    assert sorted(p.name[:14] for p in session_dir.iterdir()) == ["login_account_", "login_address_"]
    assert redis_keys.keys("login:*") == []
    login_token(client)
    assert redis_keys.keys("*") == [ADMIN_KEY]

