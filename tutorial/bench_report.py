"""The benchmark's report: the text it prints, the plot, bench/README.md's
results section and the short summary in the top README.

All are written from a result (bench/results.json), never typed by hand:
`python -m tutorial.bench --render bench/results.json` draws them again.
"""
from __future__ import annotations

from pathlib import Path

from tutorial.chapters import ROOT

README = ROOT / "bench" / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def machine_line(result: dict) -> str:
    m = result["machine"]
    return "%s, %s cores, %s, Python %s, Sanic %s" % (m["cpu"], m["cores"], m["os"], m["python"], m["sanic"])


def load_line(result: dict) -> str:
    """How busy the machine was: other programs (other agents' test runs) may share it."""
    load = result["machine"].get("load")
    return ("load average %.1f at the start, %.1f at the end (other programs running meanwhile move the numbers)"
            % tuple(load)) if load else ""


def pressure_rows(result: dict) -> list:
    """(variant, idle p50, idle p99, loaded p50, loaded p99, longest wait, logins per second)"""
    summary = (result.get("pressure") or {}).get("summary", {})
    return [(name, s["idle"]["p50_ms"], s["idle"]["p99_ms"], s["logins"]["p50_ms"], s["logins"]["p99_ms"],
             s["logins"]["max_ms"], s["logins"]["logins_per_s"]) for name, s in summary.items()]


def report(result: dict) -> str:
    lines = ["Machine: %s" % machine_line(result)]
    if load_line(result):
        lines.append("Machine load: %s" % load_line(result))
    gen = result["generator"]
    lines.append("Load generator: %s%s, %d connections, %s worker(s), %s s per run, %d round(s), targets alternating"
                 % (gen, "" if gen == "wrk" else " (wrk is not installed: the Python generator is used instead)",
                    result["connections"], result["workers"], result["seconds"], result["rounds"]))
    if result.get("redis"):
        lines.append("Redis: %s, started by the benchmark on this machine, for the final (redis...) targets; "
                     "a target with N workers gets 4 connections per worker (1 per worker for login and cycle)" % result["redis"])
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
    if result.get("sample"):
        lines.append("Targets: none judged. This is a tiny sample (%s s per run): its numbers jump from run to run; "
                     "the full run's verdicts are in bench/README.md." % result["seconds"])
    else:
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
    if result.get("pressure"):
        pr = result["pressure"]
        lines.append("")
        lines.append("A cheap request (logout with a wrong cookie) every %.0f ms on %d worker, %s s x %d round(s): idle, "
                     "then while %d clients log in without a pause (ms; password hash: %s):" % (
                         pr["every_ms"], pr["workers"], pr["seconds"], pr["rounds"], pr["clients"],
                         "%d iterations" % pr["iterations"] if pr.get("iterations") else "final's own"))
        lines.append("  %-22s %9s %9s %11s %11s %9s %9s" % ("", "idle p50", "idle p99", "logins p50", "logins p99",
                                                            "max", "logins/s"))
        for row in pressure_rows(result):
            lines.append("  %-22s %9.2f %9.2f %11.2f %11.2f %9.2f %9.2f" % row)
    if result.get("sweep"):
        sw = result["sweep"]
        lines.append("")
        lines.append("final's sweep of %d files (%d live sessions, %d expired, %d other files): %.2f s in one "
                     "background thread; removed %d, kept all %d other files (%d files left)." % (
                         sw["files"], sw["planted"]["live"], sw["planted"]["expired"], sw["planted"]["other"],
                         sw["seconds"], sw["removed"], sw["other_kept"], sw["left"]))
        for name, s in sw["probes"].items():
            lines.append("  cheap request, %-22s p50 %6.2f ms  p99 %7.2f ms  server CPU %3.0f%%"
                         % (name, s["p50_ms"], s["p99_ms"], s["server_cpu"] * 100))
    if result.get("costs"):
        lines.append("")
        lines.append("Where the time goes, per session-file operation on this file system (µs):")
        for name, us in result["costs"].items():
            lines.append("  %-32s %8.1f" % (name, us))
    if result.get("redis_costs"):
        lines.append("One Redis GET, CPU per call in this process (µs): %s" % _redis_costs(result))
    for name, counts in (result.get("syscalls") or {}).items():
        if counts:
            lines.append("System calls per request, %s: %s" % (name, ", ".join("%s %.0f" % pc for pc in counts.items())))
    if result.get("syscalls") and not any(result["syscalls"].values()):  # traced, but nothing could count them
        lines.append("System calls per request: not counted (strace is not installed: Debian/Ubuntu "
                     "`sudo apt install strace`; Linux only)")
    return "\n".join(lines)


# The picture is shown about 880 px wide (GitHub's column, the notebook): drawn 880 px wide at 100 dpi, a font of
# 8 points is 11 px there. Okabe and Ito's palette, which colour-blind readers tell apart, one colour per target.
WIDTH_PX, DPI, SMALLEST_PT = 880, 100, 8
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def plot(result: dict, path: Path, note: str = ""):
    """Three panels, one above the other, readable at the width the picture is shown: each path's ratio to the
    no-I/O path on a linear axis, labelled on the bars; p99 latencies, which span orders of magnitude, on a log
    axis that says so; and the cheap request's p99 while logins run. A path a target does not have is marked
    "n/a", a ratio too small for a bar "<0.01". `note` goes in the title (e.g. that this is a tiny sample).
    Returns the figure (tests/test_bench.py measures its type)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure  # not pyplot: no GUI, and quicker to import

    summary, paths = result["summary"], result["paths"]
    names = list(summary)
    pressure = pressure_rows(result)
    rows = 3 if pressure else 2
    fig = Figure(figsize=(WIDTH_PX / DPI, 3.3 * rows + 1.2), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1)
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        colour = PALETTE[i % len(PALETTE)]
        xs = [j + i * width for j in range(len(paths))]
        have = [p in summary[name] for p in paths]  # (no guarded path before 07)
        ratios = [summary[name][p]["ratio"] if h else 0 for p, h in zip(paths, have)]
        bars = axes[0].bar(xs, ratios, width, label=name, color=colour)
        axes[0].bar_label(bars, [("%.2f" % r if r >= 0.01 else "<0.01") if h else "n/a" for r, h in zip(ratios, have)],
                          fontsize=SMALLEST_PT, padding=1, rotation=90)
        p99 = [summary[name][p]["p99_ms"] if h else 0 for p, h in zip(paths, have)]
        bars = axes[1].bar(xs, [v or 1e-3 for v in p99], width, label=name, color=colour)
        axes[1].bar_label(bars, [_ms(v) if h else "n/a" for v, h in zip(p99, have)], fontsize=SMALLEST_PT,
                          padding=1, rotation=90)
    for ax in axes[:2]:
        ax.set_xticks([j + width * (len(names) - 1) / 2 for j in range(len(paths))])
        ax.set_xticklabels(paths, fontsize=SMALLEST_PT + 1)
        ax.tick_params(axis="y", labelsize=SMALLEST_PT)
        ax.grid(axis="y", alpha=0.3)
    top = max(summary[n][p]["ratio"] for n in names for p in paths if p in summary[n])
    axes[0].set_ylim(0, max(1.35, top * 1.3))
    axes[0].axhline(1.0, color="#555", linewidth=0.8, linestyle="--")
    axes[0].set_title("requests per second, as a share of the no-I/O path (1.0 = as fast)", fontsize=SMALLEST_PT + 2)
    axes[0].set_ylabel("ratio (×)", fontsize=SMALLEST_PT + 1)
    axes[0].legend(fontsize=SMALLEST_PT, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[1].set_yscale("log")
    axes[1].set_ylim(0.1, max(v["p99_ms"] for n in names for v in summary[n].values()) * 20)
    axes[1].set_title("p99 latency (log axis: each gridline is 10×)", fontsize=SMALLEST_PT + 2)
    axes[1].set_ylabel("p99, ms", fontsize=SMALLEST_PT + 1)
    if pressure:
        _plot_pressure(axes[2], result, pressure)
    m = result["machine"]
    load = m.get("load")
    fig.suptitle("%s%s · %s, %s cores%s\n%s, %s" % (
        note + " · " if note else "", result["date"], m["cpu"], m["cores"],
        " (load average %.1f → %.1f)" % tuple(load) if load else "", result["generator"],
        "4 connections per worker, %s" % result["redis"] if result.get("redis") else
        "%d connections, %s worker(s)" % (result["connections"], result["workers"])), fontsize=SMALLEST_PT + 1)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    return fig


def _ms(value: float) -> str:
    return "%.0f" % value if value >= 100 else "%.1f" % value if value >= 1 else "%.2f" % value


def _plot_pressure(ax, result: dict, pressure: list) -> None:
    """p99 of a cheap request: idle against 4 clients logging in, and against the sweep."""
    labels = [row[0] for row in pressure]
    quiet, busy = [row[2] for row in pressure], [row[4] for row in pressure]
    sweep = result.get("sweep")
    if sweep:
        labels.append("final, sweep of %dk files" % (sweep["files"] // 1000))
        quiet.append(sweep["probes"]["no sweep due"]["p99_ms"])
        busy.append(sweep["probes"]["sweeping every second"]["p99_ms"])
    xs = range(len(labels))
    bars = ax.bar([x - 0.2 for x in xs], quiet, 0.4, label="idle (no sweep due)", color=PALETTE[0])
    ax.bar_label(bars, [_ms(v) for v in quiet], fontsize=SMALLEST_PT, padding=1)
    bars = ax.bar([x + 0.2 for x in xs], busy, 0.4, color=PALETTE[1],
                  label="%d clients logging in / sweeping" % result["pressure"]["clients"])
    ax.bar_label(bars, [_ms(v) for v in busy], fontsize=SMALLEST_PT, padding=1)
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, fontsize=SMALLEST_PT + 1)
    ax.tick_params(axis="y", labelsize=SMALLEST_PT)
    ax.set_yscale("log")
    ax.set_ylim(top=max(quiet + busy) * 20)
    ax.set_title("a cheap request's p99 on 1 worker (log axis: each gridline is 10×)", fontsize=SMALLEST_PT + 2)
    ax.set_ylabel("p99, ms", fontsize=SMALLEST_PT + 1)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=SMALLEST_PT, loc="upper left")


def _redis_costs(result: dict) -> str:
    return ", ".join("%s %.0f" % pair for pair in result["redis_costs"].items())


def readme_section(result: dict, image: str) -> str:
    """The README's benchmark section, written from a result (never typed by hand)."""
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
        "%s · %s%s · load generator: %s, %d connections, %d worker(s), %s s × %d rounds" % (
            result["date"], machine_line(result), " · " + load_line(result) if load_line(result) else "",
            result["generator"], result["connections"], result["workers"], result["seconds"], result["rounds"]),
        *(["", "Redis: %s, started by the benchmark on this machine; a target with N workers gets 4 connections per "
            "worker (1 per worker for login and cycle). / 基准测试自己在本机启动的 Redis；N 个工作进程的目标用 4×N 个连接（登录用 N 个）。"
            % result["redis"]]
          if result.get("redis") else []),
        "", "`%s`" % result["command"], "", *rows, "", *goals, "",
        "final's login: one PBKDF2 password check, %.0f ms. / 每次登录一次密码哈希。" % result["hash_ms"]
        if "hash_ms" in result else "",
        "", "| operation on the session file / 会话文件操作 | µs |", "| --- | ---: |", *costs,
        *(["", "One Redis GET, CPU per call in the calling process (µs) / 一次 Redis GET 在调用它的进程里花的 CPU（微秒）: "
            + _redis_costs(result)] if result.get("redis_costs") else []),
        *(["", "| server / 服务器 | system calls per request / 每个请求的系统调用 |", "| --- | --- |", *calls]
          if calls else []),
        *_pressure_section(result),
        *_sweep_section(result),
        *(["", "| login → logout on %d workers / %d 个工作进程 | cycles | failed logouts |"
           % (result["multi_worker_workers"], result["multi_worker_workers"]), "| --- | ---: | ---: |", *workers]
          if workers else []),
    ])


def _pressure_section(result: dict) -> list:
    if not result.get("pressure"):
        return []
    pr = result["pressure"]
    return ["", "A cheap request (logout with a wrong cookie) every %.0f ms on 1 worker, idle and while %d clients log in "
            "without a pause, %s s × %d rounds, ms. / 1 个工作进程，每 %.0f ms 一个便宜请求，空闲时和 %d 个客户端不停登录时。"
            % (pr["every_ms"], pr["clients"], pr["seconds"], pr["rounds"], pr["every_ms"], pr["clients"]), "",
            "| server / 服务器 | idle p50 | idle p99 | logging in p50 | logging in p99 | longest | logins/s |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            *["| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f |" % row for row in pressure_rows(result)]]


def _sweep_section(result: dict) -> list:
    if not result.get("sweep"):
        return []
    sw = result["sweep"]
    return ["", "final's sweep of %s files (%s live sessions, %s expired, %s other files): **%.2f s** in a background "
            "thread; removed %s, kept all %s other files. / 清理 %s 个文件用 %.2f 秒，在后台线程里。" % (
                format(sw["files"], ","), format(sw["planted"]["live"], ","), format(sw["planted"]["expired"], ","),
                format(sw["planted"]["other"], ","), sw["seconds"], format(sw["removed"], ","),
                format(sw["other_kept"], ","), format(sw["files"], ","), sw["seconds"]), "",
            "| cheap request, 1 worker / 便宜请求 | p50 ms | p99 ms | server CPU |", "| --- | ---: | ---: | ---: |",
            *["| %s | %.2f | %.2f | %.0f%% |" % (name, s["p50_ms"], s["p99_ms"], s["server_cpu"] * 100)
              for name, s in sw["probes"].items()]]


def _replace_between(path: Path, start: str, end: str, text: str) -> None:
    content = path.read_text(encoding="utf-8")
    head, _, rest = content.partition(start)
    _, found, tail = rest.partition(end)
    if not found:
        raise ValueError("%s has no %s ... %s markers" % (path, start, end))
    path.write_text("%s%s\n%s\n%s%s" % (head, start, text, end, tail), encoding="utf-8", newline="\n")


def update_readme(result: dict, image: str) -> None:
    """bench/README.md's results section (`image` relative to it): the top README only links to it."""
    _replace_between(README, START, END, readme_section(result, image))
