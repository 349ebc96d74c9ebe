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
import datetime
import json
import os
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The parts, each its own module: the load generators, the measurement, the report.
from tutorial.bench_load import CONNECTIONS, PATHS, Target, generator, run_python, run_wrk  # noqa: E402
from tutorial.bench_report import END, START, plot, readme_section, report, update_readme, verdicts  # noqa: E402
from tutorial.bench_stats import (machine, measure, multi_worker_logouts, password_hash_ms,  # noqa: E402
                                  summarise, write_costs)
from tutorial.chapters import ROOT  # noqa: E402

__all__ = ["main", "generator", "run_python", "run_wrk", "START", "END", "readme_section", "report", "plot"]


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
