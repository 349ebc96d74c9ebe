"""The notebooks run from a fresh kernel on every test run, show what is
committed, and leave no server process and no file behind."""
import os
import signal
import sys

import pytest

from background import marker_env, processes_with, repository_files, wait_until_gone
from tutorial.notebooks import NOTEBOOKS, differences, normalise, notebooks, read

pytestmark = pytest.mark.repository_only

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
NEEDS_REDIS = {"04-security-lab.ipynb", "06-two-machines.ipynb"}  # start a redis-server of their own


def test_every_notebook_is_tested():
    assert [p.name for p in notebooks()] == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert len(notebooks()) >= 2


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_notebook_runs_and_shows_what_is_committed(path, executed_notebooks):
    from tutorial.redis_server import INSTALL, find_binary

    if path.name in NEEDS_REDIS and find_binary() is None:
        pytest.skip("This notebook " + INSTALL)
    results, before = executed_notebooks
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
def test_a_failing_cell_leaves_no_server_behind(executed_notebooks):
    error, marker = executed_notebooks[0]["broken"]
    assert error.kind == "CellExecutionError" and "a cell fails" in str(error)
    assert wait_until_gone(marker) == []


@linux_only
def test_a_killed_kernel_leaves_no_server_behind(tmp_path):
    from jupyter_client.manager import start_new_kernel

    nb = read(NOTEBOOKS / "01-article-session.ipynb")
    setup = next(c.source for c in nb.cells if c.cell_type == "code" and "start(\"final\")" in c.source)
    marker, env = marker_env()
    # (a killed kernel cannot remove its session folder: it goes to this test's folder)
    env.update(TMPDIR=str(tmp_path), TEMP=str(tmp_path), TMP=str(tmp_path))
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
