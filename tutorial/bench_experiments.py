"""The benchmark's experiments besides the load runs: several workers, the
password hash, session-file operations, one Redis GET, system calls, a cheap
request while clients log in, and the sweep on 100,000 files.

Each returns plain data for results.json; tutorial.bench runs them.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tutorial.bench_load import LOGIN, PREFIX, _fixed_requests, _login_once, _server_pids
from tutorial.bench_probe import probe
from tutorial.chapters import FINAL_DIR, by_key, step
from tutorial.lab_inside import hash_env, start_servers
from tutorial.server import ChapterServer

BENCH_SERVER = Path(__file__).resolve().parent / "bench_server.py"


@dataclass
class Target:
    chapter: str     # "05" or "final"
    store: str       # "file" (the chapter as it is), "redis" (the chapter with SESSION_STORE=redis://..., from the redis-store step on)
                     # or a bench_server store
    workers: int = 0  # Sanic workers; 0: the run's --workers

    @property
    def name(self) -> str:
        return "%s (%s%s)" % (self.chapter, self.store, ", %d workers" % self.workers if self.workers else "")

    @property
    def folder(self) -> Path:
        return FINAL_DIR if self.chapter == "final" else by_key(self.chapter).path

    @property
    def guarded(self) -> bool:
        """Has GET /api/v1/be/session, the guarded request (from the guard step on)."""
        return self.store in ("file", "redis") and by_key(self.chapter).number >= step("guard")

    def server(self, workers: int, session_dir: Path, redis_url: str = None) -> ChapterServer:
        workers = self.workers or workers
        if self.store in ("file", "redis"):
            env = {"SESSION_STORE": redis_url} if self.store == "redis" else {}
            return ChapterServer(self.folder, workers=workers, session_dir=session_dir, env=env)
        return ChapterServer(self.folder, workers=workers, session_dir=session_dir, script=BENCH_SERVER,
                             env={"BENCH_FOLDER": str(self.folder), "BENCH_STORE": self.store})


def multi_worker_logouts(workers: int, cycles: int = 200) -> dict:
    """Log in and out `cycles` times, one after another, each request on a new
    connection so that the workers share them out, as they share browsers' requests.
    With the file store every worker sees every session; with the memory store a
    logout answered by another worker than the login's does not know the session.
    Which worker takes a connection is up to the system: on a busy machine one
    worker may take them all for a while, so the memory store goes on (up to 25
    times as long) until a logout has met another worker, and the file store then
    gets as many cycles."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for t in (Target("05", "memory"), Target("05", "file")):
            with t.server(workers, Path(tmp) / re.sub(r"\W+", "-", t.name)) as server:
                failed = done = 0
                wanted = out["05 (memory)"]["cycles"] if out else cycles
                while done < wanted or (not out and not failed and done < cycles * 25):
                    done += 1
                    req = urllib.request.Request(server.base + PREFIX + "login", data=LOGIN.encode(), method="POST")
                    token = json.loads(urllib.request.urlopen(req, timeout=60).read())["data"]
                    req = urllib.request.Request(server.base + PREFIX + "logout", headers={"Cookie": "session=" + token})
                    try:
                        urllib.request.urlopen(req, timeout=60).read()
                    except urllib.error.HTTPError as err:
                        failed += err.code == 401
                out[t.name] = {"cycles": done, "failed_logouts": failed}
    return {name: out[name] for name in ("05 (file)", "05 (memory)")}


def password_hash_ms() -> float:
    """How long one check of final's password hash takes (its work factor)."""
    code = ("import time; from config import MANAGER; from core.tool import checkPassword;"
            "t = time.perf_counter(); checkPassword('123456', MANAGER['password']);"
            "print((time.perf_counter() - t) * 1000)")
    out = subprocess.run([sys.executable, "-B", "-c", code], cwd=FINAL_DIR, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"), timeout=120)
    return float(out.stdout.strip())


def write_costs(folder: Path, repeat: int = 200) -> dict:
    """Microseconds per session-file operation on the file system of `folder`:
    where a session's time goes, operation by operation."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "manage_probe"
    text = "0123456789abcdef0123456789abcdef,1700000000"
    path.write_text(text)

    def rewrite():            # chapters 01-05: open(path, 'w') empties the file, then writes it
        with open(path, "w") as f:
            f.write(text)

    def in_place():           # overwrite the same 43 bytes without emptying the file first
        fd = os.open(path, os.O_WRONLY)
        os.write(fd, text.encode())
        os.close(fd)

    def replace():            # chapter 08 on: a temporary file, then os.replace
        tmp = folder / ".tmp-probe"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)

    def read_text():          # chapters 02-05: os.path.exists, then open() and read()
        if os.path.exists(path):
            with open(path) as f:
                return f.read()

    def read_raw():           # chapter 08 on: os.open, os.read, os.close
        fd = os.open(path, os.O_RDONLY)
        try:
            return os.read(fd, 64)
        finally:
            os.close(fd)

    costs = {}
    for name, op in (("rewrite with 'w' (01-05)", rewrite), ("overwrite in place", in_place),
                     ("temp file + os.replace (06)", replace), ("exists + open().read() (02-05)", read_text),
                     ("os.open + os.read (06)", read_raw)):
        op()
        started = time.perf_counter()
        for _ in range(repeat):
            op()
        costs[name] = (time.perf_counter() - started) / repeat * 1e6
    return costs


def redis_get_costs(repeat: int = 20000) -> dict:
    """CPU microseconds per GET of a session key, on a Redis server started here:
    through redis-py's asyncio client as the Redis store calls it, and written and
    read on a bare asyncio connection. The difference is what the client
    library adds to each request of the Redis store; the bare GET is what the
    round trip itself costs this process. On Sanic's event loop (uvloop when
    installed)."""
    import asyncio

    from redis.asyncio import Redis

    from tutorial.redis_server import RedisServer

    key = b"session:manage:admin"
    command = b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(key), key)

    async def per_call(call):
        await call()
        started = time.process_time()
        for _ in range(repeat):
            await call()
        return (time.process_time() - started) / repeat * 1e6

    async def both(server):
        client = Redis.from_url(server.url, decode_responses=True, socket_timeout=None)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)

        async def bare():
            writer.write(command)
            return await reader.readline()  # (the key holds nothing: one line, "$-1")
        try:
            return {"redis-py asyncio client": await per_call(lambda: client.get(key.decode())),
                    "bare asyncio connection": await per_call(bare)}
        finally:
            writer.close()
            await client.aclose()

    try:
        import uvloop
        run = uvloop.run
    except ImportError:
        run = asyncio.run
    with RedisServer() as server:
        return run(both(server))


def syscalls_per_request(server: ChapterServer, paths, requests: int = 100) -> dict:
    """System calls a one-worker server makes per request on each path
    (strace -f -c), to see where a file-based session's time goes. Empty when
    strace is missing (Debian: apt install strace)."""
    if not shutil.which("strace") or not sys.platform.startswith("linux"):
        return {}
    counts = {}
    with tempfile.TemporaryDirectory() as tmp:
        _login_once(server.base)
        for path in paths:
            log_file = Path(tmp) / ("strace-%s.txt" % path)
            tracer = subprocess.Popen(["strace", "-f", "-c", "-o", str(log_file), "-p", str(server.process.pid)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            tracer.stderr.readline()  # "strace: Process N attached": it is listening now
            _fixed_requests(server, path, requests)
            tracer.terminate()
            tracer.wait()
            counts[path] = _strace_total(log_file) / requests
    return counts


def _strace_total(log_file: Path) -> int:
    """The number of calls on the 'total' line of `strace -c` output."""
    for line in log_file.read_text().splitlines() if log_file.exists() else []:
        fields = line.split()
        if fields and fields[-1] == "total":
            return int(fields[3])
    return -1


# ------------------------------------------------------------------ a cheap request while clients log in

def login_pressure(rounds: int, seconds: float, clients: int = 4, every: float = 0.01, iterations: int = 0,
                   log=print) -> dict:
    """A cheap request (a logout with a wrong cookie) every `every` seconds on a
    one-worker server, for `seconds`: first idle, then while `clients` clients
    log in without a pause. On the chapter before the fix (10-password-hash: the
    hash on the event loop), the chapter with it (11-hash-thread: the hash in a
    thread) and final/. Servers take turns, round after round. The password hash
    has the real work factor (600,000 iterations), unless `iterations` says
    otherwise (a quick look)."""
    before, fix = by_key("password-hash"), by_key("hash-thread")
    folders = {before.slug: before.path, fix.slug: fix.path, "final": FINAL_DIR}
    runs = {name: {"idle": [], "logins": []} for name in folders}
    env = hash_env(iterations) if iterations else {}
    with tempfile.TemporaryDirectory() as tmp:
        servers = {name: ChapterServer(folder, session_dir=Path(tmp) / name, env=env)
                   for name, folder in folders.items()}
        try:
            start_servers(servers.values())
            for r in range(rounds):
                for name, server in servers.items():
                    for phase, n in (("idle", 0), ("logins", clients)):
                        run = probe(server.base, seconds, every, n, _server_pids(server))
                        _login_once(server.base)  # answered after the logins still in flight: the server is idle again
                        runs[name][phase].append(run)
                        log("round %d  %-20s %-6s  cheap request p50 %7.2f ms  p99 %8.2f ms  max %8.2f ms  logins %d"
                            % (r + 1, name, phase, run["p50_ms"], run["p99_ms"], run["max_ms"], run["logins"]))
        finally:
            for server in servers.values():
                server.stop()
    return {"clients": clients, "seconds": seconds, "rounds": rounds, "every_ms": every * 1000, "workers": 1,
            "iterations": iterations or None, "runs": runs}


# ------------------------------------------------------------------ the sweep on 100,000 files

def plant_files(folder: Path, files: int) -> dict:
    """`files` files in a session folder: 90% live sessions, 9% expired ones,
    1% files that are not sessions (two hours old). Returns the counts."""
    folder.mkdir(parents=True, exist_ok=True)
    now = int(time.time())
    counts = {"live": files * 90 // 100, "expired": files * 9 // 100}
    counts["other"] = files - counts["live"] - counts["expired"]
    for i in range(files):
        if i < counts["live"] + counts["expired"]:
            name = "manage_" + hashlib.md5(b"user%d" % i).hexdigest()
            saved = now if i < counts["live"] else now - 7200
            content = "%s,%d" % (secrets.token_hex(16), saved)
        else:
            name, content = "notes-%d.txt" % i, "not a session"
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, content.encode())
        os.close(fd)
        if not name.startswith("manage_"):
            os.utime(folder / name, (now - 7200, now - 7200))
    return counts


def sweep_cost(files: int, seconds: float, every: float = 0.01, log=print) -> dict:
    """final's sweep on a folder of `files` files: one sweep timed in a process
    of its own (what it removed and kept), then a cheap request's latency on a
    one-worker server whose sweeper goes through that folder every second,
    against the same server with no sweep due."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "temp"
        started = time.perf_counter()
        counts = plant_files(folder, files)
        log("planted %d files in %.1f s" % (files, time.perf_counter() - started))
        code = ("import json, time; from core.session import sweepTokens; t = time.perf_counter(); "
                "n = sweepTokens(); print(json.dumps({'removed': n, 'seconds': time.perf_counter() - t}))")
        done = subprocess.run([sys.executable, "-B", "-c", code], cwd=FINAL_DIR, capture_output=True, text=True,
                              env=dict(os.environ, SESSION_DIR=str(folder), PYTHONDONTWRITEBYTECODE="1"), timeout=600)
        if done.returncode:
            raise RuntimeError(done.stderr)
        sweep = json.loads(done.stdout)
        left = [name for name in os.listdir(folder) if name != "session_lock"]  # (the store's lock file, 32 on)
        kept_other = sum(1 for name in left if name.startswith("notes-"))
        log("one sweep of %d files: %.2f s, removed %d" % (files, sweep["seconds"], sweep["removed"]))
        probes = {}
        for name, due in (("no sweep due", "86400"), ("sweeping every second", "1")):
            with ChapterServer(FINAL_DIR, session_dir=folder, env={"SESSION_SWEEP_EVERY": due}) as server:
                probes[name] = probe(server.base, seconds, every, 0, _server_pids(server))
            log("%-22s cheap request p50 %6.2f ms  p99 %7.2f ms  server CPU %3.0f%%" % (
                name, probes[name]["p50_ms"], probes[name]["p99_ms"], probes[name]["server_cpu"] * 100))
    return {"files": files, "planted": counts, "seconds": sweep["seconds"], "removed": sweep["removed"],
            "left": len(left), "other_kept": kept_other, "probe_seconds": seconds, "probes": probes}
