"""The benchmark's load generators: wrk, or a Python one.

Used by tutorial.bench (python -m tutorial.bench). Every function here sends
requests to a running server and measures what comes back; what to run and
what to make of the numbers are in tutorial.bench and tutorial.bench_stats.
The paced probe (latency while others log in) is in tutorial.bench_probe.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tutorial.bench_stats import percentile
from tutorial.server import ChapterServer

PREFIX = "/api/v1/be/"
LOGIN = '{"account":"admin","password":"123456"}'
NO_PASSWORD = '{"account":"admin"}'
WRONG_COOKIE = "session=admin|manage|0123456789abcdef0123456789abcdef"
PATHS = ("no-io", "check", "session", "login", "cycle")
ENDPOINT = {"check": "logout", "session": "session"}  # (the others: login)
CONNECTIONS = 4  # per worker: enough to keep a worker busy while one request is on its way


@dataclass
class Run:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int            # answers other than the path's normal one (a cycle's failed logouts)
    generator_cpu: float   # CPU seconds the load generator used per second (1.0 = one full core)
    server_cpu: float      # the same for the server's processes, where the OS tells (else -1)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0



# ------------------------------------------------------------------ load generators

_LUA = {
    "common": """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests": %d, "seconds": %f, "p50_us": %d, "p99_us": %d, "bad": %d, "socket": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
""",
    "no-io": 'wrk.method = "POST"\nwrk.body = \'%s\'\n' % NO_PASSWORD,
    "check": 'wrk.headers["Cookie"] = "%s"\n' % WRONG_COOKIE.replace('"', '\\"'),
    "session": 'wrk.headers["Cookie"] = "session=%(token)s"\n',  # a guarded request with a valid session
    "login": 'wrk.method = "POST"\nwrk.body = \'%s\'\n' % LOGIN,
    # one connection per wrk thread, so each thread's `token` is its own connection's
    "cycle": """
local token = nil
request = function()
  if token then
    local r = wrk.format("GET", "%slogout", {Cookie = "session=" .. token})
    token = nil
    return r
  end
  return wrk.format("POST", "%slogin", nil, '%s')
end
response = function(status, headers, body)
  local t = body:match('"data":"([^"]*|[^"]*)"')
  if t then token = t end
end
""" % (PREFIX, PREFIX, LOGIN),
}

# The answer each path normally gets: anything else counts as failed. (A check
# is meant to fail with 401; a cycle's logout is meant to succeed.)
_EXPECTED_FAILURES = {"check": True}


def _process_cpu(pids) -> float:
    """CPU seconds used so far by these processes and their children (Linux /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for pid in pids:
        try:
            fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15]) / tick  # utime stime cutime cstime
        except (OSError, IndexError, ValueError):
            return -1.0
    return total


def _server_pids(server: ChapterServer) -> list:
    pids = [server.process.pid]
    try:
        children = Path("/proc/%d/task/%d/children" % (pids[0], pids[0])).read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    return pids


def run_wrk(base: str, path: str, seconds: float, connections: int, server_pids, token: str = None) -> Run:
    """`token`: the session the guarded path sends."""
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write((_LUA.get(path, "") % {"token": token} if path == "session" else _LUA.get(path, "")) + _LUA["common"])
    script.close()
    endpoint = ENDPOINT.get(path, "login")
    args = ["wrk", "-t%d" % connections, "-c%d" % connections, "-d%ds" % max(1, round(seconds)),
            "--timeout", "30s", "-s", script.name, base + PREFIX + endpoint]
    server_before = _process_cpu(server_pids)
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    out = proc.stdout.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    os.unlink(script.name)
    server_after = _process_cpu(server_pids)
    match = re.search(r"WRK (\{.*\})", out)
    if not match:
        raise RuntimeError("wrk gave no result:\n%s%s" % (out, proc.stderr.read()))
    r = json.loads(match.group(1))
    failed = 0 if _EXPECTED_FAILURES.get(path) else r["bad"]
    return Run(r["requests"], r["seconds"], r["p50_us"] / 1000, r["p99_us"] / 1000, failed + r["socket"],
               (usage.ru_utime + usage.ru_stime) / wall,
               (server_after - server_before) / wall if server_before >= 0 <= server_after else -1.0)


class _Connection:
    """One keep-alive HTTP/1.1 connection of the Python load generator."""

    def __init__(self, reader, writer, path, session=None):
        self.reader, self.writer, self.path = reader, writer, path
        self.token = None
        self.session = session  # the guarded path's session token

    @staticmethod
    def _post(body: str) -> bytes:
        return b"POST %slogin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n%s" % (
            PREFIX.encode(), len(body), body.encode())

    @staticmethod
    def _get(cookie: str, endpoint: str = "logout") -> bytes:
        return b"GET %s%s HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\n\r\n" % (PREFIX.encode(), endpoint.encode(),
                                                                             cookie.encode())

    def request(self) -> bytes:
        if self.path == "no-io":
            return self._post(NO_PASSWORD)
        if self.path == "login":
            return self._post(LOGIN)
        if self.path == "check":
            return self._get(WRONG_COOKIE)
        if self.path == "session":
            return self._get("session=" + self.session, "session")
        if self.token is None:  # cycle: log in, then log out with the token that login gave
            return self._post(LOGIN)
        cookie, self.token = "session=" + self.token, None
        return self._get(cookie)

    async def answer(self) -> tuple:
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
        body = await self.reader.readexactly(length)
        if self.path == "cycle":
            found = re.search(rb'"data":"([^"]*\|[^"]*)"', body)
            if found:
                self.token = found.group(1).decode()
        return status, body


async def _python_load(host, port, path, seconds, connections, token=None):
    """Keep `connections` connections busy until `seconds` have passed; answers
    still on their way then are not counted (as wrk does). Each connection is
    opened and answered once before the clock starts, so the window measures
    requests, not connecting and the server's first-request work. Returns the
    latencies, the failures and the window's length."""
    latencies, failed = [], 0

    async def opened():
        reader, writer = await asyncio.open_connection(host, port)
        conn = _Connection(reader, writer, path, token)
        writer.write(conn.request())
        await conn.answer()
        return conn

    async def one(conn):
        nonlocal failed
        try:
            while True:
                started = time.perf_counter()
                conn.writer.write(conn.request())
                status, _ = await conn.answer()
                latencies.append(time.perf_counter() - started)
                if status >= 300 and not _EXPECTED_FAILURES.get(path):
                    failed += 1
        finally:
            conn.writer.close()

    conns = await asyncio.gather(*(opened() for _ in range(connections)))
    started = time.perf_counter()
    await _for(seconds, *(one(conn) for conn in conns))
    return latencies, failed, min(time.perf_counter() - started, seconds)


async def _for(seconds, *loops):
    """Run endless coroutines for `seconds`, then stop them; one that ended
    early failed, and its exception is raised to say why."""
    tasks = [asyncio.ensure_future(loop) for loop in loops]
    done, _ = await asyncio.wait(tasks, timeout=seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        if task.exception():
            raise task.exception()


def _run_async(coroutine):
    """asyncio.run, also where an event loop already runs in this thread (a
    Jupyter kernel): then in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def run_python(base: str, path: str, seconds: float, connections: int, server_pids, token: str = None) -> Run:
    host, port = base.split("//")[1].split(":")
    server_before = _process_cpu(server_pids)
    cpu_before = time.process_time()  # (the warm-up counts too: an upper bound)
    latencies, failed, wall = _run_async(_python_load(host, int(port), path, seconds, connections, token))
    cpu = time.process_time() - cpu_before
    server_after = _process_cpu(server_pids)
    latencies.sort()
    return Run(len(latencies), wall, percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000, failed, cpu / wall,
               (server_after - server_before) / wall if server_before >= 0 <= server_after else -1.0)


def generator(name: str):
    if name == "auto":
        name = "wrk" if shutil.which("wrk") else "python"
    return name, {"wrk": run_wrk, "python": run_python}[name]


def _drain(base: str) -> None:
    """Wait until the server has finished what the last run left in flight (a
    slow login keeps one worker busy after the load stops), so the next run
    starts on an idle machine. A worker answers requests in turn, so the answer
    to this one comes after theirs."""
    req = urllib.request.Request(base + PREFIX + "login", data=NO_PASSWORD.encode(), method="POST")
    urllib.request.urlopen(req, timeout=300).read()


def _login_once(base: str) -> str:
    """A session for the check path to find (it reads it, never changes it), and
    the token the guarded path sends."""
    req = urllib.request.Request(base + PREFIX + "login", data=LOGIN.encode(), method="POST")
    return json.loads(urllib.request.urlopen(req, timeout=60).read())["data"]


def _fixed_requests(server: ChapterServer, path: str, n: int) -> None:
    """`n` requests of one path over one keep-alive connection (Python client)."""
    async def go():
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        conn = _Connection(reader, writer, path)
        for _ in range(n):
            writer.write(conn.request())
            await conn.answer()
        writer.close()

    _run_async(go())
