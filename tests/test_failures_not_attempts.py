"""Step 23 (failures-not-attempts): only a checked, wrong password is a failure.
A login being checked counts as nothing, so right passwords sent at the same
moment are never refused. Chapter 22 refusing them is in test_lab_attacks.py."""
import asyncio

import pytest

from support import envelope
from test_throttle import THROTTLED, from_address
from tutorial.chapters import step

pytestmark = pytest.mark.since("failures-not-attempts")

ACCOUNT_FILE = "login_account_21232f297a57a5a743894a0e4a801fc3"
RIGHT = {"account": "admin", "password": "123456"}


@pytest.fixture(autouse=True)
def unbounded_hash_queue(be, monkeypatch):
    """From step 28 on, logins take turns for the hashing threads, and beyond PASSWORD_QUEUE waiting more are
    told the server is busy (test_hash_queue.py). The rules tested here are the login counters': no turns."""
    if hasattr(be, "HASHES"):
        monkeypatch.setattr(be, "HASHES", be.HashQueue(10 ** 6, 10 ** 6))


def at_once(client, bodies):
    """Send every body to the login at the same moment (the app checks them side by side)."""
    async def send():
        return await asyncio.gather(*(client._client.post("/api/v1/be/login", json=b) for b in bodies))

    client.get("logout")  # (the app's lifespan has started)
    return client.run(send())


def test_right_passwords_at_the_same_moment_are_never_refused(chapter, client):
    answers = at_once(client, [RIGHT] * 16)
    assert [envelope(a)[:2] for a in answers] == [(200, 0)] * 16


def test_only_a_checked_wrong_password_is_a_failure(chapter, client, session_dir, clock):
    assert envelope(client.login())[:2] == (200, 0)
    assert not (session_dir / ACCOUNT_FILE).exists(), "a right password leaves no counter"
    assert envelope(client.login("admin", "wrong"))[1] == 400
    assert (session_dir / ACCOUNT_FILE).read_text().startswith("%010d,%010d" % (1, clock.now))


def test_an_attempt_throttled_anyway_leaves_nothing_on_the_account(chapter, client, session_dir, clock, config):
    """Throttled for its address, it never took place: the account has no counter at all."""
    attacker = from_address(client, "203.0.113.7")
    for n in range(config.LOGIN_FREE_FAILURES):
        attacker.login("user%d" % n, "wrong")
    assert envelope(attacker.login("admin", "wrong")) == THROTTLED
    assert not (session_dir / ACCOUNT_FILE).exists()


def test_an_attempt_that_breaks_off_counts_as_a_failure(chapter, client, be, session_dir, clock, monkeypatch):
    """An error in the middle of the check (or a client gone, which cancels it) ends the attempt: a failure,
    so breaking off cannot be a free guess, and nothing stays under way."""
    async def broken(password, stored):
        raise OSError("the hash went wrong")

    monkeypatch.setattr(be, "passwordMatches", broken)
    assert envelope(client.login())[:2] == (500, 500)
    saved = (session_dir / ACCOUNT_FILE).read_text()
    assert saved.startswith("%010d,%010d" % (1, clock.now))
    if chapter.number >= step("attempts-under-way"):
        assert saved.split(",")[2] == "0000", "nothing left under way"
