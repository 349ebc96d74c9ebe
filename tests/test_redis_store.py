"""Step 20 (redis-store): sessions in Redis. First the earlier steps' session
behaviours, run again with the sessions in a real Redis server (the `session`
and `client` fixtures below keep them there); then what only the Redis store
does: keys that expire by themselves, and a refresh and a logout that are one
atomic step each. Redis away (step 21) is in test_redis_outage.py, the login
counters in Redis (step 22) in test_shared_counters.py.

The server is the run's one redis-server (conftest.py `redis_server`), emptied
before each test; without one these tests skip, saying how to install it.
The SESSION_STORE setting itself is checked without a server, at the end.
"""
import inspect
import time

import pytest

import test_checked_logout
import test_guard
import test_hostile_input
import test_login
import test_logout
import test_secret_token
import test_session
import test_sliding_session
from support import AppClient, loaded, login_token

pytestmark = pytest.mark.since("redis-store")


# ---------------------------------------------------------------- the Redis store in the file store's place

@pytest.fixture(scope="session")
def redis_stores():
    """One RedisStore per chapter for the whole run: its connections live in the apps' event loop."""
    stores = {}
    yield stores
    for store in stores.values():
        AppClient.event_loop().run_until_complete(store.close())


@pytest.fixture
def store(chapter, empty_redis, redis_stores, monkeypatch):
    """The chapter's own Redis store, made by its makeStore as SESSION_STORE=redis://... makes it,
    in the place of the file store (core/session.py's STORE) for this test."""
    module = loaded(chapter).module("core.session")
    redis_store = loaded(chapter).module("core.redis_store")
    if hasattr(redis_store, "TIMEOUT"):  # (from redis-outage on) a test machine busy for a second is not an outage
        monkeypatch.setattr(redis_store, "TIMEOUT", 10)
    key = (chapter.path, empty_redis.url)
    if key not in redis_stores:
        redis_stores[key] = module.makeStore(empty_redis.url)
    monkeypatch.setattr(module, "STORE", redis_stores[key])
    return redis_stores[key]


@pytest.fixture
def session(session, store):
    """conftest.py's `session`, with its sessions in Redis."""
    return session


@pytest.fixture
def client(client, store):
    """conftest.py's `client`, with the app's sessions in Redis."""
    return client


@pytest.fixture
def redis_keys(empty_redis):
    """A plain client to look into the test's Redis."""
    import redis

    with redis.Redis(port=empty_redis.port, decode_responses=True) as keys:
        yield keys


def again(test):
    """`test`, written with the file store in mind, once more here, where the
    sessions are in Redis. It looks only at what the session functions and the
    app answer, never at files, so it must hold for either store."""
    def run(**fixtures):
        return test(**fixtures)

    run.__name__, run.__doc__, run.__signature__ = test.__name__, test.__doc__, inspect.signature(test)
    run.pytestmark = [mark for mark in getattr(test, "pytestmark", []) if mark.name not in ("since", "until")]
    return run


# core/session.py: makeToken, checkToken, clearToken, updataToken (steps 01-03)
test_make_token_returns_user_group_token = again(test_session.test_make_token_returns_user_group_token)
test_make_token_random_part_changes_between_calls = again(test_session.test_make_token_random_part_changes_between_calls)
test_check_token_valid_is_0 = again(test_session.test_check_token_valid_is_0)
test_check_token_no_value_or_wrong_shape_is_4 = again(test_session.test_check_token_no_value_or_wrong_shape_is_4)
test_check_token_without_session_file_is_4 = again(test_session.test_check_token_without_session_file_is_4)
test_check_token_other_group_is_4 = again(test_session.test_check_token_other_group_is_4)
test_check_token_wrong_token_is_1 = again(test_session.test_check_token_wrong_token_is_1)
test_check_token_3600_seconds_old_is_still_valid = again(test_session.test_check_token_3600_seconds_old_is_still_valid)
test_check_token_3601_seconds_old_is_expired = again(test_session.test_check_token_3601_seconds_old_is_expired)
test_check_token_compares_token_before_expiry = again(test_session.test_check_token_compares_token_before_expiry)
test_clear_token_deletes_the_session_file = again(test_session.test_clear_token_deletes_the_session_file)
test_clear_token_leaves_other_sessions = again(test_session.test_clear_token_leaves_other_sessions)
test_clear_token_wrong_shape_does_nothing = again(test_session.test_clear_token_wrong_shape_does_nothing)
test_updata_token_on_expired_session_makes_it_valid_again = again(
    test_session.test_updata_token_on_expired_session_makes_it_valid_again)
# login and logout (steps 04-05)
test_login_answers_token = again(test_login.test_login_answers_token)
test_login_sets_http_only_session_cookie = again(test_login.test_login_sets_http_only_session_cookie)
test_logout_twice_fails_the_second_time = again(test_logout.test_logout_twice_fails_the_second_time)
test_logout_as_a_browser_with_the_cookie_it_kept = again(test_logout.test_logout_as_a_browser_with_the_cookie_it_kept)
# steps 06-09: tokens, hostile values, a logout that deletes only the session it checked
test_token_comes_from_secrets = again(test_secret_token.test_token_comes_from_secrets)
test_tokens_are_compared_in_constant_time = again(test_secret_token.test_tokens_are_compared_in_constant_time)
test_hostile_values_touch_no_file = again(test_hostile_input.test_hostile_values_touch_no_file)
test_clear_token_keeps_a_newer_session = again(test_checked_logout.test_clear_token_keeps_a_newer_session)
# steps 17-18: the guard, "who am I", the sliding session
test_who_am_i_without_a_session_is_401_no_permission = again(
    test_guard.test_who_am_i_without_a_session_is_401_no_permission)
test_who_am_i_names_the_user_group_and_when_the_session_ends = again(
    test_guard.test_who_am_i_names_the_user_group_and_when_the_session_ends)
test_wrong_or_logged_out_token_is_401 = again(test_guard.test_wrong_or_logged_out_token_is_401)
test_the_browser_sends_the_cookie_by_itself = again(test_guard.test_the_browser_sends_the_cookie_by_itself)
test_idle_user_is_out_after_the_lifetime = again(test_guard.test_idle_user_is_out_after_the_lifetime)
test_login_and_logout_are_not_guarded = again(test_guard.test_login_and_logout_are_not_guarded)
test_active_user_stays_logged_in_for_hours = again(test_sliding_session.test_active_user_stays_logged_in_for_hours)


# ---------------------------------------------------------------- what only the Redis store does

ADMIN_KEY = "session:manage:admin"


def test_the_session_key_and_value_are_the_readmes(chapter, client, clock, config, redis_keys, session_dir):
    """session:<group>:<user> holds "token,time", as the session file did, and
    lives a second longer than the session."""
    token = login_token(client)
    assert [k for k in redis_keys.keys("*") if k != "device:secret"] == [ADMIN_KEY]  # (device cookies' key: 26 on)
    assert redis_keys.get(ADMIN_KEY) == "%s,%d" % (token.split("|")[2], clock.now)
    assert config.SESSION_TTL - 10 < redis_keys.ttl(ADMIN_KEY) <= config.SESSION_TTL + 1
    assert list(session_dir.iterdir()) == [], "no session file"


@pytest.mark.slow
def test_a_session_key_expires_by_itself(chapter, session, config, redis_keys):
    """No sweep: the key's time to live, SESSION_TTL + 1 s, ends it. (Redis then deletes it by itself: here
    its last millisecond is let run out at once, instead of waiting an hour.)"""
    token = session.makeToken("admin", "manage")
    assert (config.SESSION_TTL + 1) * 1000 - 1000 < redis_keys.pttl(ADMIN_KEY) <= (config.SESSION_TTL + 1) * 1000
    redis_keys.pexpire(ADMIN_KEY, 1)
    deadline = time.monotonic() + 10
    while redis_keys.exists(ADMIN_KEY) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert not redis_keys.exists(ADMIN_KEY), "Redis did not delete the key when its time to live was over"
    assert session.checkToken(token) == 4


def test_refresh_sets_the_time_and_the_time_to_live_again(chapter, session, clock, config, redis_keys):
    token = session.makeToken("admin", "manage")
    redis_keys.expire(ADMIN_KEY, 100)  # most of its time to live has gone by
    clock.advance(3000)
    assert session.updataToken(token) is True
    assert redis_keys.get(ADMIN_KEY) == "%s,%d" % (token.split("|")[2], clock.now)
    assert redis_keys.ttl(ADMIN_KEY) > config.SESSION_TTL - 10


def test_refresh_never_brings_a_logged_out_or_replaced_session_back(chapter, session, clock, redis_keys):
    """The file store's known limit, closed: a refresh is one step in Redis that
    changes the key only while it still holds the same token."""
    token = session.makeToken("admin", "manage")
    assert session.clearToken(token) is True
    assert session.updataToken(token) is False
    assert session.checkToken(token) == 4 and redis_keys.keys("*") == []
    newer = session.makeToken("admin", "manage")
    assert session.updataToken(token) is False
    assert redis_keys.get(ADMIN_KEY).split(",")[0] == newer.split("|")[2], "the newer login's session stays"


def test_a_guarded_request_and_a_logout_at_the_same_moment(chapter, session, store, clock, config, monkeypatch):
    """A guarded request has read a session that is due for a refresh; another
    machine's logout deletes it right then. The refresh finds it gone: the
    request is refused, and the session stays logged out."""
    token = session.makeToken("admin", "manage")
    clock.advance(config.SESSION_REFRESH)
    read = store.read

    async def read_then_another_machine_logs_out(parsed):
        saved = await read(parsed)
        assert await store.removeIf(parsed) is True
        return saved

    monkeypatch.setattr(store, "read", read_then_another_machine_logs_out)
    assert session.openSession(token) is None
    monkeypatch.undo()
    assert session.checkToken(token) == 4
