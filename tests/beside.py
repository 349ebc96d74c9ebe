"""The tests that mostly wait (and a few that compute), run beside the suite.

A few test files spend their time waiting, not computing: they start real
`python run.py` processes and stop them with Ctrl-C (test_server.py), start and
end warm servers (test_warm.py), let a load generator run for its seconds
(test_bench.py), and a few tests elsewhere that do the same
(@pytest.mark.beside, in the files of MARKED). And a few files that mostly compute (test_any_string.py,
test_cross_site.py, test_guard.py, test_hash_queue.py, test_lab_attacks.py, test_throttle.py) join them: without them the suite's own process, which
has the most to do, ran alone on one core for its last ten seconds while the other core idled. In a whole run
(the README's command) they run in a child pytest of their own, as
the background job "beside" (tests/background.py), while the suite's own
process goes on with everything else; tests/test_beside.py reads what that
child printed and fails with its failures. Their tests that read another
background job's results stay in the suite's process. Named on the command
line (`python -m pytest tests/test_server.py`), they run in the process as usual.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tutorial.chapters import ROOT

FILES = ("tests/test_any_string.py", "tests/test_bench.py", "tests/test_cross_site.py", "tests/test_guard.py",
         "tests/test_hash_queue.py", "tests/test_lab_attacks.py", "tests/test_server.py", "tests/test_throttle.py",
         "tests/test_warm.py")
BACKGROUND_FIXTURES = ("executed_notebooks", "executed_readmes", "executed_checks", "executed_interruptions",
                       "executed_without_programs", "executed_beside")


# ... and, in other files, the tests marked @pytest.mark.beside (real servers and real seconds)
MARKED = ("tests/test_attempts_under_way.py", "tests/test_device_cookies.py", "tests/test_logout_wins.py",
          "tests/test_two_machines.py")


def runs_beside(item) -> bool:
    """Is this collected test one that runs in the child (its file is one of FILES, or it is marked beside;
    and it reads no background job)?"""
    return ((item.nodeid.split("::")[0] in FILES or item.get_closest_marker("beside") is not None)
            and not any(f in getattr(item, "fixturenames", ()) for f in BACKGROUND_FIXTURES))


def run(folder: Path) -> None:
    """The child run: the tests of FILES that read no background job (TUTORIAL_BESIDE=1 makes the child's
    conftest keep only those), with the suite's own environment."""
    env = dict(os.environ, TUTORIAL_BESIDE="1")
    # (its temporary folder short: Unix sockets in it, Chromium's SingletonSocket among them, allow
    # 107 characters of path at most)
    base = tempfile.mkdtemp(prefix="b")
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rfEs", "-p", "no:cacheprovider",
                               "--basetemp", base, *FILES, *MARKED],
                              cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=600)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    (folder / "results.json").write_text(json.dumps({"code": done.returncode, "output": done.stdout + done.stderr}),
                                         encoding="utf-8")
