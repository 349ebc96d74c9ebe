"""Step 26 (device-cookies): a browser that logged in gets a signed device
cookie; a login that brings it is limited only by that device's own failures,
so a guesser elsewhere cannot lock the owner out. Chapters 12-25 locking the owner
out are in test_lab_attacks.py (and the lab, notebooks/04-security-lab.ipynb, section 15)."""
import hashlib
import hmac
import os
import re
import threading
import time

import pytest

from support import cookie_attributes, envelope, set_cookies
from test_throttle import THROTTLED, from_address

pytestmark = pytest.mark.since("device-cookies")

DEVICE = re.compile(r"admin\|([0-9a-f]{16})\|([0-9a-f]{64})")


def device_of(res) -> str:
    cookies = [h for h in set_cookies(res) if h.startswith("device=")]
    assert len(cookies) == 1, set_cookies(res)
    return cookie_attributes(cookies[0])["device"]


def login_with(client, device, password="123456"):
    return client.post("login", json={"account": "admin", "password": password}, headers={"cookie": "device=" + device})


def lock_the_account(client, config):
    """Someone at another address fails until the account must wait."""
    guesser = from_address(client, "127.0.0.2")
    for _ in range(config.LOGIN_FREE_FAILURES):
        guesser.login("admin", "wrong")
    assert envelope(guesser.login("admin", "wrong")) == THROTTLED


def test_a_login_gives_a_signed_device_cookie_for_the_login_only(chapter, client, config):
    res = client.login()
    cookies = {cookie_attributes(h).get("device") is not None: cookie_attributes(h) for h in set_cookies(res)}
    device = cookies[True]
    assert DEVICE.fullmatch(device["device"])
    assert device["path"] == "/api/v1/be/login" and device["httponly"] is True and device["samesite"] == "Lax"
    assert device["max-age"] == str(config.DEVICE_DAYS * 24 * 3600) and config.DEVICE_DAYS == 180
    assert "secure" not in device, "Secure only with COOKIE_SECURE=1, as the session cookie"


def test_with_its_device_cookie_the_owner_logs_in_while_the_account_must_wait(chapter, client, config, clock):
    device = device_of(client.login())
    lock_the_account(client, config)
    assert envelope(client.login()) == THROTTLED, "without it, the owner waits like everyone"
    assert envelope(login_with(client, device))[:2] == (200, 0)


def test_a_device_with_failures_of_its_own_is_trusted_no_more(chapter, client, config, clock):
    device = device_of(client.login())
    for _ in range(config.LOGIN_FREE_FAILURES):
        assert envelope(login_with(client, device, "wrong"))[1] == 400
    lock_the_account(client, config)
    assert envelope(login_with(client, device)) == THROTTLED


@pytest.mark.parametrize("change", ["another account", "another nonce", "another signature"])
def test_a_changed_device_cookie_is_not_trusted(chapter, client, config, clock, change):
    nonce, signature = DEVICE.fullmatch(device_of(client.login())).groups()
    forged = {"another account": "root|%s|%s" % (nonce, signature),
              "another nonce": "admin|%s|%s" % ("0" * 16, signature),
              "another signature": "admin|%s|%s" % (nonce, "0" * 64)}[change]
    lock_the_account(client, config)
    assert envelope(login_with(client, forged)) == THROTTLED


def test_the_key_is_made_once_and_kept_in_the_session_folder(chapter, client, session, session_dir):
    first, second = device_of(client.login()), device_of(client.login())
    key = (session_dir / "device_secret").read_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    if os.name != "nt":
        assert (session_dir / "device_secret").stat().st_mode & 0o777 == 0o600
    for cookie in (first, second):
        nonce, signature = DEVICE.fullmatch(cookie).groups()
        assert signature == hmac.new(key.encode(), ("admin|" + nonce).encode(), hashlib.sha256).hexdigest()


def test_the_key_can_be_set(chapter, client, session, session_dir, monkeypatch):
    monkeypatch.setattr(session.module, "DEVICE_SECRET", "set when deploying")
    nonce, signature = DEVICE.fullmatch(device_of(client.login())).groups()
    assert signature == hmac.new(b"set when deploying", ("admin|" + nonce).encode(), hashlib.sha256).hexdigest()
    assert not (session_dir / "device_secret").exists()


def test_a_deleted_session_folder_is_made_again_key_and_all(chapter, client, session_dir, caplog):
    """The key lives in the session folder: if someone deletes the folder, a login that brings its
    device cookie makes folder and key again (one log line), and is then a login like any other."""
    import shutil

    device = device_of(client.login())
    shutil.rmtree(session_dir)
    res = login_with(client, device)
    assert envelope(res)[:2] == (200, 0)
    assert re.fullmatch(r"[0-9a-f]{64}", (session_dir / "device_secret").read_text().strip())
    assert device_of(res) != device
    warnings = [r.getMessage() for r in caplog.records if r.name == "sanic.error"]
    assert any("was missing" in line for line in warnings), warnings
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


# ---------------------------------------------------------------- a real server, a guesser at another address

def guess_while(server, stop, seen):
    """A wrong password every 20 ms from 127.0.0.2 (a loopback alias), until `stop` is set: [(status, Retry-After)]."""
    import httpx

    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")) as guesser:
        while not stop.is_set():
            res = guesser.post(server.url("login"), json={"account": "admin", "password": "wrong"})
            seen.append((res.status_code, int(res.headers.get("retry-after", 0))))
            time.sleep(0.02)


@pytest.mark.beside
@pytest.mark.until("device-cookies")  # (slow: on the step that brings it; in-process tests cover the rest)
@pytest.mark.slow
@pytest.mark.repository_only
@pytest.mark.parametrize("store", ["file", "redis"])
def test_a_guesser_elsewhere_does_not_keep_the_owners_browser_out(chapter, tmp_path, store, request):
    """While someone at 127.0.0.2 fails again and again, the owner at 127.0.0.1, whose browser has logged in
    before (and so has its device cookie), logs in at the first try; a browser without one cannot."""
    import httpx

    from tutorial.lab import fast_hash_env
    from tutorial.server import ChapterServer

    env = fast_hash_env()
    if store == "redis":
        env["SESSION_STORE"] = request.getfixturevalue("empty_redis").url
    with ChapterServer(chapter.path, session_dir=tmp_path, env=env) as server:
        with httpx.Client() as owner:
            assert owner.post(server.url("login"), json={"account": "admin", "password": "123456"}).status_code == 200
            stop, seen = threading.Event(), []
            guesser = threading.Thread(target=guess_while, args=(server, stop, seen))
            guesser.start()
            try:
                # until the guesser is told to wait 2 s or more: then the account waits another second at least
                deadline = time.monotonic() + 15
                while not any(status == 429 and wait >= 2 for status, wait in seen) and time.monotonic() < deadline:
                    time.sleep(0.01)
                stranger = httpx.post(server.url("login"), json={"account": "admin", "password": "123456"})
                later = owner.post(server.url("login"), json={"account": "admin", "password": "123456"})
            finally:
                stop.set()
                guesser.join()
    assert any(status == 429 and wait >= 2 for status, wait in seen), "the guesser was throttled: the account waits"
    assert envelope(later)[:2] == (200, 0), "the owner's browser, with its device cookie, logged in at once"
    assert envelope(stranger) == THROTTLED, "a browser without a device cookie waits like the guesser"
