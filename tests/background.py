"""Slow checks that run in a process of their own while the rest of the suite runs.

Executing the notebooks, running every README's session and running the
learner's check on some thirty projects take a while, but most of the work
happens in other processes (kernels, servers, curl), and the checks can run
beside the rest of the suite. conftest.py starts this file as a script right
after collection:

    python tests/background.py notebooks FOLDER
    python tests/background.py readmes FOLDER
    python tests/background.py checks FOLDER
    python tests/background.py interruptions FOLDER

Each job writes its results into FOLDER; the fixtures `executed_notebooks` and
`executed_readmes` wait for the process and read them. A separate process also
keeps what other tests do to the test process (pytester changes HOME, the
current folder and sys.modules) away from the kernels and servers.
"""
import filecmp
import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

if __name__ == "__main__":  # started by start() below, as a script
    sys.path[:0] = [str(Path(__file__).resolve().parent.parent)]

from tutorial.chapters import ROOT  # noqa: E402
from tutorial.notebooks import NOTEBOOKS, execute, notebooks, read  # noqa: E402


def processes_with(marker):
    """PIDs of processes whose environment carries `marker` (they were started by a run that set it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def wait_until_gone(marker, timeout=10.0):
    deadline = time.monotonic() + timeout
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    return processes_with(marker)


def repository_files():
    return {p for folder in ("chapters", "final", "notebooks") for p in (ROOT / folder).rglob("*")}


def marker_env():
    marker = "NOTEBOOK_TEST_RUN=" + uuid.uuid4().hex
    key, value = marker.split("=")
    return marker, {key: value}


def broken_copy(folder):
    """Notebook 01 with a failing cell right after the server has started."""
    import nbformat

    nb = read(NOTEBOOKS / "01-article-session.ipynb")
    start = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "start(\"final\")" in c.source)
    nb.cells.insert(start + 1, nbformat.v4.new_code_cell("raise RuntimeError('a cell fails')"))
    path = folder / "broken.ipynb"
    nbformat.write(nb, str(path))
    return path


class NotebookError(Exception):
    """A notebook run that failed, as reported by the runner process."""

    def __init__(self, kind, message):
        super().__init__("%s: %s" % (kind, message))
        self.kind = kind


def run_notebooks(folder: Path) -> None:
    """Execute every notebook from a fresh kernel, all at once (each has its own
    kernel and server), plus a copy of notebook 01 whose second cell fails, and
    write into `folder`: each executed notebook, or its error, and the marker
    its processes carried."""
    from tutorial.notebooks import write

    def run(path):
        marker, env = marker_env()
        try:
            write(execute(path, env=env), folder / ("%s.out.ipynb" % path.stem))
            return {"marker": marker}
        except Exception as exc:
            return {"marker": marker, "error": type(exc).__name__, "message": str(exc)}

    paths = notebooks() + [broken_copy(folder)]
    only = os.environ.get("TUTORIAL_NOTEBOOKS")  # (a child run that reads no notebook: without_programs.py)
    if only is not None:
        paths = [p for p in paths if p.stem in only.split(",")]
    if not paths:
        (folder / "outcome.json").write_text("{}", encoding="utf-8")
        return
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        outcome = dict(zip((p.stem for p in paths), pool.map(run, paths)))
    (folder / "outcome.json").write_text(json.dumps(outcome), encoding="utf-8")


def notebook_results(folder: Path) -> dict:
    """{notebook path or "broken": (executed notebook or NotebookError, marker)}"""
    outcome = json.loads((folder / "outcome.json").read_text(encoding="utf-8"))
    found = {}
    for stem, result in outcome.items():
        key = "broken" if stem == "broken" else NOTEBOOKS / (stem + ".ipynb")
        if "error" in result:
            message = result["message"]
            if result["error"] != "CellExecutionError":  # not a cell: the kernels' own output may say why
                message += "\n\nThe notebook job's output (its kernels' included):\n" + (
                    folder / "runner.log").read_text(errors="replace")
            found[key] = (NotebookError(result["error"], message), result["marker"])
        else:
            found[key] = (read(folder / ("%s.out.ipynb" % stem)), result["marker"])
    return found


def run_readme_session(readme: Path, app_folder: Path, workdir: Path) -> dict:
    """One README's session against a copy of its app (tutorial.transcript.run_readme),
    with the probe that records which files the server loaded."""
    from probes import APP_FILES, Probe
    from tutorial.transcript import run_readme

    probe = Probe(workdir)
    clone = workdir / "clone"
    clone.mkdir()
    result = run_readme(readme, app_folder, clone, env=probe.env)
    copy = clone / app_folder.relative_to(ROOT)
    try:
        probe.assert_ran(copy)
        probe_error = None
    except AssertionError as err:
        probe_error = str(err)
    return {
        "differences": result.differences,
        "actual": result.actual,
        "server_exit": result.server_exit,
        "server_output": result.server_output,  # whole: a bad stop must explain itself
        "probe_error": probe_error,
        "copied_differently": [n for n in APP_FILES if not filecmp.cmp(copy / n, app_folder / n, shallow=False)],
        "clone_entries": sorted(os.listdir(clone)),
    }


def run_readmes(folder: Path) -> None:
    """Every README's session (tutorial.transcript.readmes), three at a time,
    each with its own server and port."""
    from tutorial.transcript import readmes

    def run(item):
        key, (readme, app_folder) = item
        workdir = folder / key.replace(".", "-")
        workdir.mkdir()
        try:
            return key, run_readme_session(readme, app_folder, workdir)
        except Exception as exc:
            return key, {"error": "%s: %s" % (type(exc).__name__, exc)}

    with ThreadPoolExecutor(max_workers=3) as pool:
        outcome = dict(pool.map(run, readmes().items()))
    (folder / "outcome.json").write_text(json.dumps(outcome, ensure_ascii=False), encoding="utf-8")


def run_checks(folder: Path) -> None:
    """The learner's check on the articles' code as typed and on typical slips (check_runs.py)."""
    import check_runs

    check_runs.run_all(folder)


def run_interruptions(folder: Path) -> None:
    """Test runs interrupted with Ctrl-C and with SIGTERM (interrupted.py)."""
    import interrupted

    interrupted.run_all(folder)


def run_without_programs(folder: Path) -> None:
    """The tests that need an optional program, run where none is on PATH (without_programs.py)."""
    import without_programs

    without_programs.run(folder)


def run_beside(folder: Path) -> None:
    """The tests that mostly wait for processes, in a child pytest beside the suite (beside.py)."""
    import beside

    beside.run(folder)


JOBS = {"notebooks": run_notebooks, "readmes": run_readmes, "checks": run_checks, "interruptions": run_interruptions,
        "without-programs": run_without_programs, "beside": run_beside}


def start(job: str, folder: Path) -> subprocess.Popen:
    log = open(folder / "runner.log", "wb")
    # At a lower priority (nice 10, on POSIX): the suite's own process waits for nothing of theirs
    # until its last tests, so it should not wait for a core meanwhile either. But "beside": those are the
    # suite's own tests, which start, time and stop processes as they would in its own process.
    low = hasattr(os, "nice") and job != "beside"
    return subprocess.Popen([sys.executable, __file__, job, str(folder)], cwd=str(ROOT),
                            stdout=log, stderr=subprocess.STDOUT, preexec_fn=(lambda: os.nice(10)) if low else None)


def wait(runner: subprocess.Popen, folder: Path) -> None:
    if runner.wait(timeout=600) != 0:
        raise RuntimeError((folder / "runner.log").read_text(errors="replace")[-5000:])


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # probes.py
    JOBS[sys.argv[1]](Path(sys.argv[2]))
