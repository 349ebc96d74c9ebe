"""The security lab's attacks that run inside this process or on a server's
session folder (sections 4, 5, 7 to 11 of notebooks/04-security-lab.ipynb, and
the one attempt that the hours of sections 13 and 14 repeat), on
real chapter folders: a chapter's modules are loaded here as a worker loads
them (load_module), and only watched (audit hooks) or given a clock moved by
hand. Tests of several steps, the benchmark and notebook 06 use some of these
functions too (hash_env, start_servers).
"""
from __future__ import annotations

import asyncio
import hashlib
import inspect
import os
import random
import re
import sys
import threading
import time
from pathlib import Path

try:
    import fcntl  # Linux, macOS
except ImportError:  # Windows
    fcntl = None
    import msvcrt

from tutorial.lab import _install_audit_hook, _listeners


def hash_env(iterations: int, password: str = "123456") -> dict:
    """Like lab.fast_hash_env, with any work factor (600,000 is the chapters' default)."""
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


def load_module(folder, session_dir, name: str = "core.session", env: dict = None):
    """A chapter's module (core/session.py by default, with what it imports)
    imported on its own, its session folder `session_dir` (and the settings
    `env`, as a server's environment gives them: SESSION_STORE=redis://...):
    the lab calls the chapter's functions the way a worker does, in this process."""
    import importlib

    from tutorial.loader import _forget_app_modules, module_origin

    folder = Path(folder).resolve()
    env = dict(env or {}, SESSION_DIR=str(session_dir))
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    _forget_app_modules()
    sys.path.insert(0, str(folder))
    no_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        module = importlib.import_module(name)
    finally:
        sys.dont_write_bytecode = no_bytecode
        sys.path.remove(str(folder))
        _forget_app_modules()
        for key, value in saved.items():
            if value is None:
                del os.environ[key]
            else:
                os.environ[key] = value
    assert all(folder in origin.parents for origin in module_origin(module)), module.__file__
    return module


# ------------------------------------------------------------------ 4. logout and another worker's login

class LoginAt:
    """While active, runs `session.makeToken('admin', 'manage')` (another
    worker's login of the same account) just before the `nth` file operation
    Python makes in the session folder: an audit hook runs before the
    operation itself. From step 32 on the file store holds a lock while it
    writes or deletes a session; while the logout holds it, the other login
    waits for it (here: runs once the logout is over), as another worker's would."""

    EVENTS = ("open", "os.remove", "os.rename", "os.link", "os.replace")

    def __init__(self, session, nth: int):
        self.session, self.nth, self.token = session, nth, None
        self.folder = os.path.abspath(session.TEMPPATH.rstrip("/\\"))
        self.operations, self.waited = [], False
        _install_audit_hook()

    def _lock_held(self) -> bool:
        path = getattr(getattr(self.session, "STORE", None), "lockPath", None)
        try:
            fd = os.open(path, os.O_RDWR) if path else None
        except FileNotFoundError:
            return False
        if fd is None:
            return False
        try:
            if fcntl:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return False  # (closing the file lets it go again)
        except OSError:
            return True
        finally:
            os.close(fd)

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
            if self._lock_held():
                self.waited = True  # it would wait for the lock: it runs when the logout has let go
            else:
                self.token = self.session.makeToken("admin", "manage")

    def __enter__(self):
        _listeners.append(self)
        return self

    def __exit__(self, *exc):
        _listeners.remove(self)
        if self.waited:
            self.token = self.session.makeToken("admin", "manage")


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
    return {"operations": other.operations, "login_ran": bool(other.token), "survived": bool(survived),
            "waited": other.waited}


# ------------------------------------------------------------------ 5. the password in the code

PASSWORD_IN_CODE = re.compile(r"""['"]password['"]\s*:\s*['"]([^'"]*)['"]""")


def passwords_in_code(folder) -> dict:
    """{file: the password written in it} for a chapter's Python files: what
    whoever reads the code (a repository, a backup, a shared screen) learns."""
    found = {}
    for path in sorted(Path(folder).rglob("*.py")):
        for match in PASSWORD_IN_CODE.finditer(path.read_text(encoding="utf-8")):
            found[path.relative_to(folder).as_posix()] = match.group(1)
    return found


def offline_guess(tool, stored: str, guess: str) -> tuple:
    """One offline guess against a stored hash, with the chapter's own
    checkPassword (core/tool.py): (does it match, seconds it took)."""
    started = time.perf_counter()
    matched = tool.checkPassword(guess, stored)
    return matched, time.perf_counter() - started


# ------------------------------------------------------------------ 7. a guessing hour on a clock moved by hand

class FakeClock:
    """Stands in for the `time` module a chapter's core/session.py imported:
    the lab moves time forward by hand instead of waiting."""

    def __init__(self, now: int):
        self.now = now

    def time(self) -> float:
        return float(self.now)

    def sleep(self, seconds):
        self.now += seconds


async def attempt(session, address: str, account: str = "admin", device: str = None, check=None) -> int:
    """One wrong password, as the chapter's login handles it, on whichever of the
    throttle's shapes the chapter has: 0 if it got as far as the password check
    (and was counted as a failure), else the seconds it was told to wait. `check`
    stands for the password check (a coroutine function: `asyncio.sleep(0)` lets
    other attempts begin meanwhile, as the hash in its thread does)."""
    if not hasattr(session, "holdLogin"):
        return 0  # (no throttle: every guess is checked)
    if hasattr(session, "loginCounters"):  # from the device-cookies step on: the counters are chosen first
        names = await session.loginCounters(account, address, device)
        hold, ended = (names,), (names,)
    else:
        hold, ended = (account, address), (account, address)
    wait = session.holdLogin(*hold)
    wait = await wait if inspect.isawaitable(wait) else wait
    if wait:
        return wait
    if check is not None:
        await check()
    if hasattr(session, "loginEnded"):  # from the failures-not-attempts step on: a failure is counted at the end
        await session.loginEnded(*ended, False)
    return 0  # (before it, holdLogin counted the attempt as a failure in advance)


def run_coroutine(coroutine):
    """Run `coroutine` to its end in an event loop of its own, in a thread of its own
    (a Jupyter kernel's thread has a loop running already), and return its result."""
    result = {}

    def run():
        try:
            result["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # raised below, in the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def guessing_hour(session, seconds: int = 3600, per_second: int = 1) -> list:
    """An attacker tries a wrong password `per_second` times every second, one
    after another, for `seconds` (simulated) seconds against the chapter's own
    throttle (core/session.py; a chapter without it checks every guess).
    Returns the seconds at which a guess got as far as the password check.
    `session` is a chapter's core/session.py (or a test's view of it, support.SyncView)."""
    session = getattr(session, "module", session)
    real_time, clock = session.time, FakeClock(1_800_000_000)

    async def hour():
        checked = []
        for second in range(seconds):
            for _ in range(per_second):
                if await attempt(session, "203.0.113.9") == 0:
                    checked.append(second)
            clock.now += 1
        return checked

    session.time = clock
    try:
        return run_coroutine(hour())
    finally:
        session.time = real_time


# ------------------------------------------------------------------ 9. what the sweep may remove

def plant_for_the_sweep(session_dir: Path, age: int = 7200) -> list:
    """Files in a session folder, all `age` seconds old: three of the app's own
    kinds, expired by the time written inside them (a session, a login counter)
    or, for a temporary file, by its file time; and five that are not the app's.
    Returns [(file name, what it is, whether it is the app's own)]."""
    session_dir.mkdir(parents=True, exist_ok=True)
    then = int(time.time()) - age
    md5 = lambda text: hashlib.md5(text.encode()).hexdigest()  # noqa: E731
    session = "%032x,%d" % (random.getrandbits(128), then)  # a token and its time, as a session file holds them
    planted = [  # (name, content, what it is, the app's own?)
        ("manage_" + md5("old-user"), session, "过期的会话 / an expired session", True),
        ("login_account_" + md5("old-guess"), "%010d,%010d" % (3, then), "旧的登录计数 / an old login counter", True),
        (".tmp-ab12cd34", session, "丢下的临时文件 / an abandoned temporary file", True),
        ("notes.txt", "keep me\n", "运维的笔记 / an operator's notes", False),
        ("backup.db", "keep me\n", "一个备份 / a backup", False),
        (".hidden_old", "keep me\n", "隐藏文件 / a hidden file", False),
        ("manage_" + "0" * 31, session, "比会话名少一位 / one digit short of a session's name", False),
        ("manage_" + md5("not-a-session"), "keep me\n", "会话的名字，别的内容 / a session's name, other content", False),
    ]
    for name, content, _, _ in planted:
        path = session_dir / name
        path.write_text(content)
        os.utime(path, (then, then))
    return [(name, what, ours) for name, _, what, ours in planted]


def wait_until_gone(path: Path, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return not path.exists()


# ------------------------------------------------------------------ 10. a 500 in the log

def lines_with_the_cause(output: str) -> list:
    """The lines of a server's log that name a failed request and its cause
    (`POST /api/v1/be/login failed: IsADirectoryError: ...`)."""
    return [line for line in output.splitlines() if re.search(r"\S+ /\S* failed: \w+", line)]


def shown(line: str, session_dir: Path) -> str:
    """A log line without its time and process prefix, the session folder and
    the temporary file's random name: the same on every run."""
    line = re.sub(r"^.*?\bERROR\]?:?\s*", "", line).replace(str(session_dir), "<session folder>")
    return re.sub(r"\.tmp-\w{8}", ".tmp-…", line)


# ------------------------------------------------------------------ 11. a cross-site link to logout

# What a browser sends when the user clicks, on another site, a link to the logout URL.
CROSS_SITE_LINK = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document",
                   "Referer": "https://evil.example/funny-cats.html"}
