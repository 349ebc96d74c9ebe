"""The benchmark's statistics: percentiles, medians over rounds, and the targets met or missed.

Pure functions of the numbers tutorial.bench_load measured; nothing here runs a server.
"""
from __future__ import annotations

import statistics

# (target, path, base path, goal, text): a path's requests per second as a share of the base path's
TARGETS_TEXT = [
    ("final (file)", "check", "no-io", 0.80, "final: a session check is at least 0.80 of the no-I/O path"),
    ("final (file)", "session", "no-io", 0.85, "final: a guarded request (GET /session) is at least 0.85 of the "
                                               "no-I/O path"),
    ("final (redis)", "check", "no-io", 0.70, "final (redis): a session check is at least 0.70 of the no-I/O path"),
]
# A cheap request's p99 while clients log in may exceed its idle p99 by at most this (issue 11)
PRESSURE_GOAL_MS = 10.0


def percentile(ordered, p: float) -> float:
    """The p-th percentile of an already sorted list (0.0 for an empty one)."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def summarise(data: dict) -> dict:
    """Medians over the rounds, and each path's ratio to no-io (ratios taken per round)."""
    out = {}
    for name, paths in data["runs"].items():
        out[name] = {}
        for path, runs in paths.items():
            if not runs:
                continue  # a path this target does not have (the guarded one before the guard step)
            s = {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50_ms", "p99_ms", "generator_cpu", "server_cpu")}
            s["failed"] = sum(r["failed"] for r in runs)
            s["requests"] = sum(r["requests"] for r in runs)
            if "no-io" in paths:
                s["ratio"] = statistics.median(r["rps"] / b["rps"] if b["rps"] else 0.0
                                               for r, b in zip(runs, paths["no-io"]))
            out[name][path] = s
    return out


def summarise_probes(runs: dict) -> dict:
    """{variant: {phase: [probe runs]}} -> {variant: {phase: medians over the rounds}} (the longest wait: the longest)."""
    out = {}
    for name, phases in runs.items():
        out[name] = {}
        for phase, rounds in phases.items():
            out[name][phase] = {k: statistics.median(r[k] for r in rounds)
                                for k in ("p50_ms", "p99_ms", "server_cpu")}
            out[name][phase]["max_ms"] = max(r["max_ms"] for r in rounds)
            out[name][phase]["requests"] = sum(r["requests"] for r in rounds)
            seconds = sum(r["seconds"] for r in rounds)
            out[name][phase]["logins_per_s"] = sum(r["logins"] for r in rounds) / seconds if seconds else 0.0
    return out


def verdicts(result: dict) -> list:
    """(description, measured, goal, met) for each of the targets present in a result."""
    summary = result["summary"]
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
    pressure = (result.get("pressure") or {}).get("summary", {}).get("final")
    if pressure:
        value = pressure["logins"]["p99_ms"] - pressure["idle"]["p99_ms"]
        out.append(("final: p99 of a cheap request while %d clients log in is at most %.0f ms above idle (ms)"
                    % (result["pressure"]["clients"], PRESSURE_GOAL_MS), value, PRESSURE_GOAL_MS,
                    value <= PRESSURE_GOAL_MS))
    return out
