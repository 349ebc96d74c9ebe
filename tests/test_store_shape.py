"""Step 19 (store-shape): no new behaviour. The session functions become async
and reach the sessions and the login counters only through a few methods of
the store, so that another store (Redis, in the next step) can take the
folder's place."""
import inspect

import pytest

from support import envelope, login_token
from tutorial.chapters import step

pytestmark = pytest.mark.since("store-shape")

SESSION_FUNCTIONS = ("makeToken", "checkToken", "clearToken", "updataToken", "openSession", "holdLogin")
STORE_METHODS = ("read", "write", "removeIf", "refresh", "holdLogin")


def ended(chapter):
    """The name of what a login's end calls: loginSucceeded until failures are counted only at the end."""
    return "loginSucceeded" if chapter.number < step("failures-not-attempts") else "loginEnded"


def test_the_session_functions_are_async(chapter, session):
    for name in SESSION_FUNCTIONS + (ended(chapter),):
        assert inspect.iscoroutinefunction(getattr(session.module, name)), (
            "core/session.py: %s is not async; this step makes the session functions async" % name)


def test_the_file_store_has_the_stores_methods(chapter, session):
    for name in STORE_METHODS + (ended(chapter),):
        assert inspect.iscoroutinefunction(getattr(session.FileStore, name)), "FileStore.%s is not async" % name


class MemoryStore:
    """Another store with the same methods: sessions and counters in two dicts."""

    def __init__(self, loginWait):
        self.sessions, self.counts, self.loginWait = {}, {}, loginWait

    async def read(self, parsed):
        return self.sessions.get(parsed[:2])

    async def write(self, parsed, value):
        token, t = value.split(",")
        self.sessions[parsed[:2]] = (token, int(t))

    async def removeIf(self, parsed):
        if self.sessions.get(parsed[:2], ("",))[0] != parsed[2]:
            return False
        del self.sessions[parsed[:2]]
        return True

    async def refresh(self, parsed, now):
        if self.sessions.get(parsed[:2], ("",))[0] != parsed[2]:
            return False
        self.sessions[parsed[:2]] = (parsed[2], int(now))
        return True

    async def holdLogin(self, accountName, addressName, now):
        for name in (accountName, addressName):
            count, last = self.counts.get(name, (0, 0))
            if last + self.loginWait(count) - now > 0:
                return last + self.loginWait(count) - now
        for name in (accountName, addressName):
            self.counts[name] = (self.counts.get(name, (0, 0))[0] + 1, now)
        return 0

    async def loginSucceeded(self, accountName, addressName):
        self.counts.pop(accountName, None)
        self.counts.pop(addressName, None)


@pytest.mark.until("shared-counters")  # (from the next step the counters' methods are others: loginEnded)
def test_another_store_with_the_same_methods_takes_the_folders_place(chapter, client, session, session_dir, clock,
                                                                      config, monkeypatch):
    """Every store the session functions use (from the next step on the login
    counters may have one of their own) is swapped for a MemoryStore: the whole
    API works as before, and not one file is written."""
    from conftest import loaded

    memory = MemoryStore(loaded(chapter).module("core.file_counters").loginWait)
    for name, value in list(vars(session.module).items()):
        if isinstance(value, session.FileStore):
            monkeypatch.setattr(session.module, name, memory)
    token = login_token(client)
    assert envelope(client.get("session", cookie=token))[:2] == (200, 0)
    clock.advance(config.SESSION_REFRESH)
    assert envelope(client.get("session", cookie=token))[2]["expires"] == clock.now + config.SESSION_TTL
    assert envelope(client.get("logout", cookie=token)) == (200, 0, "退出成功")
    for _ in range(config.LOGIN_FREE_FAILURES):
        assert envelope(client.login("admin", "wrong"))[1] == 400
    assert envelope(client.login())[:2] == (429, 429)
    assert list(session_dir.iterdir()) == [] and memory.sessions == {}
