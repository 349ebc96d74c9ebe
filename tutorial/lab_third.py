"""The security lab's sections 17 to 23 (notebooks/04-security-lab.ipynb), weaknesses a review found in chapter 26's
app: requests with any header or body (17, 19, 20), a crowd of logins from many loopback addresses (18), a clock
moved by hand (21), a logout made to meet a refresh (22, as in sections 4 and 8), Redis at its limits (23)."""
import asyncio
import collections
import hashlib
import http.client
import itertools
import json
import os
import select
import selectors
import sys
import threading
import time
from dataclasses import dataclass

from tutorial.chapters import by_key
from tutorial.lab import _ReachesALock, _listeners, session_folder
from tutorial.lab_inside import FakeClock, load_module, run_coroutine
from tutorial.lab_logins import RIGHT, WRONG, Connection, login_request

LOGIN = "/api/v1/be/login"


@dataclass
class Reply:
    status: int
    body: bytes
    headers: object  # (http.client.HTTPMessage) .get(name), .get_all(name)

    @property
    def envelope(self):  # (status, data) of a {"data": ..., "status": ...} answer
        found = json.loads(self.body)
        return found["status"], found["data"]

    @property
    def session_cookie(self):
        """What this answer sets the session cookie to ("" deletes it), or None: it leaves the cookie alone."""
        found = [v.split(";")[0][8:] for v in self.headers.get_all("Set-Cookie", []) if v.startswith("session=")]
        return found[-1].strip('"') if found else None

    def __str__(self):
        return "%d · %s · %s" % ((self.status,) + self.envelope)


def request(port: int, method: str, path: str, body: bytes = b"", headers: dict = None, source: str = "127.0.0.1"):
    """One request with the headers given (Host among them, if given), from `source` (a loopback address)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        return Reply(res.status, res.read(), res.msg)
    finally:
        conn.close()


def login_body(account="admin", password=RIGHT) -> bytes:
    """JSON as a browser's script sends it; a lone surrogate goes as the escape \\ud800 (ASCII only)."""
    return json.dumps({"account": account, "password": password}).encode()


def runs(answers: list) -> str:
    """["a", "a", "b"] -> "2 × a, 1 × b": the answers in order, equal neighbours counted together."""
    return ", ".join("%d × %s" % (len(list(same)), answer) for answer, same in itertools.groupby(answers))


# ------------------------------------------------------------------ 17. a lone surrogate in the login

def logins_with_the_log(server, body: bytes, times: int) -> list:
    """The login `body`, `times` times, one after another: [(the answer, bytes and lines the server's log grew
    by)] (the server writes its log line before it sends its answer)."""
    found = []
    for _ in range(times):
        before, answer = server.output(), request(server.port, "POST", LOGIN, body)
        grown = server.output()[len(before):]
        found.append((str(answer), len(grown.encode()), grown.count("\n")))
    return found


# ------------------------------------------------------------------ 18. the owner behind a crowd of guesses

def owner_in_a_crowd(server, addresses: int = 8, each: int = 5) -> dict:
    """The owner logs in at 127.0.0.1 and keeps its device cookie. Then `addresses` guessers (127.0.0.2, ...)
    each send `each` wrong logins at once, each for an account made up for it (each address and account has
    free failures of its own: no throttle stops them). Once the server has taken every guess in (refused it,
    or counted it: a counter file for its account), the owner logs in again with its device cookie. Answers
    are counted in the server's order (as in lab_http.cheap_answers_during_login). {"alone_ms": the first
    login, alone, "owner" (lab_logins.Answer), "owner_ms": its login in the crowd, "meanwhile" and "after":
    guesses checked before and after its answer, "guesses": (HTTP, envelope status) -> n, "retry_after"}"""
    owner, started = Connection(server.port, "127.0.0.1"), time.perf_counter()
    first, alone = owner.one(login_request(RIGHT)), time.perf_counter() - started
    owner.close()
    assert first.key == (200, 0) and "device" in first.cookies, first
    crowd = [Connection(server.port, "127.0.0.%d" % (2 + n // each)) for n in range(addresses * each)]
    mine = Connection(server.port, "127.0.0.1")
    counted = {"login_account_" + hashlib.md5(b"guess%d" % n).hexdigest() for n in range(len(crowd))}
    seen, retry, meanwhile, after, answer, sent = collections.Counter(), set(), 0, 0, None, None
    with selectors.DefaultSelector() as selector:
        for conn in crowd + [mine]:
            selector.register(conn.sock, selectors.EVENT_READ, conn)
        for n, conn in enumerate(crowd):
            conn.sock.sendall(login_request(WRONG, account="guess%d" % n))
        deadline = time.monotonic() + 60
        while answer is None or sum(seen.values()) < len(crowd):
            if sent is None and len(counted & set(os.listdir(server.session_dir))) + seen[503, 503] == len(crowd):
                sent = time.perf_counter()  # every guess is in: now the owner
                mine.sock.sendall(login_request(RIGHT, cookie="device=" + first.cookies["device"]))
            if time.monotonic() > deadline:
                raise TimeoutError("not done within 60 s: %s" % dict(seen))
            for conn, got in ((key.data, got) for key, _ in selector.select(1 if sent else 0.002)
                              for got in key.data.answers()):
                if conn is mine:
                    answer, took = got, time.perf_counter() - sent
                    continue
                seen[got.key] += 1
                if got.status == 503:
                    retry.add(got.retry_after)
                elif answer is not None:
                    after += 1
                elif not select.select([mine.sock], [], [], 0)[0]:
                    meanwhile += 1
    for conn in crowd + [mine]:
        conn.close()
    return {"alone_ms": alone * 1000, "owner": answer, "owner_ms": took * 1000, "meanwhile": meanwhile,
            "after": after, "guesses": seen, "retry_after": retry}


# ------------------------------------------------------------------ 19. another site's form; another host name

# What a browser sends when a page on another site submits a form to the login (enctype="text/plain": a field
# named {"account":"admin","password":"...","x":" with the value "} makes the body JSON).
CROSS_SITE_FORM = {"Content-Type": "text/plain", "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site",
                   "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}


def form_body(password: str) -> bytes:
    return b'{"account":"admin","password":"%s","x":"="}' % password.encode()


def what_it_does(reply: Reply) -> str:
    """"200 · 0 · token；sets the session cookie": the answer, and what it does to the session cookie."""
    status, data, cookie = *reply.envelope, reply.session_cookie
    effect = {None: "不动 cookie / leaves the cookie alone", "": "**删掉会话 cookie / deletes the session cookie**"
              }.get(cookie, "**设下会话 cookie / sets the session cookie**")
    return "%d · %d · %s；%s" % (reply.status, status, "token" if status == 0 else data, effect)


# ------------------------------------------------------------------ 20. headers for the browser

BROWSER_HEADERS = (("content-security-policy", "frame-ancestors 'none'", "CSP frame-ancestors"),
                   ("x-frame-options", "DENY", "X-Frame-Options"), ("cache-control", "no-store", "no-store"),
                   ("vary", "Cookie", "Vary: Cookie"))


def browser_headers(reply: Reply) -> str:
    """Which of the four headers (with chapter 30's values) an answer carries: "CSP frame-ancestors · ..." or "—"."""
    found = [shown for name, value, shown in BROWSER_HEADERS if reply.headers.get(name) == value]
    return " · ".join(found) or "—"


# ------------------------------------------------------------------ 21. a token in use, for a day

def a_busy_day(session, every: int = 3000, uses: int = 30) -> list:
    """A login, then the token used (openSession, as the guard uses it) every `every` seconds, `uses` times, on a
    clock moved by hand: [(seconds since the login, seconds left to `expires` then, or None: refused)]."""
    saved, clock = session.time, FakeClock(1_800_000_000)

    async def day():
        token, found = await session.makeToken("admin", "manage"), []
        for n in range(1, uses + 1):
            clock.now += every
            opened = await session.openSession(token)
            found.append((n * every, opened["expires"] - clock.now if opened else None))
        return found

    session.time = clock
    try:
        return run_coroutine(day())
    finally:
        session.time = saved


# ------------------------------------------------------------------ 22. a logout meets a refresh

def logout_meets_a_refresh(slug: str, under, where: str) -> dict:
    """Two workers of chapter `slug` on one session folder: its core/session.py loaded twice into this process,
    SESSION_REFRESH=0 (every guarded request refreshes). Worker A opens the session as the guard does
    (openSession); when its FileStore is about to enter `where` (`refresh`, or the refresh's `_write`: caught by
    a trace function, which changes nothing), worker B logs out (checkToken, then clearToken, as the logout
    does) in another thread; A waits until B has finished, or (`_write`) is about to take a file lock, and goes on."""
    folder = session_folder(under)
    folder.mkdir()
    a, b = (load_module(by_key(slug).path, folder, env={"SESSION_REFRESH": "0"}) for _ in "ab")
    token, other, news, met = run_coroutine(a.makeToken("admin", "manage")), {}, threading.Event(), {}

    async def logout():
        return await b.checkToken(token) == 0 and await b.clearToken(token)

    def log_out():
        try:
            other["logged out"] = bool(asyncio.run(logout()))
        finally:
            news.set()

    thread, code = threading.Thread(target=log_out), getattr(type(a.STORE), where).__code__

    def tracer(frame, event, arg):
        if event == "call" and frame.f_code is code and not met and frame.f_back.f_code.co_name in (
                "updataToken", "refresh"):
            # inside the refresh's lock (from logout-wins on) the logout must wait: then A goes on
            watching = [_ReachesALock(thread, news)] if where == "_write" else []
            _listeners.extend(watching)
            try:
                thread.start()
                news.wait(10)
            finally:
                for one in watching:
                    _listeners.remove(one)
            met["logout finished first"] = "logged out" in other

    def guard():
        sys.settrace(tracer)  # this thread only
        try:
            other["guard"] = asyncio.run(a.openSession(token))
        finally:
            sys.settrace(None)

    worker_a = threading.Thread(target=guard)
    worker_a.start()
    worker_a.join(30)
    assert met, "the guard never reached %s" % where
    thread.join(30)
    assert not (thread.is_alive() or worker_a.is_alive()), "still waiting after 30 s"
    return {"logged out": other["logged out"], "guard": other["guard"] is not None,
            "logout finished first": met["logout finished first"], "afterwards": run_coroutine(a.checkToken(token))}


# ------------------------------------------------------------------ 23. Redis at its limits

def many_at_once(port: int, request_bytes: bytes, clients: int = 400) -> collections.Counter:
    """`clients` connections, opened first, then each sends `request_bytes` at the same moment: (HTTP status,
    envelope status) -> how many. New connections wait in a queue of 100 (Sanic's backlog), one more waits a
    second; so after each 50, one more asks for a page that does not exist: once it is answered, the server
    has taken every connection queued before it (first in, first out)."""
    conns = []
    for n in range(clients):
        conns.append(Connection(port))
        if n % 50 == 49:
            probe = Connection(port)
            probe.one(b"GET /api/v1/be/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            probe.close()
    seen = collections.Counter()
    with selectors.DefaultSelector() as selector:
        for conn in conns:
            selector.register(conn.sock, selectors.EVENT_READ, conn)
            conn.sock.sendall(request_bytes)
        while sum(seen.values()) < clients:
            ready = selector.select(60)
            if not ready:
                raise TimeoutError("no answer within 60 s: %s" % dict(seen))
            seen.update(got.key for key, _ in ready for got in key.data.answers())
    for conn in conns:
        conn.close()
    return seen


def session_request(token: str) -> bytes:  # (what the back-office page sends to ask who is logged in)
    return ("GET /api/v1/be/session HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: session=%s\r\n\r\n" % token).encode()


def fill(redis_port: int) -> tuple:
    """Redis full, evicting nothing (noeviction): 1 MB written in database 0, then maxmemory set half a megabyte
    below what it uses (wide margins: its clients' buffers move that too): writes get OOM. (used, maxmemory)"""
    import redis

    client = redis.Redis(port=redis_port)
    try:
        before = client.info("memory")["used_memory"]
        for n in range(10):
            client.set("lab:filler:%d" % n, b"x" * 100_000)
        client.config_set("maxmemory-policy", "noeviction")
        client.config_set("maxmemory", before + 500_000)
        try:
            client.set("lab:one-more", "x")
            raise RuntimeError("Redis took one more write")
        except redis.exceptions.OutOfMemoryError:
            return client.info("memory")["used_memory"], before + 500_000
    finally:
        client.close()


def store_error(slug: str, under, value: str) -> str:
    """What chapter `slug`'s config.py says, when it starts, of SESSION_STORE=`value` (its SystemExit)."""
    try:
        load_module(by_key(slug).path, session_folder(under), "config", env={"SESSION_STORE": value})
    except SystemExit as stop:
        return str(stop)
    raise AssertionError("%s accepted SESSION_STORE=%r" % (slug, value))
