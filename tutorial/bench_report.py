"""The benchmark's report: the text summary, the plot, and the README section.

Part of `python -m tutorial.bench` (see tutorial/bench.py).
"""
from __future__ import annotations

from pathlib import Path

from tutorial.chapters import ROOT

README = ROOT / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


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
