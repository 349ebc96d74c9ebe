"""`python -m tutorial.bench` keeps working. Nothing here is about speed.

The benchmark notebook (notebooks/05-benchmark.ipynb) runs the command once on
a tiny duration as part of every test run; these tests read what it printed
and check it measured every target, explained itself and drew its picture.
The login-and-logout cycle, which the notebook leaves out, is measured here
directly for a moment.
"""
import json
import re
import shutil
import sys

import pytest

from tutorial import bench
from tutorial.chapters import ROOT
from tutorial.notebooks import NOTEBOOKS

pytestmark = pytest.mark.repository_only


@pytest.fixture(scope="module")
def tiny_run(executed_notebooks):
    """(what the benchmark command printed, the outputs of the cell that drew it)"""
    results, _ = executed_notebooks
    nb, _ = results[NOTEBOOKS / "05-benchmark.ipynb"]
    if isinstance(nb, Exception):
        raise nb
    code = [c for c in nb.cells if c.cell_type == "code" and "volatile-output" in c.metadata.get("tags", [])]
    printed = "".join(o.get("text", "") for o in code[0].outputs)
    assert "-m\", \"tutorial.bench\"" in code[0].source and "--sample" in code[0].source
    return printed, code[1].outputs


def test_tiny_run_measures_every_target(tiny_run):
    printed, _ = tiny_run
    rows = re.findall(r"^(05 \(file\)|final \(file\)|05 \(memory\)) +(no-io|check|session) +(\d+) ", printed, re.M)
    assert [(t, p) for t, p, _ in rows] == [("05 (file)", "no-io"), ("05 (file)", "check"),
                                           ("final (file)", "no-io"), ("final (file)", "check"),
                                           ("final (file)", "session"), ("05 (memory)", "no-io"),
                                           ("05 (memory)", "check")]
    assert all(int(n) > 0 for _, _, n in rows)


def test_tiny_run_says_what_it_ran_on_and_with(tiny_run):
    printed, _ = tiny_run
    assert re.search(r"^Machine: .+, \d+ cores, .+, Python [\d.]+, Sanic [\d.]+$", printed, re.M)
    assert "Load generator: python (wrk is not installed: the Python generator is used instead)" in printed
    assert re.search(r"The generator used at most \d+% of one core", printed)
    assert "Where the time goes" in printed
    # a tiny sample judges no goal, and says so
    assert "Targets: none judged. This is a tiny sample" in printed and "MISS" not in printed and " met " not in printed


@pytest.mark.skipif(not shutil.which("strace") or not sys.platform.startswith("linux"),
                    reason="This test needs strace (Linux only), which is not installed: Debian/Ubuntu "
                           "`sudo apt install strace` (without it the benchmark counts no system calls)")
def test_system_calls_per_request_are_counted(tmp_path):
    """What bench/README's "System calls per request" lines rest on: strace counts a
    server's calls while it answers; a file-store check makes more than a request that
    reads no file."""
    from tutorial.bench_experiments import syscalls_per_request
    from tutorial.server import ChapterServer

    with ChapterServer(ROOT / "final", session_dir=tmp_path) as server:
        counts = syscalls_per_request(server, ["no-io", "check"], 20)
    assert set(counts) == {"no-io", "check"} and 0 < counts["no-io"] < counts["check"], counts


def test_memory_store_loses_sessions_across_workers_and_files_do_not(tiny_run):
    printed, _ = tiny_run
    file_failed = int(re.search(r"05 \(file\) +\d+ cycles, +(\d+) failed logouts", printed).group(1))
    memory_failed = int(re.search(r"05 \(memory\) +\d+ cycles, +(\d+) failed logouts", printed).group(1))
    assert file_failed == 0 and memory_failed > 0, printed


def test_tiny_run_measures_a_cheap_request_while_clients_log_in(tiny_run):
    """On the chapter before the fix (10: its hash on the event loop), the one with it (11) and final/,
    idle and while 4 clients log in."""
    printed, _ = tiny_run
    assert re.search(r"A cheap request \(logout with a wrong cookie\) every 10 ms on 1 worker, .* while 4 clients "
                     r"log in without a pause", printed)
    rows = re.findall(r"^  (10-password-hash|11-hash-thread|final) +([\d.]+) +([\d.]+) +([\d.]+) +([\d.]+) +([\d.]+) +"
                      r"([\d.]+)$", printed, re.M)
    assert [name for name, *_ in rows] == ["10-password-hash", "11-hash-thread", "final"]
    assert all(float(idle_p50) > 0 for _, idle_p50, *_ in rows)


def test_tiny_run_sweeps_a_folder_and_keeps_what_is_not_a_session(tiny_run):
    printed, _ = tiny_run
    found = re.search(r"final's sweep of 1000 files \(900 live sessions, 90 expired, 10 other files\): [\d.]+ s in one "
                      r"background thread; removed (\d+), kept all (\d+) other files \((\d+) files left\)", printed)
    assert found and found.groups() == ("90", "10", "910"), printed
    assert re.search(r"cheap request, no sweep due +p50 +[\d.]+ ms", printed)
    assert re.search(r"cheap request, sweeping every second +p50 +[\d.]+ ms", printed)


def test_tiny_run_draws_its_picture(tiny_run):
    _, outputs = tiny_run
    assert any("image/png" in o.get("data", {}) for o in outputs)


def test_python_generator_measures_a_login_and_logout_cycle(tmp_path):
    """The generator a learner without wrk gets, on the path that logs in and out
    (the login path is that cycle's first half). Half a second after each
    connection's first answer: on two cores, with the background jobs running,
    a 0.2 s run that also paid for connecting and for the server's first
    request once counted nothing (Python 3.10)."""
    from tutorial.lab import fast_hash_env
    from tutorial.server import ChapterServer

    with ChapterServer(ROOT / "final", session_dir=tmp_path, env=fast_hash_env()) as server:
        run = bench.run_python(server.base, "cycle", 0.5, 2, [server.process.pid])
    assert run.requests > 0 and run.p50_ms > 0


@pytest.mark.skipif(not shutil.which("wrk"), reason="This test needs wrk, which is not installed: Debian/Ubuntu "
                    "`sudo apt install wrk`, macOS `brew install wrk` (without it the benchmark uses its Python generator)")
def test_wrk_generator_measures_a_path(tmp_path):
    from tutorial.server import ChapterServer

    with ChapterServer(ROOT / "final", session_dir=tmp_path) as server:
        run = bench.run_wrk(server.base, "check", 1, 2, [server.process.pid])
    assert run.requests > 0 and run.failed == 0 and 0 <= run.generator_cpu


def test_readme_shows_the_committed_result():
    """bench/README.md's results section is what bench/results.json says, written by the benchmark's own
    functions, next to the picture it drew; the top README links to it."""
    result = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))
    readme = (ROOT / "bench" / "README.md").read_text(encoding="utf-8")
    section = readme.split(bench.START)[1].split(bench.END)[0].strip("\n")
    assert section == bench.readme_section(result, "bench.png")
    top = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "[bench/README.md](bench/README.md)" in top
    assert (ROOT / "bench" / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result["generator"] == "wrk" and result["rounds"] >= 3, "the committed result is a full run"
    pressure = result["pressure"]
    assert pressure["clients"] == 4 and pressure["workers"] == 1 and pressure["rounds"] >= 3
    assert list(pressure["summary"]) == ["10-password-hash", "11-hash-thread", "final"]
    sweep = result["sweep"]
    assert sweep["files"] == 100000 and sweep["removed"] == sweep["planted"]["expired"]
    assert sweep["other_kept"] == sweep["planted"]["other"] and sweep["left"] == sweep["files"] - sweep["removed"]


def test_chapter_28_readme_gives_the_measured_time_of_a_hash():
    """Step 28's README says what one password hash costs: what the committed benchmark measured (final's login)."""
    result = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))
    readme = (ROOT / "chapters" / "28-hash-queue" / "README.md").read_text(encoding="utf-8")
    assert "要 0.1 到 0.2 秒的 CPU" in readme and "takes 0.1 to 0.2 seconds of CPU" in readme
    assert 100 <= result["hash_ms"] < 200, result["hash_ms"]


def test_the_committed_result_meets_the_login_pressure_target():
    """Issue 11: the p99 of a cheap request on one worker while 4 clients log in
    stays within 10 ms of its idle p99 (measured by the full benchmark run)."""
    result = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))
    for fixed in ("11-hash-thread", "final"):
        after = result["pressure"]["summary"][fixed]
        assert after["logins"]["p99_ms"] - after["idle"]["p99_ms"] <= 10, (fixed, after)
    before = result["pressure"]["summary"]["10-password-hash"]
    assert before["logins"]["p99_ms"] > result["hash_ms"] / 2, "before the fix a login blocks the cheap request"


def test_readme_command_is_the_benchmarks():
    readme = (ROOT / "bench" / "README.md").read_text(encoding="utf-8")
    line = next(l for l in readme.splitlines() if "-m tutorial.bench" in l and l.startswith(".venv"))
    assert line == ".venv/bin/python -m tutorial.bench"
    result = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))
    assert result["command"] == "python -m tutorial.bench", "the committed result came from the README's command"


def test_the_redis_rows_are_measured(monkeypatch):
    """final with its sessions in a Redis server the benchmark starts itself
    (SESSION_STORE=redis://...), on the guarded path too; the notebook's tiny
    run leaves Redis out (--redis-workers with no number)."""
    from tutorial.bench_experiments import Target
    from tutorial.lab import fast_hash_env
    from tutorial.redis_server import INSTALL, find_binary

    if find_binary() is None:
        pytest.skip("This test " + INSTALL)
    for name, value in fast_hash_env().items():  # the one login the guarded path needs, without the slow hash
        monkeypatch.setenv(name, value)
    result = bench.measure([Target("final", "redis")], ["no-io", "session"], 1, 0.2, 1, "python", log=lambda *a: None)
    runs = result["runs"]["final (redis)"]
    assert [(p, len(r), r[0]["failed"]) for p, r in runs.items()] == [("no-io", 1, 0), ("session", 1, 0)]
    assert runs["session"][0]["requests"] > 0
    assert result["redis"].startswith(("redis-server ", "valkey-server "))


def test_one_redis_get_is_measured_both_ways():
    """What bench/README's Redis explanation rests on: the CPU of one GET through
    redis-py and over a bare connection, on a real server, in results.json."""
    from tutorial.bench_experiments import redis_get_costs
    from tutorial.bench_report import readme_section
    from tutorial.redis_server import INSTALL, find_binary

    if find_binary() is None:
        pytest.skip("This test " + INSTALL)
    costs = redis_get_costs(repeat=200)
    assert list(costs) == ["redis-py asyncio client", "bare asyncio connection"] and min(costs.values()) > 0
    result = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))
    assert "One Redis GET" in readme_section(dict(result, redis_costs=costs), "bench.png")


def test_the_plot_is_readable_at_the_width_it_is_shown(tmp_path):
    """Issue 21: drawn as wide as bench/README.md and the notebook show it (880 px), every text at least 10 px
    high there, each y axis saying its unit, a palette colour-blind readers tell apart, and "n/a" (a path a
    target does not have: 05 has no guarded path) told apart from a ratio too small for a bar ("<0.01")."""
    from matplotlib.colors import to_hex
    from matplotlib.text import Text

    from tutorial.bench_report import DPI, PALETTE, WIDTH_PX, plot

    result = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))
    fig = plot(result, tmp_path / "bench.png")
    assert round(fig.get_figwidth() * fig.dpi) == WIDTH_PX == 880 and fig.dpi == DPI
    texts = [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]
    smallest = min(t.get_fontsize() * DPI / 72 for t in texts)
    assert smallest >= 10, "a text %.1f px high" % smallest
    assert [ax.get_ylabel() for ax in fig.axes] == ["ratio (×)", "p99, ms", "p99, ms"]
    colours = {to_hex(bar.get_facecolor()) for ax in fig.axes for bar in ax.patches}
    assert colours <= {c.lower() for c in PALETTE}
    labels = [t.get_text() for t in texts]
    assert "n/a" in labels and "<0.01" in labels
    assert (tmp_path / "bench.png").read_bytes() == (ROOT / "bench" / "bench.png").read_bytes(), \
        "bench/bench.png is the committed result's picture, drawn by this code"
