"""Step 33 (redis-limits): the Redis store at its limits.

- More requests waiting for Redis at once than the store has connections: a request waits for one to come free
  (POOL = 50 per worker, BlockingConnectionPool; the wait is bounded by the store's TIMEOUT) instead of failing
  at once while Redis is well. Here the pool is made small and its connections are held busy by BLPOPs that
  block on an empty list, through the store's own client: no crowd of clients needed.
- Redis out of memory (maxmemory reached, noeviction): a 503 in the envelope and one log line, not a 500 and a
  traceback; it works again as soon as memory is freed, no restart.
- A malformed SESSION_STORE holding a password: the start-up error shows *** in its place.

What chapters 20-32 do instead is at the end of each part. The run's Redis is shared by every test: the ones
here put back what they change in it (maxmemory) and delete what they write.
"""
import asyncio
import time
from contextlib import contextmanager

import pytest

from conftest import assert_from
from support import AppClient, each_case, envelope, loaded, login_token, set_cookies, stopped_at_start
from test_redis_store import redis_keys  # noqa: F401 (a plain client to look into the test's Redis)

pytestmark = pytest.mark.since("redis-limits")

STORE_DOWN = (503, 503, "会话服务暂时不可用")
SERVER_ERROR = (500, 500, "服务器错误")
HOLD = "test:hold"  # the empty list the BLPOPs holding the pool's connections wait on


@pytest.fixture
def make_store(chapter, empty_redis, monkeypatch):
    """make_store() builds the chapter's own Redis store, as SESSION_STORE=redis://... builds it (after the test
    has set POOL or TIMEOUT), puts it in the file store's place (core/session.py's STORE) and closes it after
    the test: a store of its own, whose pool starts empty."""
    redis_store = assert_from(loaded(chapter).module("core.redis_store"), chapter)
    session = loaded(chapter).module("core.session")
    made = []

    def make():
        store = session.makeStore(empty_redis.url)
        assert isinstance(store, redis_store.RedisStore)
        monkeypatch.setattr(session, "STORE", store)
        made.append(store)
        return store

    if hasattr(redis_store, "TIMEOUT"):  # (from redis-outage on) a test machine busy for a second is not an outage
        monkeypatch.setattr(redis_store, "TIMEOUT", 10)
    yield make
    for store in made:
        AppClient.event_loop().run_until_complete(store.close())


# ---------------------------------------------------------------- more requests than connections

def hold_every_connection(store, redis_keys):
    """Every connection of the store's pool busy with a BLPOP on the empty list HOLD, sent through the store's
    own client; each gives its connection back when an item is pushed onto the list. Returns the BLPOPs."""
    loop, pool = AppClient.event_loop(), store.redis.connection_pool
    holding = [loop.create_task(store.redis.blpop([HOLD], timeout=0)) for _ in range(pool.max_connections)]
    deadline = time.monotonic() + 10
    while redis_keys.info("clients")["blocked_clients"] < len(holding):  # each has its connection, and waits
        assert time.monotonic() < deadline and not any(task.done() for task in holding), "the BLPOPs never blocked"
        loop.run_until_complete(asyncio.sleep(0.002))
    assert not pool.can_get_connection(), "every connection is in use"
    return holding


def let_go(holding, redis_keys):
    """Answer every BLPOP still waiting (one item each), wait for them, and delete the list."""
    left = sum(not task.done() for task in holding)
    if left:
        redis_keys.rpush(HOLD, *range(left))
    AppClient.event_loop().run_until_complete(asyncio.gather(*holding))
    redis_keys.delete(HOLD)


def one_comes_free_when_a_request_asks(pool, redis_keys, monkeypatch):
    """From now on, when a request asks the full pool for a connection, one BLPOP is answered at that moment:
    a connection is about to come free (as one does, a moment later, when a crowd of requests shares a pool).
    Returns, for each time a connection was asked for, whether the pool was full then."""
    asked = []
    get_connection = pool.get_connection

    async def asking(*args, **kwargs):
        asked.append(not pool.can_get_connection())
        if asked[-1]:
            redis_keys.rpush(HOLD, "one comes free")
        return await get_connection(*args, **kwargs)

    monkeypatch.setattr(pool, "get_connection", asking)
    return asked


def test_a_request_waits_for_a_connection_when_all_are_in_use(chapter, client, make_store, redis_keys, monkeypatch):
    """POOL = 50 connections per worker, in a BlockingConnectionPool; here 2, to keep it cheap. With both busy,
    a request waits until one comes free, then is answered as usual."""
    from redis.asyncio import BlockingConnectionPool

    redis_store = loaded(chapter).module("core.redis_store")
    assert redis_store.POOL == 50
    monkeypatch.setattr(redis_store, "POOL", 2)
    store = make_store()
    pool = store.redis.connection_pool
    assert isinstance(pool, BlockingConnectionPool) and pool.max_connections == 2
    assert pool.timeout == redis_store.TIMEOUT, "a request waits for a connection as long as for Redis, no longer"
    token = login_token(client)
    holding = hold_every_connection(store, redis_keys)
    try:
        asked = one_comes_free_when_a_request_asks(pool, redis_keys, monkeypatch)
        res = client.get("session", cookie=token)
    finally:
        let_go(holding, redis_keys)
    assert asked[0] is True, "the request found every connection in use"
    assert envelope(res)[:2] == (200, 0) and envelope(res)[2]["user"] == "admin", envelope(res)


@pytest.mark.slow
def test_the_wait_for_a_connection_ends_with_the_timeout(chapter, client, make_store, redis_keys, monkeypatch,
                                                         caplog):
    """No connection comes free: the request waits the store's TIMEOUT (1 s; 0.2 s here), no longer, then is
    the outage's 503 with one log line."""
    redis_store = loaded(chapter).module("core.redis_store")
    monkeypatch.setattr(redis_store, "POOL", 2)
    make_store()
    token = login_token(client)
    monkeypatch.setattr(redis_store, "TIMEOUT", 0.2)
    store = make_store()  # (the session is in Redis: this store, whose pool waits 0.2 s, sees it too)
    assert store.redis.connection_pool.timeout == 0.2
    holding = hold_every_connection(store, redis_keys)
    try:
        caplog.clear()
        started = time.monotonic()
        res = client.get("session", cookie=token)
        waited = time.monotonic() - started
    finally:
        let_go(holding, redis_keys)
    assert envelope(res) == STORE_DOWN and 0.2 <= waited < 5, (envelope(res), waited)
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and not errors[0].exc_info, [r.getMessage() for r in errors]
    assert errors[0].getMessage().startswith("GET /api/v1/be/session failed: session store unavailable: ")
    assert envelope(client.get("session", cookie=token))[:2] == (200, 0), "fine again once connections are free"


@pytest.mark.since("redis-store")
@pytest.mark.until("logout-wins")
def test_before_the_fix_one_request_more_than_the_pool_fails_at_once(chapter, client, make_store, redis_keys,
                                                                     monkeypatch, caplog):
    """What 33's README says of 20-32: redis-py's own pool (ConnectionPool, at most 100 connections, the default:
    the chapters set none) does not wait. Its 100 connections busy, the 101st request fails at once, though a
    connection comes free the next moment and Redis is well: the outage's 503 (from 21 on; 20: a 500)."""
    from redis.asyncio import BlockingConnectionPool

    redis_store = loaded(chapter).module("core.redis_store")
    assert not hasattr(redis_store, "POOL")
    store = make_store()
    pool = store.redis.connection_pool
    assert not isinstance(pool, BlockingConnectionPool) and pool.max_connections == 100
    token = login_token(client)
    holding = hold_every_connection(store, redis_keys)
    try:
        asked = one_comes_free_when_a_request_asks(pool, redis_keys, monkeypatch)
        caplog.clear()
        res = client.get("session", cookie=token)
    finally:
        let_go(holding, redis_keys)
    assert asked[0] is True, "the request found every connection in use"
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    if hasattr(redis_store, "StoreUnavailable"):
        assert envelope(res) == STORE_DOWN
        assert errors == ["GET /api/v1/be/session failed: session store unavailable: Too many connections"]
    else:
        assert envelope(res) == SERVER_ERROR
        assert len(errors) == 1 and "MaxConnectionsError: Too many connections" in errors[0], errors


# ---------------------------------------------------------------- Redis out of memory

@contextmanager
def full_redis(redis_keys):
    """Redis full, evicting nothing (noeviction): 1 MB written, then its maxmemory set half a megabyte below what
    it uses now; every write is refused with OOM. (The margins are wide: what Redis counts as used also moves
    with its clients' buffers.) Yields free(), which deletes the megabyte. After: the run's Redis as it was
    (its maxmemory and policy), the megabyte deleted."""
    import redis

    settings = redis_keys.config_get("maxmemory-policy")
    settings.update(redis_keys.config_get("maxmemory"))
    filling = ["test:fill:%d" % n for n in range(10)]
    free = lambda: redis_keys.delete(*filling)  # noqa: E731
    try:
        before = redis_keys.info("memory")["used_memory"]
        for key in filling:
            redis_keys.set(key, "x" * 100_000)
        redis_keys.config_set("maxmemory-policy", "noeviction")
        redis_keys.config_set("maxmemory", before + 500_000)
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            redis_keys.set("test:one-more", "x")
        yield free
    finally:
        free()
        redis_keys.config_set("maxmemory", settings["maxmemory"])
        redis_keys.config_set("maxmemory-policy", settings["maxmemory-policy"])


def test_a_full_redis_is_a_503_with_one_log_line_until_memory_is_freed(chapter, client, make_store, redis_keys,
                                                                        caplog):
    make_store()
    with full_redis(redis_keys) as free:
        for _ in range(2):
            caplog.clear()
            res = client.login()
            assert envelope(res) == STORE_DOWN
            assert set_cookies(res) == [], "the answer touches no cookie"
            errors = [r for r in caplog.records if r.levelname == "ERROR"]
            assert len(errors) == 1 and not errors[0].exc_info, [r.getMessage() for r in errors]
            assert errors[0].getMessage().startswith(
                "POST /api/v1/be/login failed: session store full: command not allowed when used memory > 'maxmemory'")
        free()
        token = login_token(client)  # memory freed: logins work again, without a restart
    assert envelope(client.get("session", cookie=token))[:2] == (200, 0)


@pytest.mark.since("redis-outage")
@pytest.mark.until("logout-wins")
def test_before_the_fix_a_full_redis_is_a_500_with_a_traceback(chapter, client, make_store, redis_keys, caplog):
    """What 33's README says of 21-32: redis-py's OutOfMemoryError is not one of the errors the store turns into
    StoreUnavailable: the envelope's 500, and the whole traceback in the log, for every login."""
    make_store()
    with full_redis(redis_keys):
        for _ in range(2):
            caplog.clear()
            assert envelope(client.login()) == SERVER_ERROR
            errors = [r for r in caplog.records if r.levelname == "ERROR"]
            assert len(errors) == 1 and errors[0].exc_info, "one line, with the traceback"
            assert errors[0].exc_info[0].__name__ == "OutOfMemoryError"


# ---------------------------------------------------------------- the password in a mistyped SESSION_STORE

def stopped_with(chapter, value) -> str:
    with pytest.raises(SystemExit) as stopped:
        loaded(chapter).module("config").checkedStore(value)
    message = str(stopped.value.code)
    assert message.startswith("SESSION_STORE 设置错误：") and " / SESSION_STORE is wrong: " in message
    return message


MASKED = [  # (a mistyped SESSION_STORE, the secret in it, what the error shows instead)
    ("redis://:s3cret@localhost:6379/zero", "s3cret", "redis://:***@localhost:6379/zero"),
    ("redis:/:s3cret@localhost:6379/0", "s3cret", "redis:/:***@localhost:6379/0"),  # one slash short
    ("redis://:pa/ss@localhost:6379/zero", "pa/ss", "redis://:***@localhost:6379/zero"),  # a / in the password
    ("rediss://app:p@ss@word@cache.example:port/0", "p@ss@word", "rediss://app:***@cache.example:port/0"),
    ("redis://localhost:6379/zero?password=s3cret", "s3cret", "redis://localhost:6379/zero?password=***"),
    ("redis://localhost/1/?db=2&password=s3cret&ssl=no", "s3cret", "redis://localhost/1/?db=2&password=***&ssl=no"),
]


def test_a_mistyped_setting_is_shown_without_its_password(chapter):
    def check(value, secret, shown):
        message = stopped_with(chapter, value)
        assert secret not in message and message.count(repr(shown)) == 2, message

    each_case(MASKED, check, "value, secret, shown")


def test_a_redis_url_with_a_password_is_still_accepted(chapter):
    for value in ("redis://:s3cret@localhost:6379/0", "redis://app:p@ss@word@10.0.0.5:6379/1",
                  "rediss://cache.example:6380/2?password=s3cret"):
        assert loaded(chapter).module("config").checkedStore(value) == value


@pytest.mark.slow
def test_the_app_stops_with_one_line_and_no_password(chapter, tmp_path):
    """`SESSION_STORE='redis://:s3cret@localhost:6379/x' python run.py`, as 33's README runs it."""
    code, lines = stopped_at_start(chapter.path, tmp_path, {"SESSION_STORE": "redis://:s3cret@localhost:6379/x"})
    assert code != 0 and len(lines) == 1 and "s3cret" not in "\n".join(lines), lines
    assert "'redis://:***@localhost:6379/x'" in lines[0]


@pytest.mark.since("redis-outage")
@pytest.mark.until("logout-wins")
def test_before_the_fix_the_error_line_shows_the_password_twice(chapter):
    """What 33's README says of 21-32: the line that says SESSION_STORE is wrong quotes it whole, password too."""
    message = stopped_with(chapter, "redis://:s3cret@localhost:6379/zero")
    assert message.count("s3cret") == 2 and "***" not in message
