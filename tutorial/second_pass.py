"""The security lab, second pass: attacks on chapter 06 itself, run for real.

An adversarial pass against the hardened chapter found seven more attacks
(the 06 README's points 9-15). Where chapter 05 has the weakness too, the lab
shows it there; where it is new to 06, on "06 before the fix"
(tutorial/before_fix.py: chapter 06 with one function swapped back). The tests
(tests/test_lab.py, tests/test_hardening.py), the lab notebook
(notebooks/04-security-lab.ipynb) and the benchmark use these functions.
"""
from __future__ import annotations

import collections
import hashlib
import http.client
import json
import os
import random
import select
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tutorial.lab import _install_audit_hook, _listeners

BEFORE_FIX = Path(__file__).resolve().parent / "before_fix.py"
WRONG_COOKIE = "session=admin|manage|0123456789abcdef0123456789abcdef"


def hash_env(iterations: int, password: str = "123456") -> dict:
    """Like fast_hash_env, with any work factor (600,000 is chapter 06's default)."""
    salt = b"lab-salt"
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return {"MANAGER_PASSWORD_HASH": "pbkdf2_sha256$%d$%s$%s" % (iterations, salt.hex(), digest.hex())}


def start_servers(servers, timeout: float = 60) -> None:
    """Launch every server at once, then wait for each. ChapterServer picks a
    port that is free when it is made, and another program (or an outgoing
    connection given that port by the system) can take it before the server
    binds it; such a server is started again on another free port."""
    from tutorial.server import free_port

    for server in servers:
        server.launch()
    for server in servers:
        for attempt in range(3):
            try:
                server.wait_ready(timeout)
                break
            except RuntimeError as err:
                if "Address already in use" not in str(err) or attempt == 2:
                    raise
                server.port = free_port()
                server.launch()


def before_fix_server(variant: str, folder, **kwargs):
    """A ChapterServer running `folder` (chapter 06 or final/) through
    tutorial/before_fix.py with one fix taken back (see VARIANTS there)."""
    from tutorial.server import ChapterServer

    env = dict(kwargs.pop("env", {}), BEFORE_FIX=variant, BEFORE_FIX_FOLDER=str(Path(folder).resolve()))
    return ChapterServer(folder, script=BEFORE_FIX, env=env, **kwargs)


# ------------------------------------------------------------------ the hash and the event loop

@dataclass
class DuringLogin:
    login_status: int
    login_seconds: float
    cheap_answers: int       # cheap requests answered while the login was still running
    longest_wait_ms: float   # the longest a cheap request waited for its answer


def cheap_answers_during_login(port: int, body: bytes = b'{"account":"admin","password":"123456"}') -> DuringLogin:
    """Send one login (its password hash takes a while), and meanwhile, on
    another connection, cheap requests (a logout with a wrong cookie) one after
    another. Counts the cheap answers the server sent before the login's
    answer: with the hash on the event loop, the worker answers nothing else
    meanwhile.

    The order is the server's, not this program's: after each cheap answer,
    the login's connection is looked at without reading it. A server sends its
    answers in the order it finishes them, and on this machine's loopback an
    answer is in our socket the moment it is sent; so if the login's answer is
    there, it was sent before the cheap answer just read, which then does not
    count. (A thread waiting for the login's answer would notice it late on a
    busy machine, and count cheap answers sent after it.)"""
    login = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    login.connect()
    started = time.perf_counter()
    login.request("POST", "/api/v1/be/login", body=body)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    answers, longest = 0, 0.0
    while True:
        sent = time.perf_counter()
        conn.request("GET", "/api/v1/be/logout", headers={"Cookie": WRONG_COOKIE})
        conn.getresponse().read()
        longest = max(longest, time.perf_counter() - sent)
        if select.select([login.sock], [], [], 0)[0]:  # the login was answered first
            break
        answers += 1
    res = login.getresponse()
    res.read()
    seconds = time.perf_counter() - started
    conn.close()
    login.close()
    return DuringLogin(res.status, seconds, answers, longest * 1000)


# ------------------------------------------------------------------ guessing passwords

def guess_wrong(port: int, seconds: float, connections: int = 4, account: str = "admin") -> collections.Counter:
    """`connections` clients send wrong passwords for `account` as fast as
    they can for `seconds`: how many answers of each (HTTP status, body status)."""
    seen, lock = collections.Counter(), threading.Lock()
    body = json.dumps({"account": account, "password": "wrong guess"}).encode()
    deadline = time.monotonic() + seconds

    def guesser():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = collections.Counter()
        while time.monotonic() < deadline:
            conn.request("POST", "/api/v1/be/login", body=body)
            res = conn.getresponse()
            mine[(res.status, json.loads(res.read())["status"])] += 1
        conn.close()
        with lock:
            seen.update(mine)

    threads = [threading.Thread(target=guesser) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return seen


class FakeClock:
    """Stands in for the `time` module a chapter's core/session.py imported:
    the lab moves time forward by hand instead of waiting."""

    def __init__(self, now: int):
        self.now = now

    def time(self) -> float:
        return float(self.now)

    def sleep(self, seconds):
        self.now += seconds


def guessing_hour(session, seconds: int = 3600, per_second: int = 1) -> list:
    """An attacker tries a wrong password `per_second` times every second for
    `seconds` (simulated) seconds against the chapter's own throttle
    (holdLogin in core/session.py; a chapter without it checks every guess).
    Returns the seconds at which a guess got as far as the password check."""
    real_time, clock = session.time, FakeClock(1_800_000_000)
    session.time = clock
    checked = []
    try:
        for second in range(seconds):
            for _ in range(per_second):
                if not hasattr(session, "holdLogin") or session.holdLogin("admin", "203.0.113.9") == 0:
                    checked.append(second)
            clock.now += 1
    finally:
        session.time = real_time
    return checked


# ------------------------------------------------------------------ the sweep

PLANTED = ("notes.txt", "backup.db", ".hidden_old", "manage_notes.txt", "manage_" + "0" * 31)


def plant_non_sessions(session_dir: Path, age: int = 7200) -> list:
    """Files an operator might keep in the session folder, none of them a
    session, all `age` seconds old; and one expired session, so that a sweep
    can be seen to have run. Returns the planted paths (the session last)."""
    session_dir.mkdir(parents=True, exist_ok=True)
    old = time.time() - age
    planted = []
    for name in PLANTED:
        path = session_dir / name
        path.write_text("keep me\n")
        os.utime(path, (old, old))
        planted.append(path)
    expired = session_dir / ("manage_" + hashlib.md5(b"old-user").hexdigest())
    expired.write_text("%032x,%d" % (random.getrandbits(128), int(old)))
    planted.append(expired)
    return planted


def wait_until_gone(path: Path, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return not path.exists()


# ------------------------------------------------------------------ logout and another worker's login

def load_session(folder, session_dir):
    """A chapter's core/session.py (with its config and core.tool) imported on
    its own, writing to `session_dir`: the lab calls the session functions the
    way a worker does, in this process."""
    import importlib

    from tutorial.loader import _forget_app_modules, module_origin

    folder = Path(folder).resolve()
    os.environ["SESSION_DIR"] = str(session_dir)
    _forget_app_modules()
    sys.path.insert(0, str(folder))
    no_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        module = importlib.import_module("core.session")
    finally:
        sys.dont_write_bytecode = no_bytecode
        sys.path.remove(str(folder))
        _forget_app_modules()
        del os.environ["SESSION_DIR"]
    assert all(folder in origin.parents for origin in module_origin(module)), module.__file__
    return module


class LoginAt:
    """While active, runs `session.makeToken('admin', 'manage')` (another
    worker's login of the same account) just before the `nth` file operation
    Python makes in the session folder: an audit hook runs before the
    operation itself."""

    EVENTS = ("open", "os.remove", "os.rename", "os.link", "os.replace")

    def __init__(self, session, nth: int):
        self.session, self.nth, self.token = session, nth, None
        self.folder = os.path.abspath(session.TEMPPATH.rstrip("/\\"))
        self.operations = []
        _install_audit_hook()

    def _on(self, event, args):
        if self.token is not None or event not in self.EVENTS or not args:
            return
        if not isinstance(args[0], (str, bytes, os.PathLike)):
            return
        if os.path.dirname(os.path.abspath(os.fsdecode(args[0]))) != self.folder:
            return
        self.operations.append(event)
        if len(self.operations) == self.nth:
            self.token = ""  # no more hooks while the other login itself runs
            self.token = self.session.makeToken("admin", "manage")

    def __enter__(self):
        _listeners.append(self)
        return self

    def __exit__(self, *exc):
        _listeners.remove(self)


def logout_meets_a_login(session, nth: int) -> dict:
    """Worker A checks admin's session (valid) and clears it, as logout does;
    worker B logs admin in again just before A's `nth` file operation inside
    clearToken. Does B's new session survive?"""
    mine = session.makeToken("admin", "manage")
    assert session.checkToken(mine) == 0
    with LoginAt(session, nth) as other:
        session.clearToken(mine)
    survived = other.token and session.checkToken(other.token) == 0
    session.clearToken(other.token or mine)
    return {"operations": other.operations, "login_ran": bool(other.token), "survived": bool(survived)}


# ------------------------------------------------------------------ a cross-site link to logout

# What a browser sends when the user clicks, on another site, a link to the logout URL.
CROSS_SITE_LINK = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document",
                   "Referer": "https://evil.example/funny-cats.html"}
