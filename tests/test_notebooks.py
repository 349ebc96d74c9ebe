"""The notebooks run from a fresh kernel on every test run, show what is
committed, and leave no server process and no file behind."""
import os
import signal
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tutorial.chapters import ROOT
from tutorial.notebooks import NOTEBOOKS, differences, execute, normalise, notebooks, read

pytestmark = pytest.mark.repository_only

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


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


def test_every_notebook_is_tested():
    assert [p.name for p in notebooks()] == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert len(notebooks()) >= 2


def broken_copy(folder):
    """Notebook 01 with a failing cell right after the server has started."""
    import nbformat

    nb = read(NOTEBOOKS / "01-article-session.ipynb")
    start = next(i for i, c in enumerate(nb.cells) if "server.start()" in c.source)
    nb.cells.insert(start + 1, nbformat.v4.new_code_cell("raise RuntimeError('a cell fails')"))
    path = folder / "broken.ipynb"
    nbformat.write(nb, str(path))
    return path


@pytest.fixture(scope="module")
def fresh_runs(tmp_path_factory):
    """Every notebook executed from a fresh kernel, all at once (each has its own
    kernel and server), plus a copy of notebook 01 whose second cell fails. For
    each: the executed notebook or the error, and the marker its processes carried."""
    def run(path):
        marker, env = marker_env()
        try:
            return execute(path, env=env), marker
        except Exception as exc:  # reported by the test of that notebook
            return exc, marker

    before = repository_files()
    paths = notebooks() + [broken_copy(tmp_path_factory.mktemp("broken"))]
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        results = dict(zip(paths, pool.map(run, paths)))
    results["broken"] = results.pop(paths[-1])
    return results, before


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_notebook_runs_and_shows_what_is_committed(path, fresh_runs):
    results, before = fresh_runs
    fresh, marker = results[path]
    if isinstance(fresh, Exception):
        raise fresh  # a cell failed, an assertion in the notebook included
    diff = differences(read(path), fresh)
    assert not diff, ("%s no longer shows what a fresh run shows; after an intended change run "
                      "python -m tutorial.notebooks --update\n\n%s" % (path.name, "\n\n".join(diff)))
    if sys.platform.startswith("linux"):
        assert wait_until_gone(marker) == [], "a process of the notebook run is still alive"
    assert repository_files() == before, "a notebook wrote into the repository"


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_committed_notebook_is_normalised(path):
    """Committed as the update command writes it: masked values, counts 1..n, no
    timings, no kernel version (so a re-run gives no diff)."""
    committed = read(path)
    assert normalise(committed) == committed
    assert path.read_text(encoding="utf-8").count('"execution_count": null') == 0, "committed without outputs"


@linux_only
def test_a_failing_cell_leaves_no_server_behind(fresh_runs):
    from nbclient.exceptions import CellExecutionError

    error, marker = fresh_runs[0]["broken"]
    assert isinstance(error, CellExecutionError) and "a cell fails" in str(error)
    assert wait_until_gone(marker) == []


@linux_only
def test_a_killed_kernel_leaves_no_server_behind():
    from jupyter_client.manager import start_new_kernel

    nb = read(NOTEBOOKS / "01-article-session.ipynb")
    setup = next(c.source for c in nb.cells if "server.start()" in c.source)
    marker, env = marker_env()
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(NOTEBOOKS), env={**os.environ, **env})
    try:
        reply = kc.execute_interactive(setup, timeout=60)
        assert reply["content"]["status"] == "ok"
        servers = [p for p in processes_with(marker) if p != km.provisioner.pid]
        assert servers, "the server did not start"
        os.kill(km.provisioner.pid, signal.SIGKILL)  # no atexit, no finally: only the OS can clean up
        assert wait_until_gone(marker) == [], "the server outlived its kernel"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
