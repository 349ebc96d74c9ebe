"""The learner's check, run on the articles' code as typed and on typical slips.

Each run is `python -m pytest tests --project FOLDER --step NN`, started from
the repository's root as the README says, on a project built from a chapter by
as_typed.py. The runs take a while together, so background.py makes them in a
process of its own while the rest of the suite runs; test_check_your_work.py
reads what each printed (the fixture `executed_checks`).
"""
from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import shutil
from pathlib import Path

from as_typed import SLIPS, TRIES, as_typed, edit, with_slip
from tutorial.chapters import CHAPTERS, ROOT, by_key


def _copy(key):
    return lambda dest: Path(shutil.copytree(by_key(key).path, dest, ignore=shutil.ignore_patterns("__pycache__")))


def _without_session_module(dest):
    folder = _copy("01")(dest)
    (folder / "core" / "session.py").unlink()
    return folder


def _with(build, file, old, new):
    def make(dest):
        folder = build(dest)
        path = folder / file
        path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
        return folder
    return make


def _tried(name):
    def make(dest):
        folder = as_typed("05", dest, forced_fixes=True, shell=False)
        assert edit(folder, TRIES[name]) == len(TRIES[name]), "the try %s no longer applies" % name
        return folder
    return make


def scenarios() -> dict:
    """name -> (how to build the project at a path, step, extra options[, environment])"""
    runs = {}
    for ch in CHAPTERS[:6]:
        runs["typed-" + ch.tag] = (lambda dest, s=ch.tag: as_typed(s, dest), ch.tag, ())
    for tag in ("00", "05"):  # the first step, and the last, whose check runs the tests of every step
        runs["forced-" + tag] = (lambda dest, s=tag: as_typed(s, dest, forced_fixes=True), tag, ())
    for name, (step, *_) in SLIPS.items():
        runs["slip-" + name] = (lambda dest, n=name: with_slip(n, dest), "%02d" % step, ())
    for name in TRIES:
        runs["try-" + name] = (_tried(name), "05", ())
    runs["verbose"] = (lambda dest: with_slip("missing-import", dest), "01", ("-v",))
    runs["syntax-error"] = (_with(lambda dest: as_typed("03", dest, forced_fixes=True, shell=False),
                                  "core/session.py", "def clearToken(tokenStr):", "def clearToken(tokenStr)"), "03", ())
    runs["import-error"] = (_with(lambda dest: as_typed("04", dest, forced_fixes=True, shell=False),
                                  "api/be.py", "from core.session", "from core.sesion"), "04", ())
    runs["readme-example"] = (_with(lambda dest: as_typed("04", dest), "core/app.py", "Sanic(__name__)",
                                    "Sanic('webapp')"), "04", ())
    runs["copy-02-at-02"] = (_copy("02"), "02", ())
    runs["copy-02-at-03"] = (_copy("02"), "03", ())
    runs["copy-01-without-session"] = (_without_session_module, "01", ())
    runs["copy-last"] = (_copy(CHAPTERS[-1].tag), CHAPTERS[-1].tag, ())
    # (no program on PATH: no redis-server, so the Redis tests cannot run, and the report must
    # say so, also where CI=true, as in the learner's own CI or in ours)
    runs["copy-last-without-redis"] = (_copy(CHAPTERS[-1].tag), CHAPTERS[-1].tag, (), {"PATH": "", "CI": "true"})
    return runs


def _listing(folder: Path) -> list:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def run_one(name: str, folder: Path) -> dict:
    """Build scenario `name` under `folder` and run the check on it, as a learner
    does from the repository's root. What it printed, its exit code, and whether
    the project or the repository's root gained anything."""
    import pytest

    build, step, options, *env = scenarios()[name]
    project = build(folder / name / "my-blog")
    before, root_before = _listing(project), sorted(os.listdir(ROOT))
    out = io.StringIO()
    here, saved = os.getcwd(), dict(os.environ)
    os.chdir(ROOT)
    os.environ.update(*env)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = pytest.main([str(ROOT / "tests"), "--project", str(project), "--step", step, *options,
                                "--basetemp", str(folder / name / "basetemp")])  # (not the system's temp folder)
    finally:
        os.chdir(here)
        os.environ.clear()
        os.environ.update(saved)
    return {"code": int(code), "out": out.getvalue(), "project": str(project),
            "project_changed": _listing(project) != before, "root_changed": sorted(os.listdir(ROOT)) != root_before}


def run_all(folder: Path) -> None:
    """Every scenario, one after another; results.json is written as they finish."""
    results = {}
    only = os.environ.get("TUTORIAL_CHECK_SCENARIOS")  # (a child run that reads only some: without_programs.py)
    for name in scenarios() if only is None else only.split(","):
        # What the runs before left in memory (modules, apps) stays: kept out of the garbage collector's way,
        # or each run's last full collection (pytest's, at its end) would walk through all of it again.
        gc.freeze()
        try:
            results[name] = run_one(name, folder)
        except Exception as exc:  # reported by the test that reads this scenario
            results[name] = {"error": "%s: %s" % (type(exc).__name__, exc)}
    (folder / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
