"""The security lab: each attack run for real on two real chapter folders.

Every section of notebooks/04-security-lab.ipynb takes one fix (one step of
tutorial/chapters.py) and runs its attack on the chapter before the fix, where
it works, and on the chapter with the fix, where it fails: the real folders,
started as a learner starts them (tutorial/server.py), or, where the attack is
a coincidence between two workers, their modules loaded into this process. No
function of a chapter is swapped (only a simulated hour gives a chapter's
session module a clock moved by hand: tutorial/lab_inside.py). The tests (tests/test_lab.py) use the same
functions. Here: starting and stopping the servers (and the lab's own
redis-server), section 1, watching file operations, and two login attempts
meeting (section 8). The attacks made of HTTP requests are in
tutorial/lab_http.py, the ones run inside this process or on the session
folder in tutorial/lab_inside.py, the logins at the same moment of sections 12
to 15 in tutorial/lab_logins.py.
"""
from __future__ import annotations

import atexit
import hashlib
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tutorial.chapters import CHAPTERS, by_key

ADMIN_MD5 = "21232f297a57a5a743894a0e4a801fc3"  # the file name of admin's session: manage_<this>


def fast_hash_env(password: str = "123456") -> dict:
    """Environment for a server of the password-hash step on whose manager password
    hash takes one PBKDF2 iteration instead of 600,000: for attacks that send many
    logins and have nothing to do with the password's work factor."""
    salt = b"lab-salt"
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 1)
    return {"MANAGER_PASSWORD_HASH": "pbkdf2_sha256$1$%s$%s" % (salt.hex(), digest.hex())}


# ------------------------------------------------------------------ two real chapters

def pair(fix: str) -> tuple:
    """(the chapter before the step `fix`, the chapter of that step): two slugs."""
    after = by_key(fix)
    return CHAPTERS[after.number - 1].slug, after.slug


def session_folder(under) -> Path:
    """A new, not yet existing session folder inside `under` (with room beside it:
    section 2 plants a file next to it)."""
    return Path(tempfile.mkdtemp(dir=under)) / "temp"


def start(slugs, under, workers: int = 1, env: dict = None) -> dict:
    """Start a server for each chapter folder at once, as `python <folder>/run.py`,
    each with a new session folder inside `under`: {slug: ChapterServer}.
    Whatever is still running when Python exits is stopped then."""
    return start_as({slug: (slug, env) for slug in slugs}, under, workers)


def start_as(named: dict, under, workers=1) -> dict:
    """Like start, for servers with names of their own, several of one chapter among
    them (one keeps its sessions in files, the other in Redis): {name: (slug, env)}
    -> {name: ChapterServer}. `workers`: for every server, or {slug: workers}."""
    from tutorial.server import ChapterServer

    servers = {}
    for name, (slug, env) in named.items():
        folder = by_key(slug).path
        assert (folder / "run.py").is_file(), folder
        count = workers[slug] if isinstance(workers, dict) else workers
        servers[name] = ChapterServer(folder, workers=count, session_dir=session_folder(under), env=env)
    for server in servers.values():
        atexit.register(server.stop)
        server.launch()
    try:
        for server in servers.values():
            server.wait_ready(60)
    except BaseException:
        stop(servers, check=False)
        raise
    return servers


def start_redis(under):
    """A redis-server of the lab's own (tutorial/redis_server.py), on a free port, its empty folder
    inside `under`: stopped with close(), or when Python exits."""
    from tutorial.redis_server import RedisServer

    redis = RedisServer(workdir=under).start()
    atexit.register(redis.close)
    return redis


def at_once(servers: dict, attack) -> dict:
    """attack(server) on every server at the same time, each in a thread: {slug: what it returned}."""
    results = {}

    def run(slug, server):
        try:
            results[slug] = attack(server)
        except BaseException as exc:  # raised below, in the caller's thread
            results[slug] = exc

    threads = [threading.Thread(target=run, args=item) for item in servers.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for result in results.values():
        if isinstance(result, BaseException):
            raise result
    return {slug: results[slug] for slug in servers}


def stop(servers: dict, check: bool = True) -> dict:
    """Ctrl-C every server; then, with `check`, raise ServerFailed (with the
    server's whole output) for one that did not stop cleanly. {slug: exit code}"""
    codes = at_once(servers, lambda server: server.stop())  # (several workers take a while to stop: at once)
    if check:
        for server in servers.values():
            server.check_stopped()
    return codes


def table(header: list, rows: list) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


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


# ------------------------------------------------------------------ watching file operations (audit hooks)

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


# ------------------------------------------------------------------ 8. two login attempts meet

@dataclass
class Meeting:
    results: list                   # what reserve answered: [the first attempt, the other]; 0: go on, n: wait n s
    other_finished_meanwhile: bool  # did the other attempt finish while the first was between read and write?
    failures: int                   # the failures the counter holds afterwards


class _ReachesALock:
    """While listening, sets `news` when `thread` is about to take a file lock
    (the audit event Python raises before flock, or before Windows' locking)."""

    def __init__(self, thread, news):
        self.thread, self.news = thread, news
        _install_audit_hook()

    def _on(self, event, args):
        if event in ("fcntl.flock", "msvcrt.locking") and threading.current_thread() is self.thread:
            self.news.set()


def attempt_meets_an_attempt(counters, path: str, now: int, patience: float = 10.0) -> Meeting:
    """Two login attempts on one counter (a chapter's core/file_counters.py, from
    the throttle step on), each with its own file handle, as two workers have.
    The counter is first brought to one failure short of the free ones with the
    module's own reserve, so exactly one more attempt may go on. The first
    attempt reads the counter; just before it writes (its call of the module's
    `_save`, caught by a trace function, which changes nothing), the other
    attempt starts in another thread, and the first waits until the other has
    finished or is about to take the counter's lock (which the first holds, so
    it must wait), at most `patience` seconds, then writes. Without a lock the
    other reads the same count and goes on too; with one, it waits for the
    first, then reads its count, and must wait."""
    for _ in range(counters.LOGIN_FREE_FAILURES - 1):
        assert counters.reserve(path, now) == 0
    other, news = {}, threading.Event()

    def attempt():
        try:
            other["result"] = counters.reserve(path, now)
        finally:
            news.set()

    thread = threading.Thread(target=attempt)
    write, met = counters._save.__code__, {}

    def tracer(frame, event, arg):
        if event == "call" and frame.f_code is write and not met:
            watching = _ReachesALock(thread, news)
            _listeners.append(watching)
            try:
                thread.start()
                news.wait(patience)
            finally:
                _listeners.remove(watching)
            met["finished"] = "result" in other
        return None

    previous = sys.gettrace()
    sys.settrace(tracer)  # this thread only: the other attempt runs untraced
    try:
        first = counters.reserve(path, now)
    finally:
        sys.settrace(previous)
    if not met:
        raise RuntimeError("the first attempt never wrote the counter")
    thread.join(30)
    if thread.is_alive():
        raise RuntimeError("the other attempt is still waiting after 30 s")
    failures = int(Path(path).read_bytes().split(b",")[0])
    return Meeting([first, other["result"]], met["finished"], failures)
