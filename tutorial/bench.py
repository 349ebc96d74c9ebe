"""What a file-based session costs per request, measured on this machine.

    python -m tutorial.bench                      # 05 and final, file and memory stores; writes bench/
    python -m tutorial.bench --duration 2 --rounds 1 --out /tmp/b --no-readme   # a quick look

For every target (a chapter with a session store) and every path, the load
generator keeps 16 connections busy for `--duration` seconds and records
requests per second and latency percentiles. Targets take turns path by path,
round after round, so that noise on the machine hits all of them alike; each
ratio compares a path with the no-I/O path of the same target in the same round.

Paths:
  no-io   POST login without a password: Sanic and JSON only, no file
  check   GET logout with a wrong token for an existing session: reads the file, changes nothing
  login   POST login: writes a session
  cycle   login, then logout with the token it got: writes, reads, deletes

The load generator is wrk when installed (Debian: apt install wrk), otherwise a
Python one; the report says which, and how much CPU it used, to show it was not
the bottleneck. With --out the command also writes results.json and bench.png
there, and (unless --no-readme) the README section that shows them.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
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
from dataclasses import asdict, dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tutorial.chapters import FINAL_DIR, ROOT, by_key  # noqa: E402
from tutorial.server import ChapterServer  # noqa: E402

PREFIX = "/api/v1/be/"
LOGIN = '{"account":"admin","password":"123456"}'
NO_PASSWORD = '{"account":"admin"}'
WRONG_COOKIE = "session=admin|manage|0123456789abcdef0123456789abcdef"
PATHS = ("no-io", "check", "login", "cycle")
CONNECTIONS = 4  # per worker: enough to keep a worker busy while one request is on its way
BENCH_SERVER = Path(__file__).resolve().parent / "bench_server.py"
README = ROOT / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


# ------------------------------------------------------------------ what runs

@dataclass
class Target:
    chapter: str   # "05" or "final"
    store: str     # "file" (the chapter as it is) or a bench_server store

    @property
    def name(self) -> str:
        return "%s (%s)" % (self.chapter, self.store)

    @property
    def folder(self) -> Path:
        return FINAL_DIR if self.chapter == "final" else by_key(self.chapter).path

    def server(self, workers: int, session_dir: Path) -> ChapterServer:
        if self.store == "file":
            return ChapterServer(self.folder, workers=workers, session_dir=session_dir)
        return ChapterServer(self.folder, workers=workers, session_dir=session_dir, script=BENCH_SERVER,
                             env={"BENCH_FOLDER": str(self.folder), "BENCH_STORE": self.store})


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


def run_wrk(base: str, path: str, seconds: float, connections: int, server_pids) -> Run:
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write(_LUA.get(path, "") + _LUA["common"])
    script.close()
    endpoint = "logout" if path == "check" else "login"
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

    def __init__(self, reader, writer, path):
        self.reader, self.writer, self.path = reader, writer, path
        self.token = None

    @staticmethod
    def _post(body: str) -> bytes:
        return b"POST %slogin HTTP/1.1\r\nHost: b\r\nContent-Length: %d\r\n\r\n%s" % (
            PREFIX.encode(), len(body), body.encode())

    @staticmethod
    def _get(cookie: str) -> bytes:
        return b"GET %slogout HTTP/1.1\r\nHost: b\r\nCookie: %s\r\n\r\n" % (PREFIX.encode(), cookie.encode())

    def request(self) -> bytes:
        if self.path == "no-io":
            return self._post(NO_PASSWORD)
        if self.path == "login":
            return self._post(LOGIN)
        if self.path == "check":
            return self._get(WRONG_COOKIE)
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


async def _python_load(host, port, path, seconds, connections):
    """Keep `connections` connections busy until `seconds` have passed; answers
    still on their way then are not counted (as wrk does)."""
    latencies, failed = [], 0

    async def one():
        nonlocal failed
        reader, writer = await asyncio.open_connection(host, port)
        conn = _Connection(reader, writer, path)
        try:
            while True:
                started = time.perf_counter()
                writer.write(conn.request())
                status, _ = await conn.answer()
                latencies.append(time.perf_counter() - started)
                if status >= 300 and not _EXPECTED_FAILURES.get(path):
                    failed += 1
        finally:
            writer.close()

    tasks = [asyncio.ensure_future(one()) for _ in range(connections)]
    done, _ = await asyncio.wait(tasks, timeout=seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:  # a connection that ended early failed: say why
        if task.exception():
            raise task.exception()
    return latencies, failed


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


def run_python(base: str, path: str, seconds: float, connections: int, server_pids) -> Run:
    host, port = base.split("//")[1].split(":")
    server_before = _process_cpu(server_pids)
    cpu_before, started = time.process_time(), time.perf_counter()
    latencies, failed = _run_async(_python_load(host, int(port), path, seconds, connections))
    wall = min(time.perf_counter() - started, seconds)
    cpu = time.process_time() - cpu_before
    server_after = _process_cpu(server_pids)
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1000 if latencies else 0.0

    return Run(len(latencies), wall, pct(50), pct(99), failed, cpu / wall,
               (server_after - server_before) / wall if server_before >= 0 <= server_after else -1.0)


def generator(name: str):
    if name == "auto":
        name = "wrk" if shutil.which("wrk") else "python"
    return name, {"wrk": run_wrk, "python": run_python}[name]


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


# ------------------------------------------------------------------ report, plot, README

TARGETS_TEXT = [
    ("final (file)", "check", "no-io", 0.80, "final: a session check is at least 0.80 of the no-I/O path"),
    ("05 (file)", "login", "no-io", 0.50, "05: a login is at least 0.50 of the no-I/O path"),
]


def verdicts(summary: dict) -> list:
    """(description, measured, goal, met) for each of the issue's targets present in the run."""
    out = []
    for name, path, base, goal, text in TARGETS_TEXT:
        if name in summary and path in summary[name] and base in summary[name]:
            value = summary[name][path]["ratio"]
            out.append((text, value, goal, value >= goal))
    for path in ("no-io", "check"):
        a, b = summary.get("final (file)", {}).get(path), summary.get("05 (file)", {}).get(path)
        if a and b and b["rps"]:
            value = a["rps"] / b["rps"]
            out.append(("final is at least 0.90 of 05 on the %s path" % path, value, 0.90, value >= 0.90))
    return out


def report(result: dict) -> str:
    lines = []
    m = result["machine"]
    lines.append("Machine: %s, %s cores, %s, Python %s, Sanic %s" % (m["cpu"], m["cores"], m["os"], m["python"], m["sanic"]))
    gen = result["generator"]
    lines.append("Load generator: %s%s, %d connections, %s worker(s), %s s per run, %d round(s), targets alternating"
                 % (gen, "" if gen == "wrk" else " (wrk is not installed: the Python generator is used instead)",
                    result["connections"], result["workers"], result["seconds"], result["rounds"]))
    lines.append("")
    lines.append("%-16s %-7s %10s %10s %10s %9s %8s %9s %9s" % ("target", "path", "req/s", "p50 ms", "p99 ms",
                                                               "vs no-io", "failed", "gen CPU", "srv CPU"))
    for name, paths in result["summary"].items():
        for path, s in paths.items():
            lines.append("%-16s %-7s %10.0f %10.2f %10.2f %9.2f %8d %8.0f%% %8s" % (
                name, path, s["rps"], s["p50_ms"], s["p99_ms"], s.get("ratio", float("nan")), s["failed"],
                s["generator_cpu"] * 100, "%.0f%%" % (s["server_cpu"] * 100) if s["server_cpu"] >= 0 else "n/a"))
    lines.append("(failed: answers other than the path's usual one. In a cycle, %d connections log the same account in "
                 "at once, and each login replaces the one session an account has, so many logouts carry a token that "
                 "is no longer current.)" % result["connections"])
    lines.append("")
    busiest = max(s["generator_cpu"] for p in result["summary"].values() for s in p.values())
    lines.append("The generator used at most %.0f%% of one core (server: one worker, one core at most): "
                 "%s." % (busiest * 100, "it was not the bottleneck" if busiest < 0.9 else
                          "IT MAY HAVE BEEN THE BOTTLENECK, treat the numbers with care"))
    lines.append("")
    lines.append("Targets:")
    for text, value, goal, met in result["verdicts"]:
        lines.append("  %s %s: %.2f (goal %.2f)" % ("met " if met else "MISS", text, value, goal))
    s = result["summary"]
    if "hash_ms" in result and "login" in s.get("05 (file)", {}):
        login_05_ms = 1000 / s["05 (file)"]["login"]["rps"] * result["workers"]
        lines.append("")
        lines.append("final's login checks a PBKDF2 password hash: %.0f ms of CPU each, against about %.2f ms for all "
                     "of 05's login: %.0fx slower, on purpose. It runs once per login; every later request does only "
                     "the cheap session check (final's check: %.2f ms at p50)." % (
                         result["hash_ms"], login_05_ms, (result["hash_ms"] + login_05_ms) / login_05_ms,
                         s.get("final (file)", {}).get("check", {}).get("p50_ms", float("nan"))))
    if result.get("multi_worker"):
        lines.append("")
        lines.append("Login then logout, one after another, each request on a new connection, %d workers:"
                     % result["multi_worker_workers"])
        for name, r in result["multi_worker"].items():
            lines.append("  %-14s %6d cycles, %5d failed logouts" % (name, r["cycles"], r["failed_logouts"]))
        lines.append("  (a memory store lives in one worker: a logout answered by another worker does not know the session)")
    if result.get("costs"):
        lines.append("")
        lines.append("Where the time goes, per session-file operation on this file system (µs):")
        for name, us in result["costs"].items():
            lines.append("  %-32s %8.1f" % (name, us))
    for name, counts in (result.get("syscalls") or {}).items():
        if counts:
            lines.append("System calls per request, %s: %s" % (name, ", ".join("%s %.0f" % pc for pc in counts.items())))
    return "\n".join(lines)


def plot(result: dict, path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure  # not pyplot: no GUI, and quicker to import

    summary, paths = result["summary"], result["paths"]
    names = list(summary)
    fig = Figure(figsize=(11, 4.2))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        xs = [j + i * width for j in range(len(paths))]
        axes[0].bar(xs, [summary[name][p]["rps"] for p in paths], width, label=name)
        axes[1].bar(xs, [summary[name][p]["p99_ms"] for p in paths], width, label=name)
    for ax, title in ((axes[0], "requests per second (log scale)"), (axes[1], "p99 latency, ms (log scale)")):
        ax.set_xticks([j + width * (len(names) - 1) / 2 for j in range(len(paths))])
        ax.set_xticklabels(paths)
        ax.set_yscale("log")
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8)
    m = result["machine"]
    fig.suptitle("%s · %s, %s cores · %s, %d connections, %s worker(s)" % (
        result["date"], m["cpu"], m["cores"], result["generator"], result["connections"], result["workers"]), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def readme_section(result: dict, image: str) -> str:
    """The README's benchmark section, written from a result (never typed by hand)."""
    m = result["machine"]
    rows = ["| target | path | req/s | p50 ms | p99 ms | vs no-io |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    for name, paths in result["summary"].items():
        for path, s in paths.items():
            rows.append("| %s | %s | %.0f | %.2f | %.2f | %.2f |" % (name, path, s["rps"], s["p50_ms"], s["p99_ms"],
                                                                   s.get("ratio", float("nan"))))
    goals = ["- %s %s: %.2f (goal %.2f)" % ("✓" if met else "✗", text, value, goal)
             for text, value, goal, met in result["verdicts"]]
    costs = ["| %s | %.1f |" % (name, us) for name, us in result.get("costs", {}).items()]
    calls = ["| %s | %s |" % (name, " · ".join("%s %.0f" % pc for pc in counts.items()))
             for name, counts in (result.get("syscalls") or {}).items() if counts]
    workers = ["| %s | %d | %d |" % (name, r["cycles"], r["failed_logouts"])
               for name, r in (result.get("multi_worker") or {}).items()]
    return "\n".join([
        "![benchmark](%s)" % image, "",
        "%s · %s, %s cores, %s, Python %s, Sanic %s · load generator: %s, %d connections, %d worker(s), "
        "%s s × %d rounds" % (result["date"], m["cpu"], m["cores"], m["os"], m["python"], m["sanic"],
                              result["generator"], result["connections"], result["workers"], result["seconds"],
                              result["rounds"]),
        "", "`%s`" % result["command"], "", *rows, "", *goals, "",
        "final's login: one PBKDF2 password check, %.0f ms. / 每次登录一次密码哈希。" % result["hash_ms"]
        if "hash_ms" in result else "",
        "", "| operation on the session file / 会话文件操作 | µs |", "| --- | ---: |", *costs,
        *(["", "| server / 服务器 | system calls per request / 每个请求的系统调用 |", "| --- | --- |", *calls]
          if calls else []),
        *(["", "| login → logout on %d workers / %d 个工作进程 | cycles | failed logouts |"
           % (result["multi_worker_workers"], result["multi_worker_workers"]), "| --- | ---: | ---: |", *workers]
          if workers else []),
    ])


def update_readme(result: dict, image: str) -> None:
    text = README.read_text(encoding="utf-8")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    if not rest:
        raise ValueError("README.md has no %s ... %s markers" % (START, END))
    README.write_text("%s%s\n%s\n%s%s" % (head, START, readme_section(result, image), END, tail),
                      encoding="utf-8", newline="\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chapters", nargs="+", default=["05", "final"], help="chapters with the file store")
    parser.add_argument("--stores", nargs="+", default=["memory"],
                        help="other stores to measure on chapter 05 (see tutorial/bench_server.py)")
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=PATHS)
    parser.add_argument("--workers", type=int, default=1, help="Sanic workers per server (default 1)")
    parser.add_argument("--multi-workers", type=int, default=4,
                        help="workers for the memory-store logout experiment (0: skip it)")
    parser.add_argument("--cycles", type=int, default=200, help="login+logout cycles in that experiment")
    parser.add_argument("--traced", type=int, default=100,
                        help="requests per path traced with strace to count system calls (0: skip)")
    parser.add_argument("--duration", type=float, default=5, help="seconds per run (wrk rounds to whole seconds)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--generator", default="auto", choices=["auto", "wrk", "python"])
    parser.add_argument("--connections", type=int, help="connections kept busy (default: 4 per worker)")
    parser.add_argument("--out", default=str(ROOT / "bench"), help="folder for results.json and bench.png")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite the README's benchmark section")
    parser.add_argument("--render", metavar="RESULTS_JSON",
                        help="measure nothing: draw the plot and write the README section again from a results.json")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.render:
        result = json.loads(Path(args.render).read_text(encoding="utf-8"))
        out.mkdir(parents=True, exist_ok=True)
        plot(result, out / "bench.png")
        if not args.no_readme:
            update_readme(result, os.path.relpath(out / "bench.png", ROOT).replace(os.sep, "/"))
        print(report(result))
        return 0

    targets = [Target(c, "file") for c in args.chapters] + [Target("05", s) for s in args.stores]
    result = {"date": datetime.date.today().isoformat(), "machine": machine(),
              "command": " ".join(["python -m tutorial.bench", *(argv if argv is not None else sys.argv[1:])])}
    print("Machine: %(cpu)s, %(cores)s cores, %(os)s, Python %(python)s, Sanic %(sanic)s" % result["machine"])
    result.update(measure(targets, args.paths, args.workers, args.duration, args.rounds, args.generator,
                          connections=args.connections or CONNECTIONS * args.workers,
                          traced=args.traced if args.workers == 1 else 0))
    result["summary"] = summarise(result)
    result["verdicts"] = verdicts(result["summary"])
    if "final" in args.chapters and "login" in args.paths:
        result["hash_ms"] = password_hash_ms()
    if args.multi_workers > 1 and "memory" in args.stores:
        result["multi_worker_workers"] = args.multi_workers
        result["multi_worker"] = multi_worker_logouts(args.multi_workers, args.cycles)
    with tempfile.TemporaryDirectory() as tmp:
        result["costs"] = write_costs(Path(tmp) / "temp")
    print()
    print(report(result))
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    plot(result, out / "bench.png")
    print("\nwrote %s and %s" % (out / "results.json", out / "bench.png"))
    if not args.no_readme:
        update_readme(result, os.path.relpath(out / "bench.png", ROOT).replace(os.sep, "/"))
        print("updated the benchmark section of README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
