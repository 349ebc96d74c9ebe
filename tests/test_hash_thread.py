"""Step 11 (hash-thread): the slow hash runs in a thread, so the event loop
answers other requests meanwhile. Chapter 10 standing still during a login is in test_lab.py."""
import threading

import pytest

from support import envelope

pytestmark = pytest.mark.since("hash-thread")


def test_password_is_checked_in_a_hashing_thread(chapter, client, be, monkeypatch):
    threads = []
    real_check = be.checkPassword
    monkeypatch.setattr(be, "checkPassword", lambda p, s: threads.append(threading.current_thread()) or real_check(p, s))
    assert envelope(client.login())[1] == 0
    assert envelope(client.login("admin", "wrong"))[1] == 400
    assert len(threads) == 2 and threading.main_thread() not in threads
    assert all(t.name.startswith("password-hash") for t in threads), threads


def test_hashing_threads_come_from_the_setting(chapter, config, be):
    assert config.PASSWORD_THREADS == 1, "one hash at a time per worker leaves a core to the event loop on 2 cores"
    assert be.HASHING._max_workers == config.PASSWORD_THREADS
