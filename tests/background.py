"""Executing the notebooks once per test run, shared by test_notebooks.py and test_lab.py."""
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
    start = next(i for i, c in enumerate(nb.cells) if "server.start()" in c.source)
    nb.cells.insert(start + 1, nbformat.v4.new_code_cell("raise RuntimeError('a cell fails')"))
    path = folder / "broken.ipynb"
    nbformat.write(nb, str(path))
    return path


class NotebookError(Exception):
    """A notebook run that failed, as reported by the runner process."""

    def __init__(self, kind, message):
        super().__init__("%s: %s" % (kind, message))
        self.kind = kind


def run_all(folder: Path) -> None:
    """Execute every notebook from a fresh kernel, all at once (each has its own
    kernel and server), plus a copy of notebook 01 whose second cell fails, and
    write into `folder`: each executed notebook, or its error, and the marker
    its processes carried."""
    import json

    from tutorial.notebooks import write

    def run(path):
        marker, env = marker_env()
        try:
            write(execute(path, env=env), folder / ("%s.out.ipynb" % path.stem))
            return {"marker": marker}
        except Exception as exc:
            return {"marker": marker, "error": type(exc).__name__, "message": str(exc)}

    paths = notebooks() + [broken_copy(folder)]
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        outcome = dict(zip((p.stem for p in paths), pool.map(run, paths)))
    (folder / "outcome.json").write_text(json.dumps(outcome), encoding="utf-8")


def start(folder: Path) -> subprocess.Popen:
    """Run run_all in a process of its own, so that it goes on while the rest of
    the suite runs, and nothing the tests do to this process (its environment,
    current folder, imported modules) can reach the kernels."""
    log = open(folder / "runner.log", "wb")
    return subprocess.Popen([sys.executable, __file__, str(folder)], cwd=str(ROOT),
                            stdout=log, stderr=subprocess.STDOUT)


def results(folder: Path, runner: subprocess.Popen) -> dict:
    """{notebook path or "broken": (executed notebook or NotebookError, marker)}"""
    import json

    if runner.wait(timeout=600) != 0:
        raise RuntimeError((folder / "runner.log").read_text(errors="replace")[-5000:])
    outcome = json.loads((folder / "outcome.json").read_text(encoding="utf-8"))
    found = {}
    for stem, result in outcome.items():
        key = "broken" if stem == "broken" else NOTEBOOKS / (stem + ".ipynb")
        if "error" in result:
            found[key] = (NotebookError(result["error"], result["message"]), result["marker"])
        else:
            found[key] = (read(folder / ("%s.out.ipynb" % stem)), result["marker"])
    return found


if __name__ == "__main__":
    run_all(Path(sys.argv[1]))
