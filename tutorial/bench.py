"""What a file-based session costs per request, measured on this machine.

    python -m tutorial.bench                      # 05 and final, file, memory and Redis stores; writes bench/
    python -m tutorial.bench --duration 2 --rounds 1 --pressure-seconds 1 --sweep-files 5000 --out /tmp/b --no-readme

For every target (a chapter with a session store) and every path, the load
generator keeps 4 connections per worker busy for `--duration` seconds and records
requests per second and latency percentiles. Targets take turns path by path,
round after round, so that noise on the machine hits all of them alike; each
ratio compares a path with the no-I/O path of the same target in the same round.

Paths:
  no-io   POST login without a password: Sanic and JSON only, no file
  check   GET logout with a wrong token for an existing session: reads the file, changes nothing
  session GET /session with a valid session (the guard step on): the guarded request; a refresh at most once a minute
  login   POST login: writes a session
  cycle   login, then logout with the token it got: writes, reads, deletes

Targets: 05 and final as they are (file store), 05 with its sessions in
process memory (tutorial/bench_server.py), and final with SESSION_STORE set to
a Redis server the benchmark starts (tutorial/redis_server.py), side by side
with final's file store, on 1 and on 4 workers (--redis-workers; 4 connections
per worker, and 1 per worker for logins, lest more logins of one account at once
than its 5 free failures be throttled; skipped, with a note, where redis-server
is not installed).

Besides: a cheap request's latency on one worker while 4 clients log in
without a pause, on 10-password-hash (its password hash on the event loop),
11-hash-thread (the hash in a thread: the fix) and final/; and final's sweep
on a folder of 100,000 files, timed, with a cheap request's latency while it sweeps.

The load generator is wrk when installed (Debian: apt install wrk), otherwise a
Python one; the report says which, and how much CPU it used, to show it was not
the bottleneck. With --out the command also writes results.json and bench.png
there, and (unless --no-readme) the README section that shows them.

The code: tutorial/bench_load.py (load generators), bench_stats.py
(statistics and targets), bench_report.py (text, plot, README),
bench_experiments.py and bench_probe.py (the other experiments); this file runs them.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import sys
import tempfile
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tutorial.bench_experiments import (Target, login_pressure, multi_worker_logouts, password_hash_ms,  # noqa: E402
                                        sweep_cost, syscalls_per_request, write_costs, redis_get_costs)
from tutorial.bench_load import (CONNECTIONS, PATHS, Run, _drain, _login_once, _server_pids,  # noqa: E402
                                 generator, run_python, run_wrk)
from tutorial.bench_report import END, README, START, plot, readme_section, report, update_readme  # noqa: E402
from tutorial.bench_stats import summarise, summarise_probes, verdicts  # noqa: E402
from tutorial.chapters import ROOT  # noqa: E402
from tutorial.redis_server import INSTALL, RedisServer, find_binary  # noqa: E402

# The names other code uses from here; they live in the modules above.
__all__ = ["main", "measure", "machine", "Target", "Run", "run_python", "run_wrk", "START", "END",
           "readme_section", "report", "plot"]


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


def _load() -> float:
    """The one-minute load average (other programs share this machine), where the OS tells."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0


def measure(targets, paths, workers, seconds, rounds, gen_name, connections=CONNECTIONS, log=print,
            traced=0) -> dict:
    """Run every path against every target, alternating; afterwards, when
    `traced`, count the system calls of `traced` requests per path (file stores)."""
    gen_name, load = generator(gen_name)
    results = {t.name: {p: [] for p in paths} for t in targets}
    syscalls = {}
    on_redis = any(t.store == "redis" for t in targets)
    with tempfile.TemporaryDirectory() as tmp, (RedisServer() if on_redis else nullcontext()) as redis:
        servers = {}
        try:
            for t in targets:
                folder = Path(tmp) / re.sub(r"\W+", "-", t.name)
                servers[t.name] = t.server(workers, folder, redis.url if on_redis else None).launch()
            for server in servers.values():
                server.wait_ready(60)
            for r in range(rounds):
                for path in paths:
                    for t in targets:
                        if path == "session" and not t.guarded:
                            continue  # no guarded request before the guard step
                        server = servers[t.name]
                        token = _login_once(server.base) if path in ("check", "session") else None
                        # 4 connections per worker; logins one per worker: more logins of one account at once
                        # than its 5 free failures would be throttled (each counts as a failure until it succeeds)
                        n = (1 if path in ("login", "cycle") else CONNECTIONS) * t.workers if t.workers else connections
                        run = load(server.base, path, seconds, n, _server_pids(server), token=token)
                        _drain(server.base)
                        results[t.name][path].append(asdict(run) | {"rps": run.rps})
                        log("round %d  %-7s %-16s %8.0f req/s  p50 %7.2f ms  p99 %8.2f ms  failed %d"
                            % (r + 1, path, t.name, run.rps, run.p50_ms, run.p99_ms, run.failed))
            if traced:
                for t in targets:
                    if t.store == "file" and not t.workers:
                        syscalls[t.name] = syscalls_per_request(servers[t.name], ["no-io", "check", "login"], traced)
        finally:
            for server in servers.values():
                server.stop()
        redis_version = redis.version() if on_redis else None
    return {"generator": gen_name, "connections": connections, "workers": workers, "seconds": seconds,
            "rounds": rounds, "targets": [t.name for t in targets], "paths": list(paths), "runs": results,
            "syscalls": syscalls, **({"redis": redis_version} if redis_version else {})}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chapters", nargs="+", default=["05", "final"], help="chapters with the file store")
    parser.add_argument("--stores", nargs="+", default=["memory"],
                        help="other stores to measure on chapter 05 (see tutorial/bench_server.py)")
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=PATHS)
    parser.add_argument("--workers", type=int, default=1, help="Sanic workers per server (default 1)")
    parser.add_argument("--redis-workers", nargs="*", type=int, default=[1, 4], metavar="N",
                        help="final with its sessions in Redis, next to final's file store, on N workers each "
                             "(default: 1 4; none: leave Redis out)")
    parser.add_argument("--multi-workers", type=int, default=4,
                        help="workers for the memory-store logout experiment (0: skip it)")
    parser.add_argument("--cycles", type=int, default=200, help="login+logout cycles in that experiment")
    parser.add_argument("--traced", type=int, default=100,
                        help="requests per path traced with strace to count system calls (0: skip)")
    parser.add_argument("--duration", type=float, default=5, help="seconds per run (wrk rounds to whole seconds)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--generator", default="auto", choices=["auto", "wrk", "python"])
    parser.add_argument("--connections", type=int, help="connections kept busy (default: 4 per worker)")
    parser.add_argument("--pressure-seconds", type=float, default=5,
                        help="seconds per run of the cheap request while clients log in (0: skip it)")
    parser.add_argument("--pressure-clients", type=int, default=4, help="clients logging in meanwhile")
    parser.add_argument("--pressure-iterations", type=int, default=0,
                        help="PBKDF2 iterations of the password hash there (default: final's own, 600,000)")
    parser.add_argument("--sweep-files", type=int, default=100000, help="files for the sweep experiment (0: skip it)")
    parser.add_argument("--sweep-seconds", type=float, default=5, help="seconds of cheap requests while it sweeps")
    parser.add_argument("--out", default=str(ROOT / "bench"), help="folder for results.json and bench.png")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite bench/README.md")
    parser.add_argument("--sample", action="store_true",
                        help="a tiny sample (the notebook's): say so in the report and the plot, judge no goal")
    parser.add_argument("--render", metavar="RESULTS_JSON",
                        help="measure nothing: draw the plot and write the README section again from a results.json")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.render:
        result = json.loads(Path(args.render).read_text(encoding="utf-8"))
        result["verdicts"] = verdicts(result)  # the goals as they stand now, judged on the same numbers
        Path(args.render).write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        out.mkdir(parents=True, exist_ok=True)
        plot(result, out / "bench.png")
        if not args.no_readme:
            update_readme(result, os.path.relpath(out / "bench.png", README.parent).replace(os.sep, "/"))
        print(report(result))
        return 0

    targets = [Target(c, "file") for c in args.chapters] + [Target("05", s) for s in args.stores]
    if args.redis_workers and not find_binary():
        print("(Redis left out: the benchmark %s)" % INSTALL)
    elif args.redis_workers:
        for n in args.redis_workers:
            same = n == args.workers  # then final's file store is measured already
            targets += [Target("final", "redis")] if same else [Target("final", "file", n), Target("final", "redis", n)]
    result = {"date": datetime.date.today().isoformat(), "machine": machine(),
              "command": " ".join(["python -m tutorial.bench", *(argv if argv is not None else sys.argv[1:])])}
    print("Machine: %(cpu)s, %(cores)s cores, %(os)s, Python %(python)s, Sanic %(sanic)s" % result["machine"])
    load_at_start = _load()
    result.update(measure(targets, args.paths, args.workers, args.duration, args.rounds, args.generator,
                          connections=args.connections or CONNECTIONS * args.workers,
                          traced=args.traced if args.workers == 1 else 0))
    result["summary"] = summarise(result)
    if "final" in args.chapters and "login" in args.paths:
        result["hash_ms"] = password_hash_ms()
    if "final" in args.chapters and args.pressure_seconds > 0:
        result["pressure"] = login_pressure(args.rounds, args.pressure_seconds, args.pressure_clients,
                                            iterations=args.pressure_iterations)
        result["pressure"]["summary"] = summarise_probes(result["pressure"]["runs"])
    if args.sweep_files > 0:
        result["sweep"] = sweep_cost(args.sweep_files, args.sweep_seconds)
    result["verdicts"] = verdicts(result)
    result["sample"] = args.sample
    if args.multi_workers > 1 and "memory" in args.stores:
        result["multi_worker_workers"] = args.multi_workers
        result["multi_worker"] = multi_worker_logouts(args.multi_workers, args.cycles)
    with tempfile.TemporaryDirectory() as tmp:
        result["costs"] = write_costs(Path(tmp) / "temp")
    if args.redis_workers and find_binary():
        result["redis_costs"] = redis_get_costs()
    if load_at_start >= 0:
        result["machine"]["load"] = [load_at_start, _load()]
    print()
    print(report(result))
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    plot(result, out / "bench.png", note="tiny sample: numbers jump, no verdict" if args.sample else "")
    print("\nwrote %s and %s" % (out / "results.json", out / "bench.png"))
    if not args.no_readme:
        update_readme(result, os.path.relpath(out / "bench.png", README.parent).replace(os.sep, "/"))
        print("updated bench/README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
