"""The benchmark's measurement: every path against every target, in turns,
and the medians and ratios over the rounds; the side experiments (several
workers, the password hash, file operations, system calls).

Part of `python -m tutorial.bench` (see tutorial/bench.py).
"""
from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict
from pathlib import Path

from tutorial.bench_load import (LOGIN, NO_PASSWORD, PREFIX, CONNECTIONS, Target, _Connection, _run_async,
                                 _server_pids, generator)
from tutorial.chapters import FINAL_DIR
from tutorial.server import ChapterServer


# ------------------------------------------------------------------ the measurement

def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        model = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
        cpu = model.group(1).strip() if model else cpu
    except OSError:
        pass
    import sanic

    return {"cpu": cpu, "cores": os.cpu_count(), "os": platform.platform(terse=True),
            "python": platform.python_version(), "sanic": sanic.__version__}


def _drain(base: str) -> None:
    """Wait until the server has finished what the last run left in flight (a
    slow login keeps one worker busy after the load stops), so the next run
    starts on an idle machine. A worker answers requests in turn, so the answer
    to this one comes after theirs."""
    req = urllib.request.Request(base + PREFIX + "login", data=NO_PASSWORD.encode(), method="POST")
    urllib.request.urlopen(req, timeout=300).read()


def _login_once(base: str) -> None:
    """A session for the check path to find (the check path reads it, never changes it)."""
    req = urllib.request.Request(base + PREFIX + "login", data=LOGIN.encode(), method="POST")
    urllib.request.urlopen(req, timeout=60).read()


def measure(targets, paths, workers, seconds, rounds, gen_name, connections=CONNECTIONS, log=print,
            traced=0) -> dict:
    """Run every path against every target, alternating; afterwards, when
    `traced`, count the system calls of `traced` requests per path (file stores)."""
    gen_name, load = generator(gen_name)
    results = {t.name: {p: [] for p in paths} for t in targets}
    syscalls = {}
    with tempfile.TemporaryDirectory() as tmp:
        servers = {}
        try:
            for t in targets:
                folder = Path(tmp) / re.sub(r"\W+", "-", t.name)
                servers[t.name] = t.server(workers, folder).launch()
            for server in servers.values():
                server.wait_ready(60)
            for r in range(rounds):
                for path in paths:
                    for t in targets:
                        server = servers[t.name]
                        if path == "check":
                            _login_once(server.base)
                        run = load(server.base, path, seconds, connections, _server_pids(server))
                        _drain(server.base)
                        results[t.name][path].append(asdict(run) | {"rps": run.rps})
                        log("round %d  %-7s %-16s %8.0f req/s  p50 %7.2f ms  p99 %8.2f ms  failed %d"
                            % (r + 1, path, t.name, run.rps, run.p50_ms, run.p99_ms, run.failed))
            if traced:
                for t in targets:
                    if t.store == "file":
                        syscalls[t.name] = syscalls_per_request(servers[t.name], ["no-io", "check", "login"], traced)
        finally:
            for server in servers.values():
                server.stop()
        for server in servers.values():
            server.check_stopped()  # a bad exit shows the server's whole output
    return {"generator": gen_name, "connections": connections, "workers": workers, "seconds": seconds,
            "rounds": rounds, "targets": [t.name for t in targets], "paths": list(paths), "runs": results,
            "syscalls": syscalls}


def summarise(data: dict) -> dict:
    """Medians over the rounds, and each path's ratio to no-io (ratios taken per round)."""
    out = {}
    for name, paths in data["runs"].items():
        out[name] = {}
        for path, runs in paths.items():
            s = {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50_ms", "p99_ms", "generator_cpu", "server_cpu")}
            s["failed"] = sum(r["failed"] for r in runs)
            s["requests"] = sum(r["requests"] for r in runs)
            if "no-io" in paths:
                s["ratio"] = statistics.median(r["rps"] / b["rps"] if b["rps"] else 0.0
                                               for r, b in zip(runs, paths["no-io"]))
            out[name][path] = s
    return out


def multi_worker_logouts(workers: int, cycles: int = 200) -> dict:
    """Log in and out `cycles` times, one after another, each request on a new
    connection so that the workers share them out, as they share browsers' requests.
    With the file store every worker sees every session; with the memory store a
    logout answered by another worker than the login's does not know the session."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for t in (Target("05", "file"), Target("05", "memory")):
            with t.server(workers, Path(tmp) / re.sub(r"\W+", "-", t.name)) as server:
                failed = 0
                for _ in range(cycles):
                    req = urllib.request.Request(server.base + PREFIX + "login", data=LOGIN.encode(), method="POST")
                    token = json.loads(urllib.request.urlopen(req, timeout=60).read())["data"]
                    req = urllib.request.Request(server.base + PREFIX + "logout", headers={"Cookie": "session=" + token})
                    try:
                        urllib.request.urlopen(req, timeout=60).read()
                    except urllib.error.HTTPError as err:
                        failed += err.code == 401
                out[t.name] = {"cycles": cycles, "failed_logouts": failed}
    return out


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

    def replace():            # chapter 06: a temporary file, then os.replace
        tmp = folder / ".tmp-probe"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)

    def read_text():          # chapters 02-05: os.path.exists, then open() and read()
        if os.path.exists(path):
            with open(path) as f:
                return f.read()

    def read_raw():           # chapter 06: os.open, os.read, os.close
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
