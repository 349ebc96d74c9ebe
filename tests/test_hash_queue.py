"""Step 28 (hash-queue): at most PASSWORD_QUEUE logins per worker wait for a hashing thread; one more is
answered 503 at once, before any counter is touched; a login with a trusted device cookie is never refused
and goes to the front. Chapters 11-27, where every login waited its turn however long the queue, are
test_before_every_login_waited_for_the_hash.

Everything here is in-process and deterministic: the password check is held on an event the test sets,
and each login comes from an address (and for an account) of its own, so no login counter ever refuses."""
import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from support import AppClient, envelope, set_cookies
from test_device_cookies import device_of
from test_throttle import from_address

pytestmark = pytest.mark.since("hash-queue")

BUSY = (503, 503, "服务器忙，请稍后再试")
WRONG = (200, 400, "用户名或密码错误")
OWNER = "123456"  # the owner's password: the label of the owner's login among the guesses


class Logins:
    """Logins sent side by side, each a task in the app's event loop, each from an address of its own.
    A guess `label` logs in to the account "guest-<label>" with the password `label`."""

    def __init__(self, client):
        client.get("logout")  # (the app's lifespan has started)
        self.client, self.tasks = client, {}

    def send(self, label, account=None, password=None, cookies=()):
        sender = from_address(self.client, "198.51.100.%d" % (len(self.tasks) + 1))
        body = {"account": account or "guest-" + label, "password": password or label}
        headers = {"cookie": "; ".join(cookies)} if cookies else {}
        self.tasks[label] = AppClient.event_loop().create_task(
            sender._client.post("/api/v1/be/login", json=body, headers=headers))
        return self.tasks[label]

    def until(self, condition, what):
        async def poll():
            while not condition():
                await asyncio.sleep(0.001)
        try:
            self.client.run(asyncio.wait_for(poll(), 5))
        except asyncio.TimeoutError:
            raise AssertionError("not within 5 s: " + what) from None

    def answer(self, label, **kw):
        """Send one more login and wait for its answer (5 s at most: it must not queue)."""
        task = self.send(label, **kw)
        self.until(task.done, "an answer to %s" % label)
        return task.result()

    def waiting(self):
        return [label for label, task in self.tasks.items() if not task.done()]

    def finish(self, gate):
        """Let every held check go on; every login's answer (None for one whose client went away)."""
        gate.set()
        self.until(lambda: not self.waiting(), "every login answered")
        return {label: None if task.cancelled() else envelope(task.result()) for label, task in self.tasks.items()}

    def close(self):
        """(After the test, passed or failed: nothing left waiting in the event loop.)"""
        for task in self.tasks.values():
            task.cancel()
        self.until(lambda: not self.waiting(), "every login ended")


def listing(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.fixture
def hashes(be, config, monkeypatch):
    """The password checks in the order they started (`started`, by password); each waits until `gate`
    (an asyncio.Event) is set. A fresh queue for the test: one hashing thread, PASSWORD_QUEUE places."""
    real, state = be.passwordMatches, SimpleNamespace(started=[], gate=asyncio.Event())

    async def held(password, stored):
        state.started.append(password)
        await state.gate.wait()
        return await real(password, stored)

    monkeypatch.setattr(be, "passwordMatches", held)
    monkeypatch.setattr(be, "HASHES", be.HashQueue(1, config.PASSWORD_QUEUE))
    return state


@pytest.fixture
def logins(client, hashes):
    crowd = Logins(client)
    yield crowd
    hashes.gate.set()
    crowd.close()


def fill(logins, be, hashes, config):
    """One guess hashing, PASSWORD_QUEUE guesses waiting their turn: the queue is full."""
    guesses = ["guess%d" % n for n in range(1 + config.PASSWORD_QUEUE)]
    for label in guesses:
        logins.send(label)
    logins.until(lambda: hashes.started == guesses[:1] and be.HASHES.full(), "one hash under way, the queue full")
    return guesses


def test_the_queue_comes_from_the_setting(chapter, config, be):
    assert config.PASSWORD_QUEUE == 4 and be.HASHES.limit == config.PASSWORD_QUEUE


def test_one_login_more_than_the_queue_holds_is_told_the_server_is_busy(
        chapter, be, config, hashes, logins, session, session_dir):
    guesses = fill(logins, be, hashes, config)
    token = session.makeToken("admin", "manage")
    before = listing(session_dir)
    res = logins.answer("one-more", cookies=["session=" + token])
    assert envelope(res) == BUSY and res.headers["retry-after"] == "1"
    assert set_cookies(res) == [], "no cookie set, the session cookie not deleted"
    assert listing(session_dir) == before, "no login counter touched"
    assert logins.waiting() == guesses, "answered at once, while the others still wait"
    answers = logins.finish(hashes.gate)
    assert hashes.started == guesses, "the queue is served in order"
    assert [answers[g] for g in guesses] == [WRONG] * len(guesses)
    assert envelope(logins.client.get("session", cookie=token))[:2] == (200, 0), "the session lives on"
    assert be.HASHES.free == 1, "the thread is free again"


def test_with_no_queue_a_busy_thread_is_enough(chapter, be, hashes, logins, monkeypatch):
    """PASSWORD_QUEUE=0: nobody waits; while the thread is busy, a login is told to come back."""
    monkeypatch.setattr(be, "HASHES", be.HashQueue(1, 0))
    first = logins.send("guess0")
    logins.until(lambda: hashes.started or first.done(), "the first login hashed or answered")
    assert hashes.started == ["guess0"], "the thread was free, yet: %s" % (envelope(first.result()),)
    assert envelope(logins.answer("guess1")) == BUSY
    assert logins.finish(hashes.gate) == {"guess0": WRONG, "guess1": BUSY}


def test_a_trusted_device_is_let_in_and_served_first(chapter, be, config, hashes, logins):
    hashes.gate.set()
    device = device_of(logins.client.login())  # the owner's browser logged in before
    hashes.gate.clear()
    hashes.started.clear()
    guesses = fill(logins, be, hashes, config)
    logins.send(OWNER, account="admin", cookies=["device=" + device])
    logins.until(lambda: len(be.HASHES.first) == 1, "the owner waits at the front")
    stranger = logins.answer("stranger", account="admin", password=OWNER)
    assert envelope(stranger) == BUSY, "the right password, without the device cookie: busy like everyone"
    answers = logins.finish(hashes.gate)
    assert hashes.started == [guesses[0], OWNER] + guesses[1:], "after the hash under way, the owner's"
    assert answers[OWNER][:2] == (200, 0)
    assert [answers[g] for g in guesses] == [WRONG] * len(guesses)
    assert be.HASHES.free == 1


def test_a_login_whose_client_goes_away_frees_its_place(chapter, be, config, hashes, logins):
    guesses = fill(logins, be, hashes, config)
    logins.tasks["guess2"].cancel()
    logins.until(lambda: not be.HASHES.full(), "a place free again")
    logins.send("guess-next")
    logins.until(be.HASHES.full, "the next login queues instead of being refused")
    answers = logins.finish(hashes.gate)
    assert hashes.started == [g for g in guesses if g != "guess2"] + ["guess-next"]
    assert answers["guess2"] is None and answers["guess-next"] == WRONG
    assert be.HASHES.free == 1


def test_a_login_gone_as_its_turn_came_hands_the_thread_on(chapter, be, hashes, logins, monkeypatch):
    """Its turn came (the hash before it ended), but its client left before it could start: the thread goes
    to the next in line instead of being lost."""
    for label in ("guess0", "guess1", "guess2"):
        logins.send(label)
    logins.until(lambda: len(be.HASHES.rest) == 2, "two logins queued")
    real_next, handed = be.HASHES.next, []

    def next_then_leave():
        real_next()
        if not handed:  # guess1's turn has just come: its client goes away before it starts
            handed.append(logins.tasks["guess1"].cancel())

    monkeypatch.setattr(be.HASHES, "next", next_then_leave)
    answers = logins.finish(hashes.gate)
    assert hashes.started == ["guess0", "guess2"] and answers["guess1"] is None
    assert answers["guess2"] == WRONG and be.HASHES.free == 1


# ---------------------------------------------------------------- before: no bound at all

@pytest.mark.since("hash-thread")
@pytest.mark.until("any-string")
@pytest.mark.repository_only  # (the chapters before the fix; a learner's code may well be better)
def test_before_every_login_waited_for_the_hash(chapter, client, be, monkeypatch):
    """The real hashing thread (one), its check held: a dozen logins all wait in its queue, none is told
    the server is busy, and each is answered only once the hashes before it are done."""
    go, checking, arrived = threading.Event(), [], []
    real_check, real_matches = be.checkPassword, be.passwordMatches

    def held_check(password, stored):  # (in the hashing thread)
        checking.append(password)
        go.wait(5)
        return real_check(password, stored)

    async def watched(password, stored):
        arrived.append(password)
        return await real_matches(password, stored)

    pool = ThreadPoolExecutor(1, thread_name_prefix="password-hash")
    monkeypatch.setattr(be, "HASHING", pool)
    monkeypatch.setattr(be, "checkPassword", held_check)
    monkeypatch.setattr(be, "passwordMatches", watched)
    logins, gate = Logins(client), SimpleNamespace(set=go.set)
    try:
        guesses = ["guess%d" % n for n in range(12)]
        for label in guesses:
            logins.send(label)
        logins.until(lambda: len(arrived) == len(guesses) and len(checking) == 1, "every login waiting for the hash")
        assert logins.waiting() == guesses, "none refused, none answered"
        answers = logins.finish(gate)
    finally:
        go.set()
        logins.close()
        pool.shutdown(wait=True)
    assert sorted(checking) == sorted(guesses) and [answers[g] for g in guesses] == [WRONG] * len(guesses)
