"""The security lab's logins at the same moment (sections 12 to 15 of
notebooks/04-security-lab.ipynb): many logins sent over keep-alive connections
by one thread (a selector on raw sockets: the client costs far less CPU than the
servers it measures), an hour of guesses sent many at once on a clock moved by
hand (one attempt: lab_inside.attempt), and an owner who logs in while another
address guesses. tutorial/lab.py starts the servers.
"""
from __future__ import annotations

import asyncio
import collections
import json
import re
import selectors
import socket
import time
from dataclasses import dataclass

from tutorial.chapters import by_key
from tutorial.lab import session_folder
from tutorial.lab_inside import FakeClock, attempt, load_module, run_coroutine

LOGIN = "/api/v1/be/login"
RIGHT, WRONG = "123456", "wrong guess"


def login_request(password: str, account: str = "admin", cookie: str = None) -> bytes:
    """The bytes of one login, as a browser's script sends it."""
    body = json.dumps({"account": account, "password": password}).encode()
    head = "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % (
        LOGIN, len(body))
    if cookie:
        head += "Cookie: %s\r\n" % cookie
    return head.encode() + b"\r\n" + body


@dataclass
class Answer:
    status: int          # HTTP status
    code: int            # the envelope's status (0: logged in, 400: wrong password, 429: throttled)
    retry_after: str     # the Retry-After header, or ""
    cookies: dict        # name -> value of every Set-Cookie

    @property
    def key(self) -> tuple:
        return self.status, self.code


HEADER = re.compile(rb"(?im)^([a-z-]+): *(.*?)\r?$")


class Connection:
    """One keep-alive connection to a server on 127.0.0.1, from `source` (another
    loopback address: on Linux every 127.x.y.z is this machine, a server bound to
    127.0.0.1 accepts connections from any of them, and the app sees that address;
    macOS needs `sudo ifconfig lo0 alias 127.0.0.2` first)."""

    def __init__(self, port: int, source: str = "127.0.0.1"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60, source_address=(source, 0))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def answers(self) -> list:
        """Receive once (the socket is readable) and return the answers complete by now."""
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.buffer += data
        done = []
        while b"\r\n\r\n" in self.buffer:
            head, rest = self.buffer.split(b"\r\n\r\n", 1)
            headers = [(k.lower(), v) for k, v in HEADER.findall(head)]
            length = int(dict(headers).get(b"content-length", b"0"))
            if len(rest) < length:
                break
            body, self.buffer = rest[:length], rest[length:]
            cookies = dict(v.split(b";")[0].decode().split("=", 1) for k, v in headers if k == b"set-cookie")
            done.append(Answer(int(head.split(b" ", 2)[1]), json.loads(body)["status"],
                               dict(headers).get(b"retry-after", b"").decode(), cookies))
        return done

    def one(self, request: bytes) -> Answer:
        """Send one request and wait for its answer."""
        self.sock.sendall(request)
        while True:
            done = self.answers()
            if done:
                return done[0]

    def close(self):
        self.sock.close()


@dataclass
class Logins:
    answers: collections.Counter  # (HTTP status, envelope status) -> how many
    seconds: float

    @property
    def total(self) -> int:
        return sum(self.answers.values())

    @property
    def refused(self) -> int:
        return self.answers[(429, 429)]


def many_logins(port: int, request: bytes, clients: int = 16, each: int = 100) -> Logins:
    """`clients` connections at once, each sending `request` `each` times, the
    next as soon as the answer to the one before is in: a count of logins,
    however long they take. One thread waits for whichever connection is answered."""
    conns = [Connection(port) for _ in range(clients)]
    left = {conn: each for conn in conns}
    seen = collections.Counter()
    with selectors.DefaultSelector() as selector:
        started = time.perf_counter()
        for conn in conns:
            selector.register(conn.sock, selectors.EVENT_READ, conn)
            conn.sock.sendall(request)
        while left:
            ready = selector.select(60)
            if not ready:
                raise TimeoutError("no answer within 60 s; still waiting for %d logins" % sum(left.values()))
            for key, _ in ready:
                conn = key.data
                for answer in conn.answers():
                    seen[answer.key] += 1
                    left[conn] -= 1
                    if left[conn]:
                        conn.sock.sendall(request)
                    else:
                        del left[conn]
                        selector.unregister(conn.sock)
        seconds = time.perf_counter() - started
    for conn in conns:
        conn.close()
    return Logins(seen, seconds)


# ------------------------------------------------------------------ 13, 14. a guessing hour, many guesses at once

START = 1_800_000_000  # the simulated hour's first second


def database(redis, number: int) -> str:
    """SESSION_STORE for database `number` (1 to 15) of a redis-server (tutorial/redis_server.py): several
    servers, or simulated hours, on one redis-server, none of them seeing another's sessions and counters."""
    return "redis://127.0.0.1:%d/%d" % (redis.port, number)


def inside(slug: str, under, store: str = "file"):
    """A chapter's core/session.py loaded into this process (lab_inside.load_module), with a session folder
    of its own, made inside `under`, and `store` its SESSION_STORE (file, or redis://...)."""
    folder = session_folder(under)
    folder.mkdir()
    return load_module(by_key(slug).path, folder, env={"SESSION_STORE": store})


async def _a_moment():
    await asyncio.sleep(0)  # the password check: the other guesses of the batch begin meanwhile


async def _batch(session, addresses: list) -> list:
    """Guesses sent at the same moment, one from each address: each is checked only once every guess of the
    batch has had the store's first answer (let in, queued or refused), as when all arrive before any hash is
    done. (Letting the event loop turn once was not enough with Redis: on a busy machine, one guess's answer
    could come back after another's failure had been recorded.)"""
    store = getattr(session, "STORE", None)
    if store is None:  # (before the store's shape, step 19: the counters answer at once, in this thread)
        return await asyncio.gather(*(attempt(session, address, check=_a_moment) for address in addresses))
    real, arrived, everyone = store.holdLogin, set(), asyncio.Event()

    async def hold(*args):
        try:
            return await real(*args)
        finally:
            arrived.add(asyncio.current_task())
            if len(arrived) == len(addresses):
                everyone.set()

    store.holdLogin = hold
    try:
        return await asyncio.gather(*(attempt(session, address, check=everyone.wait) for address in addresses))
    finally:
        del store.holdLogin  # (the class's own method again)


async def _parallel_hour(session, clock: FakeClock, at_once: int, new_addresses: bool, seconds: int) -> list:
    checked, sent = [], 0
    while clock.now - START < seconds:
        if new_addresses:  # every guess from an address never seen before
            addresses = ["10.%d.%d.%d" % ((sent + n) >> 16, (sent + n) >> 8 & 255, (sent + n) & 255)
                         for n in range(at_once)]
        else:
            addresses = ["203.0.113.9"] * at_once
        sent += at_once
        waits = await _batch(session, addresses)
        checked += [clock.now - START] * waits.count(0)
        refused = [wait for wait in waits if wait]
        clock.now += min(refused) if refused else 1  # as soon as Retry-After allows (or a second later)
    return checked


def parallel_hours(sessions: dict, at_once: int = 16, seconds: int = 3600) -> dict:
    """A simulated hour for each {name: (a chapter's core/session.py, new_addresses)},
    all at once: an attacker sends `at_once` wrong passwords at the same moment
    (each begins before any has been checked: lab_inside.attempt), then the next
    batch as soon as the Retry-After of the refused ones allows. With
    `new_addresses` every guess comes from an address never seen before. The
    clock is moved by hand (lab_inside.FakeClock); a chapter that queues
    attempts (attempts-under-way) waits a few real milliseconds for its queue.
    {name: [the second of each guess that got as far as the password check]}"""
    clocks = {name: FakeClock(START) for name in sessions}
    saved = {name: session.time for name, (session, _) in sessions.items()}

    async def hours():
        try:
            found = await asyncio.gather(*(_parallel_hour(session, clocks[name], at_once, many, seconds)
                                           for name, (session, many) in sessions.items()))
        finally:  # (a Redis store's connections belong to this event loop, which ends here)
            for session, _ in sessions.values():
                if hasattr(session.STORE, "close"):
                    await session.STORE.close()
        return dict(zip(sessions, found))

    for name, (session, _) in sessions.items():
        session.time = clocks[name]
    try:
        return run_coroutine(hours())
    finally:
        for name, (session, _) in sessions.items():
            session.time = saved[name]


def per_minute(checked: list, minutes: int = 60) -> list:
    return [sum(1 for s in checked if m * 60 <= s < (m + 1) * 60) for m in range(minutes)]


ONE_ADDRESS, NEW_ADDRESSES = "一个地址 / one address", "每个猜测一个新地址 / a new address for every guess"


def hour_rows(hours: dict) -> list:
    """Sections 13 and 14: a row of a table for each {(slug, new_addresses): what parallel_hours found}:
    where the guesses came from, how many of the first batch were checked, the first five minutes, the hour."""
    rows = []
    for (slug, new_addresses), checked in hours.items():
        whence = NEW_ADDRESSES if new_addresses else ONE_ADDRESS
        minutes = " · ".join(str(n) for n in per_minute(checked, 5))
        rows.append([f"`{slug}`", whence, checked.count(0), minutes, f"{len(checked):,}"])
    return rows


# ------------------------------------------------------------------ 15. the owner, while another address guesses

@dataclass
class Lockout:
    first: Answer                   # the owner's login before the guessing began
    guesses: collections.Counter    # the guesser's answers: (HTTP status, envelope status) -> how many
    owner: Answer                   # the owner's login while the account must wait
    guesser_then: Answer            # one more guess, right after the owner's login


def owner_while_another_guesses(port: int, interval: float = 0.05, patience: float = 30) -> Lockout:
    """The owner logs in at 127.0.0.1 and keeps whatever cookie the server gives
    for it (from the device-cookies step on, a device cookie). Then a guesser at
    127.0.0.2 sends a wrong password every `interval` seconds until it is answered
    429 with 2 s or more still to wait, so that the owner's login, sent right
    after, falls inside that wait even on a busy machine (for `patience` seconds
    at most). Then the owner logs in again, with the right password, and the
    guesser tries once more."""
    with_owner = Connection(port, "127.0.0.1")
    first = with_owner.one(login_request(RIGHT))
    with_owner.close()
    device = first.cookies.get("device")
    guesser = Connection(port, "127.0.0.2")
    seen, deadline = collections.Counter(), time.monotonic() + patience
    while True:
        answer = guesser.one(login_request(WRONG))
        seen[answer.key] += 1
        if answer.status == 429 and int(answer.retry_after) >= 2:
            break
        if time.monotonic() > deadline:
            raise RuntimeError("no 429 with 2 s or more to wait within %s s: %s" % (patience, dict(seen)))
        time.sleep(interval)
    with_owner = Connection(port, "127.0.0.1")  # (a new connection: the browser's is long closed)
    owner = with_owner.one(login_request(RIGHT, cookie="device=" + device if device else None))
    with_owner.close()
    then = guesser.one(login_request(WRONG))
    guesser.close()
    return Lockout(first, seen, owner, then)


# ------------------------------------------------------------------ 16. made-up accounts, one file each

def made_up_accounts(session, n: int) -> dict:
    """`n` wrong logins from one address at one moment (the clock stands still), each for an account nobody
    has, through the chapter's own throttle (lab_inside.attempt): how many were refused, and the login
    counter files they left in the chapter's session folder, with the disk space those take."""
    from pathlib import Path

    async def send():
        return [await attempt(session, "203.0.113.9", account="nobody%d" % i) for i in range(n)]

    saved, session.time = session.time, FakeClock(START)
    try:
        waits = run_coroutine(send())
    finally:
        session.time = saved
    files = [p for p in Path(session.SESSION_DIR).iterdir() if p.name.startswith("login_")]
    return {"refused": sum(1 for wait in waits if wait), "files": len(files),
            "bytes": sum(p.stat().st_blocks * 512 for p in files)}
