"""The benchmark's paced probe: the latency of a cheap request, sent at a
steady pace, while other clients log in without a pause (or on an idle
server). Used by tutorial.bench_experiments for the "does a login block the
worker" and "what does the sweep cost" measurements.
"""
from __future__ import annotations

import asyncio
import time

from tutorial.bench_load import _Connection, _for, _process_cpu, _run_async
from tutorial.bench_stats import percentile


async def _probe(host, port, seconds, every, login_clients):
    """One connection sends a cheap request (a logout with a wrong cookie)
    every `every` seconds, each after the last one's answer; meanwhile
    `login_clients` connections log in without a pause. Returns the probe's
    latencies and how many logins were answered."""
    latencies, logins = [], 0

    async def probe():
        reader, writer = await asyncio.open_connection(host, port)
        conn = _Connection(reader, writer, "check")
        due = time.perf_counter()
        try:
            while True:
                started = time.perf_counter()
                writer.write(conn.request())
                await conn.answer()
                latencies.append(time.perf_counter() - started)
                due = max(due + every, time.perf_counter())  # no burst to catch up after a long wait
                await asyncio.sleep(due - time.perf_counter())
        finally:
            writer.close()

    async def log_in():
        nonlocal logins
        reader, writer = await asyncio.open_connection(host, port)
        conn = _Connection(reader, writer, "login")
        try:
            while True:
                writer.write(conn.request())
                status, _ = await conn.answer()
                logins += status == 200
        finally:
            writer.close()

    await _for(seconds, probe(), *(log_in() for _ in range(login_clients)))
    return latencies, logins


def probe(base: str, seconds: float, every: float = 0.01, login_clients: int = 0, server_pids=()) -> dict:
    """Latency of a cheap request sent every `every` seconds for `seconds`,
    while `login_clients` clients log in without a pause (0: an idle server)."""
    host, port = base.split("//")[1].split(":")
    server_before, started = _process_cpu(server_pids), time.perf_counter()
    latencies, logins = _run_async(_probe(host, int(port), seconds, every, login_clients))
    wall = time.perf_counter() - started
    server_after = _process_cpu(server_pids)
    latencies.sort()
    return {"requests": len(latencies), "p50_ms": percentile(latencies, 50) * 1000,
            "p99_ms": percentile(latencies, 99) * 1000, "max_ms": latencies[-1] * 1000 if latencies else 0.0,
            "logins": logins, "seconds": wall,
            "server_cpu": (server_after - server_before) / wall if server_before >= 0 <= server_after else -1.0}
