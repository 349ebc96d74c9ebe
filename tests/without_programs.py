"""The suite where the optional programs are not installed, as on most laptops.

The README calls redis-server (or valkey-server), Chromium with its driver,
wrk and strace optional: without them the tests that need them skip, each
saying how to install what it needs, and nothing else changes. CI installs them
all (and fails on any skip), so this runs those tests once more, in a child
pytest whose PATH has every program of this one but those, with CI unset. Run
by tests/background.py as the job "without-programs"; read by
tests/test_optional_programs.py.
"""
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tutorial.chapters import ROOT

HIDDEN = ("redis-server", "valkey-server", "chromium", "chromium-browser", "google-chrome", "chromedriver",
          "wrk", "strace")

# What makes a test need one of them (a file with any of these is run whole, below).
NEEDS = re.compile(r"\b(redis_server|empty_redis|redis_keys|redis_stores|chromium|find_binary|NEEDS_REDIS)\b"
                   r"|which\(\"(wrk|strace)\"\)")

# The tests among them that read a background job's results (None: the whole file), with the part of the job they need.
READERS = {
    "tests/test_check_your_work.py": (["test_tests_that_cannot_run_here_are_named_with_what_to_install"],
                                      {"TUTORIAL_CHECK_SCENARIOS": "copy-last,copy-last-without-redis"}),
    "tests/test_notebooks.py": (["test_notebook_runs_and_shows_what_is_committed[04-security-lab]",
                                 "test_notebook_runs_and_shows_what_is_committed[06-two-machines]"],
                                {"TUTORIAL_NOTEBOOKS": ""}),  # (they skip before reading a notebook)
    "tests/test_lab.py": (None, {"TUTORIAL_NOTEBOOKS": ""}),  # (the whole file: each test reads the lab, which needs Redis)
    "tests/test_lab_third.py": (None, {"TUTORIAL_NOTEBOOKS": ""}),  # (the same)
    "tests/test_bench.py": (["test_wrk_generator_measures_a_path", "test_the_redis_rows_are_measured",
                             "test_one_redis_get_is_measured_both_ways", "test_system_calls_per_request_are_counted"],
                            {}),
}


def needs_a_program(item) -> bool:
    """Does this collected test need one of them: one of its fixtures, or its own code, names one (the
    child run keeps only those, and every test of a file in READERS: the rest of each file runs in the
    suite itself, where PATH makes no difference to it)."""
    if item.nodeid.split("::")[0] in READERS:
        return True
    function = getattr(item, "function", None)
    return bool(NEEDS.search(" ".join(item.fixturenames))
                or function is not None and NEEDS.search(inspect.getsource(function)))


def needing_files() -> list:
    """Every test file with a test that needs an optional program."""
    return sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").glob("test_*.py")
                  if (NEEDS.search(p.read_text(encoding="utf-8")) or p.relative_to(ROOT).as_posix() in READERS)
                  and p.name != "test_optional_programs.py")


def selection() -> tuple:
    """(the node ids and files to run, the environment the background jobs need)."""
    args, env = [], {}
    for name in needing_files():
        if name in READERS:
            tests, job_env = READERS[name]
            args += ["%s::%s" % (name, test) for test in tests] if tests else [name]
            env.update(job_env)
        else:
            args.append(name)
    return args, env


def path_without(folder: Path, hidden=HIDDEN) -> str:
    """A PATH with every program of this one but `hidden`: one folder of links."""
    folder.mkdir()
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(entry):
            continue
        for name in os.listdir(entry):
            link, target = folder / name, os.path.join(entry, name)
            if name not in hidden and not os.path.lexists(link) and os.access(target, os.X_OK):
                os.symlink(target, link)
    return str(folder)


def run(folder: Path) -> None:
    args, job_env = selection()
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "CHROMIUM", "CHROMEDRIVER", "PYTEST_ADDOPTS")}
    tmp = folder / "tmp"  # (its own temporary folder, inside this job's: pytest's basetemp goes there)
    tmp.mkdir()
    env.update(job_env, PATH=path_without(folder / "bin"), TMPDIR=str(tmp), TEMP=str(tmp), TMP=str(tmp),
               TUTORIAL_ONLY_NEEDING_PROGRAMS="1")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           "--junitxml", str(folder / "junit.xml"), *args],
                          cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=600)
    (folder / "results.json").write_text(json.dumps(
        {"code": done.returncode, "output": done.stdout + done.stderr, "args": args,
         "skipped": skipped_tests(folder / "junit.xml")}), encoding="utf-8")


def skipped_tests(junit: Path) -> list:
    """The node ids of the tests that skipped, from the child run's JUnit XML."""
    import xml.etree.ElementTree as ElementTree

    if not junit.is_file():
        return []
    return ["%s.py::%s" % (case.get("classname", "").replace(".", "/"), case.get("name"))
            for case in ElementTree.parse(junit).iter("testcase") if case.find("skipped") is not None]
