"""A test run leaves nothing behind: no file in the temporary folder but
pytest's own basetemp, and no process, even when it is interrupted.

tests/clean_run.py gives every run a temporary folder of its own and removes
it at the end, fails a passing run that left anything in it or left a process
running, and stops what an interrupted run left running. These tests check
that it works."""
import os
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.repository_only

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def test_nothing_is_left_in_the_runs_temporary_folder(executed_notebooks, executed_readmes):
    """The notebooks (their session folders, the benchmark's output), the README
    sessions and every test before this one used the run's own temporary
    folder, and cleaned up after themselves: it is empty."""
    tmp = Path(tempfile.gettempdir())
    assert tmp.name.startswith("tt-"), "the run's temporary folder was not set (tests/clean_run.py): %s" % tmp
    assert sorted(os.listdir(tmp)) == []


@linux_only
@pytest.mark.parametrize("case", ["ctrl-c", "sigterm"])
def test_an_interrupted_run_leaves_no_process_and_no_file_behind(executed_interruptions, case):
    """Ctrl-C a run (a child pytest with an empty temporary folder) while a
    server of it serves and the README sessions run in the background:
    afterwards none of its processes (servers, workers, the background job,
    curl) is left, and its temporary folder holds only pytest's basetemp. The
    same for a run ended by SIGTERM, as `kill` or a CI timeout ends it (turned
    into Ctrl-C: the same clean-up; a server is enough to show it). The runs
    happen in the background job "interruptions" (interrupted.py). (A killed
    notebook kernel leaves no server either: test_notebooks.py.)"""
    run = executed_interruptions[case]
    assert run["seen"], run["output"]
    assert "KeyboardInterrupt" in run["output"], run["output"]
    assert run["left"] == [], "still running after the interrupted run:\n%s\n%s" % ("\n".join(run["left"]),
                                                                                     run["output"])
    assert run["files"] == [], run["output"]
