"""The security lab's attacks that are HTTP requests to a real chapter server
(sections 2, 3, 6 and 7 of notebooks/04-security-lab.ipynb; tutorial/lab.py
starts the servers)."""
from __future__ import annotations

import collections
import http.client
import json
import random
import re
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tutorial.lab import ADMIN_MD5

LOGIN_BODY = b'{"account":"admin","password":"123456"}'
WRONG_COOKIE = "session=admin|manage|0123456789abcdef0123456789abcdef"


# ------------------------------------------------------------------ 2. hostile cookies and requests

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
        ("10 MB", b'{"account":"admin","password":"' + b"1" * 10000000 + b'"}'),
        ("path in the account", b'{"account":"../../etc/passwd","password":"123456"}'),
    ]


def hostile_requests() -> list:
    """(name, method, path, body): the hostile bodies sent to the login, and two
    requests the app has no route for."""
    login = "/api/v1/be/login"
    return ([("unknown path", "GET", "/api/v1/be/nothing", b""), ("wrong method", "POST", "/api/v1/be/logout", b"")]
            + [(name, "POST", login, body) for name, body in hostile_bodies()])


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes

    @property
    def envelope(self):
        """(status, data) of a {"data": ..., "status": ...} answer, or None."""
        try:
            found = json.loads(self.body)
        except ValueError:
            return None
        if not isinstance(found, dict) or set(found) != {"data", "status"}:
            return None
        return found["status"], found["data"]

    def __str__(self):
        if self.envelope is None:
            return "%d · %s" % (self.status, self.content_type.split(";")[0] or "-")
        return "%d · %s · %s" % ((self.status,) + self.envelope)


def send(port: int, method: str, path: str, body: bytes = b"", cookie: bytes = None) -> Answer:
    """One request with any bytes at all (HTTP clients refuse to send some, such as
    a null byte in a cookie; an attacker's own program does not). A server that
    answers before it has read the whole body (413) is not sent the rest."""
    head = b"%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\nConnection: close\r\n" % (
        method.encode(), path.encode(), len(body))
    if cookie is not None:
        head += b"Cookie: session=%s\r\n" % cookie
    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head + b"\r\n")
        view, sent = memoryview(body), 0
        try:
            while sent < len(body) and not select.select([sock], [], [], 0)[0]:
                select.select([], [sock], [], 60)
                sent += sock.send(view[sent:sent + 262144])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early and closed: its answer is still there to read
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
    head, _, rest = data.partition(b"\r\n\r\n")
    found = re.search(rb"(?im)^content-type: *(.*?)\r?$", head)
    return Answer(int(head.split(b" ")[1]), found.group(1).decode() if found else "", rest)


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


# ------------------------------------------------------------------ 3. race: login/logout on several workers

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
    for _ in range(rounds):
        conn.request("POST", "/api/v1/be/login", body=LOGIN_BODY)
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


# ------------------------------------------------------------------ 6. the hash and the event loop

@dataclass
class DuringLogin:
    login_status: int
    login_seconds: float
    cheap_answers: int       # cheap requests answered while the login was still running
    longest_wait_ms: float   # the longest a cheap request waited for its answer


def cheap_answers_during_login(port: int, body: bytes = LOGIN_BODY) -> DuringLogin:
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


# ------------------------------------------------------------------ 7. guessing passwords

def guess_one_at_a_time(port: int, guesses: int = 40, connections: int = 4,
                        account: str = "admin") -> collections.Counter:
    """`guesses` wrong passwords for `account`, over `connections` connections
    taken in turn (on several workers, each may reach another worker), each
    guess sent once the one before is answered, so that no two meet (section 8
    is about guesses that do): how many answers of each (HTTP status, body status).
    A number of guesses, not a time: a busy machine makes them slower, not fewer."""
    body = json.dumps({"account": account, "password": "wrong guess"}).encode()
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(connections)]
    seen = collections.Counter()
    for turn in range(guesses):
        conn = conns[turn % connections]
        conn.request("POST", "/api/v1/be/login", body=body)
        res = conn.getresponse()
        seen[(res.status, json.loads(res.read())["status"])] += 1
    for conn in conns:
        conn.close()
    return seen


def right_password_after_a_guess(port: int, account: str = "admin") -> tuple:
    """The right password, sent right after a wrong one that was either checked
    (no throttle) or answered 429 with at least 2 s still to wait: then it falls
    inside that wait even on a busy machine, as long as it arrives within a
    second (after a 429 with 1 s left, the next attempt may come after the wait).
    Returns (its Answer, its Retry-After or None)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    wrong = json.dumps({"account": account, "password": "wrong guess"}).encode()
    for _ in range(10000):
        conn.request("POST", "/api/v1/be/login", body=wrong)
        res = conn.getresponse()
        res.read()
        if res.status != 429 or int(res.getheader("Retry-After")) >= 2:
            break
    conn.request("POST", "/api/v1/be/login", body=json.dumps({"account": account, "password": "123456"}).encode())
    res = conn.getresponse()
    answer = Answer(res.status, res.getheader("Content-Type", ""), res.read())
    conn.close()
    return answer, res.getheader("Retry-After")
