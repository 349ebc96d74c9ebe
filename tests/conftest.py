"""Fixtures that read like the story: a `chapter`, its `session` helper, a `client`.

Every test that takes the `chapter` fixture runs once per chapter folder, from
the step that introduced the behaviour (`@pytest.mark.since(2)`) on (final/,
the last chapter file for file, when named: --chapter final). The test id
names the folder: test_expired_token[03-clear-update-token].
"""
import gc
import os
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest  # noqa: E402
from sanic import Sanic  # noqa: E402

# Every chapter's app is called 'webapp'; Sanic refuses a second app of the same
# name in one process unless test mode is on.
Sanic.test_mode = True

# The servers this run starts (here, in the background jobs and in the notebooks' kernels) run
# their run.py in a warm interpreter (tutorial/warm.py), but those whose start itself is under
# test: tests/test_server.py starts `python run.py` for real.
os.environ.setdefault("TUTORIAL_WARM_SERVERS", "1")

from beside import BACKGROUND_FIXTURES, runs_beside  # noqa: E402
from learner import LearnerReport, learner_target  # noqa: E402
from support import AppClient, SyncView, Target, app_client, loaded, repository_targets, use_session_dir  # noqa: E402
from tutorial.chapters import by_key, step  # noqa: E402
from tutorial.loader import module_origin  # noqa: E402


# ----------------------------------------------------------------- which folders

def _chosen(config, targets):
    wanted = config.getoption("--chapter")
    if not wanted:
        return targets
    keys = set()
    for key in wanted:
        key = key.strip().rstrip("/\\")
        if key == "final" or key.endswith("final"):
            keys.add("final")
            continue
        try:
            keys.add(by_key(key).slug)
        except KeyError as err:
            raise pytest.UsageError(str(err))
    return [t for t in targets if t.id in keys]


def pytest_configure(config):
    config.addinivalue_line("markers", "since(step): the behaviour exists from this chapter on")
    config.addinivalue_line("markers", "until(step): the behaviour exists up to this chapter only")
    config.addinivalue_line("markers", "repository_only: checks this repository itself, not a learner's project")
    config.addinivalue_line("markers", "not_this_step: (internal) no folder to run this test against")
    config.addinivalue_line("markers", "final_only: runs against final/ only")
    config.addinivalue_line("markers", "beside: mostly waits (real servers, real seconds): in a whole run, runs in a "
                                       "process of its own beside the suite (tests/beside.py)")
    config.addinivalue_line("markers", "full_run_only: runs only when the whole suite runs (it counts the suite's tests)")
    config.addinivalue_line("markers", "readme_has(text): runs against the folders whose README.md has this text")
    config.addinivalue_line("markers", "slow: starts real servers, browsers or waits real time; runs against each "
                                       "chapter but not final/, which test_layout proves identical to the last one")
    config.addinivalue_line("markers", "beyond_article(zh, en): a rule of this repository that the article's code "
                                       "does not follow; a learner's project hears it as a note (zh, en), not a failure")
    config.addinivalue_line("markers", "look_at(function, pattern): where in a learner's code this test's "
                                       "failure points (the line of `function` matching `pattern`)")
    if config.getoption("--project"):
        target = learner_target(config)
        config.tutorial_targets = [target]
        config.pluginmanager.register(LearnerReport(target, config), "tutorial-learner-report")
    else:
        if config.getoption("--step"):
            raise pytest.UsageError("--step goes with --project (to check your own code); "
                                    "for one of this repository's chapters use --chapter")
        config.tutorial_targets = _chosen(config, repository_targets())


def _step_range(definition):
    """since(step) / until(step): a step's number or name (tutorial.chapters.step)."""
    since = definition.get_closest_marker("since")
    until = definition.get_closest_marker("until")
    return (step(since.args[0]) if since else 0), (step(until.args[0]) if until else 99)


def pytest_generate_tests(metafunc):
    if "chapter" not in metafunc.fixturenames:
        return
    low, high = _step_range(metafunc.definition)
    targets = [t for t in metafunc.config.tutorial_targets if low <= t.number <= high]
    readme_has = metafunc.definition.get_closest_marker("readme_has")
    if readme_has:  # only the folders whose README.md has this text (a section the test reads)
        targets = [t for t in targets if t.learner or readme_has.args[0] in _readme(t.path)]
    if metafunc.definition.get_closest_marker("final_only"):
        targets = [t for t in targets if t.id == "final"]
    elif not metafunc.config.getoption("--chapter"):
        # final/ is the last chapter file for file (test_final_is_identical_to_the_last_chapter): a run that names
        # no folder tests the last chapter, and final/ only where a test is about final/ itself (final_only).
        # --chapter final runs everything on final/.
        targets = [t for t in targets if t.id != "final"]
    if (metafunc.definition.get_closest_marker("slow") or "redis_server" in metafunc.fixturenames) \
            and not metafunc.definition.get_closest_marker("final_only") and not metafunc.config.getoption("--chapter"):
        # A slow test (real servers, a browser, Redis: every test that uses the run's redis-server,
        # real time) runs on the chapter that brings its
        # behaviour and on the last one: the chapters between change other things, and final/ is the
        # last chapter file for file (test_final_is_identical_to_the_last_chapter). --chapter runs it
        # on whatever it names.
        repository = [t for t in targets if not t.learner and t.id != "final"]
        ends = {repository[0].id, repository[-1].id} if repository else set()
        targets = [t for t in targets if t.learner or t.id in ends]
    if not targets:
        targets = [pytest.param(None, marks=pytest.mark.not_this_step)]
    metafunc.parametrize("chapter", targets, ids=str)


def _readme(folder):
    path = folder / "README.md"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


_WHOLE_FILE_REPOSITORY_ONLY = re.compile(r"^pytestmark = .*\brepository_only\b", re.M)


_FILE_MARKS = re.compile(r"^pytestmark = (\[.*?\]|.*)$", re.M | re.S)
_SINCE = re.compile(r"mark\.since\((?:\"([\w-]+)\"|(\d+))\)")


def _all_later(text: str, number: int) -> bool:
    """Every test of the file is for steps after `number`: the file's pytestmark has a since(), and no
    since() in it (the file's, or a test's own) is `number` or earlier."""
    marks = _FILE_MARKS.search(text)
    if not marks or not _SINCE.search(marks.group(1)):
        return False
    return min(step(name or int(n)) for name, n in _SINCE.findall(text)) > number


def pytest_ignore_collect(collection_path, config):
    """A learner's check (--project) does not even collect the files that only check this
    repository (their pytestmark says repository_only), nor those whose every test is for a later step:
    it would deselect all their tests (and collecting them is most of a check's time at the first steps)."""
    if (config.getoption("--project") and collection_path.suffix == ".py"
            and collection_path.name.startswith("test_")):
        text = collection_path.read_text(encoding="utf-8")
        if _WHOLE_FILE_REPOSITORY_ONLY.search(text) or _all_later(text, config.tutorial_targets[0].number):
            return True
    return None


def _full_run(config) -> bool:
    """The whole suite, as the README's command runs it: no file, -k, -m, --chapter or --deselect."""
    return (config.args_source == pytest.Config.ArgsSource.TESTPATHS and not config.option.keyword
            and not config.option.markexpr and not config.getoption("--chapter")
            and not config.getoption("--project") and not config.getoption("deselect"))


def _runs_against_a_chosen_folder(item):
    if item.get_closest_marker("not_this_step"):
        return False  # its behaviour comes after the chosen step
    if item.get_closest_marker("full_run_only") and not _full_run(item.config):
        return False
    if item.config.getoption("--project") and item.get_closest_marker("repository_only"):
        return False
    if item.config.getoption("--chapter") or item.config.getoption("--project"):
        # only the chosen chapters' tests, not the checks of the repository as a whole
        return "chapter" in getattr(getattr(item, "callspec", None), "params", {})
    return True



def pytest_collection_modifyitems(config, items):
    keep = [i for i in items if _runs_against_a_chosen_folder(i)]
    if os.environ.get("TUTORIAL_ONLY_NEEDING_PROGRAMS") == "1":  # (the child run of tests/without_programs.py)
        from without_programs import needs_a_program

        keep = [i for i in keep if needs_a_program(i)]
    if os.environ.get("TUTORIAL_BESIDE") == "1":  # (the child run of tests/beside.py)
        keep = [i for i in keep if runs_beside(i)]
    elif _full_run(config):  # the tests that mostly wait run beside this process (tests/beside.py)
        config.tutorial_beside = [i.nodeid for i in keep if runs_beside(i)]
        keep = [i for i in keep if not runs_beside(i)]
    if len(keep) != len(items):
        kept = set(map(id, keep))
        config.hook.pytest_deselected(items=[i for i in items if id(i) not in kept])
    # Tests that wait for work done in the background go last, so that
    # everything else runs while that work goes on.
    waits = lambda item: any(f in getattr(item, "fixturenames", ()) for f in BACKGROUND_FIXTURES)  # noqa: E731
    items[:] = [i for i in keep if not waits(i)] + [i for i in keep if waits(i)]


# ----------------------------------------------------------------- the code under test

def assert_from(module, chapter: Target):
    for origin in module_origin(module):
        assert chapter.path in origin.parents, (
            "%s was imported from %s, not from %s" % (module.__name__, origin, chapter.path))
    return module


@pytest.fixture
def app(chapter):
    """The chapter's Sanic app with its blueprint registered, as run.py does."""
    code = loaded(chapter)
    if code.app is None:
        # `from`: the learner's report follows the chain to the line that failed
        raise AssertionError("the app could not be built (run.py's imports failed): %s" % "; ".join(
            "%s: %s" % (name, why.split("\n")[0]) for name, why in code.problems.items())
        ) from next(iter(code.errors.values()), None)
    assert_from(code.module("api.be"), chapter)
    return code.app


@pytest.fixture
def tool(chapter):
    return assert_from(loaded(chapter).module("core.tool"), chapter)


@pytest.fixture
def config(chapter):
    return assert_from(loaded(chapter).module("config"), chapter)


@pytest.fixture
def be(chapter):
    """The chapter's api/be.py (its endpoints and what they use)."""
    return assert_from(loaded(chapter).module("api.be"), chapter)


@pytest.fixture
def counters(chapter):
    """The chapter's core/file_counters.py (the throttle step on): the login counters as files."""
    return assert_from(loaded(chapter).module("core.file_counters"), chapter)


@pytest.fixture
def session_dir(tmp_path):
    """A fresh, empty session folder for this test."""
    folder = tmp_path / "temp"
    folder.mkdir()
    return folder


@pytest.fixture
def session(chapter, session_dir, monkeypatch):
    """The chapter's core/session.py, writing its session files into `session_dir`;
    its async functions (from the store-shape step on) called like plain ones (support.SyncView)."""
    module = assert_from(loaded(chapter).module("core.session"), chapter)
    use_session_dir(module, session_dir, monkeypatch)
    return SyncView(module)


@pytest.fixture
def clock(session, monkeypatch):
    """Controls the time the session helper sees: `clock.now`, `clock.advance(s)`."""
    state = SimpleNamespace(now=int(time.time()))
    state.advance = lambda seconds: setattr(state, "now", state.now + seconds)
    fake = lambda: float(state.now)  # noqa: E731
    if isinstance(getattr(session, "time", None), type(os)):  # import time
        monkeypatch.setattr(session, "time", SimpleNamespace(time=fake, sleep=time.sleep))
    else:  # from time import time
        monkeypatch.setattr(session, "time", fake)
    return state


@pytest.fixture
def client(chapter, app, session_dir, monkeypatch):
    """Sends requests to the chapter's app; session files go to `session_dir` (support.app_client)."""
    code = loaded(chapter)
    if code.has("core.session"):
        assert_from(code.module("core.session"), chapter)
    return app_client(chapter, session_dir, monkeypatch)


@pytest.fixture
def browser(client):
    """Like `client`, but keeps cookies between requests the way a browser does."""
    return AppClient(client.app, keep_cookies=True)


@pytest.fixture
def admin_file(session_dir):
    """Where the admin's session file for the 'manage' group must be."""
    return session_dir / "manage_21232f297a57a5a743894a0e4a801fc3"


@pytest.fixture
def repo_root():
    return Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------- work in the background

# Executing the notebooks (the benchmark's tiny run among them) and running
# every README's session take a while, but they happen in other processes
# (kernels, servers, curl, load generators). So they start as soon as the tests
# that need them are collected, and the rest of the suite runs meanwhile; the
# fixtures below wait.
_background = {}


def pytest_collection_finish(session):
    import background

    # Some 5,000 test items and every test module are alive until the end: kept out of the garbage
    # collector's way (each of its full collections would walk through them all again: 1.6 s in a run).
    gc.freeze()
    wanted = {name for item in session.items for name in getattr(item, "fixturenames", ())}
    for job in ("notebooks", "readmes", "checks", "interruptions", "without-programs", "beside"):
        if "executed_" + job.replace("-", "_") in wanted:
            folder = _job_folder(session.config, job)
            _background[job] = (folder, background.repository_files(), background.start(job, folder))


def _job_folder(config, job):
    """basetemp/<job>, for a background job's results: inside pytest's basetemp,
    not left in the system's temporary folder."""
    return config._tmp_path_factory.mktemp(job, numbered=False)


@pytest.fixture(scope="session")
def executed_notebooks():
    """Every notebook executed once per test run (see background.py): for each,
    the executed notebook or its error, and the files of the repository before."""
    import background

    folder, before, runner = _background["notebooks"]
    background.wait(runner, folder)
    return background.notebook_results(folder), before


@pytest.fixture(scope="session")
def executed_readmes():
    """Every README's session, run once per test run (see background.py):
    {chapter slug or "README.md": what happened}."""
    return _job_results("readmes", "outcome.json")


@pytest.fixture(scope="session")
def executed_checks():
    """The learner's check, run on each project of check_runs.py (see background.py):
    {scenario: {"code", "out", "project", "project_changed", "root_changed"}}."""
    return _job_results("checks", "results.json")


def _job_results(job, name):
    import json

    import background

    folder, _, runner = _background[job]
    background.wait(runner, folder)
    return json.loads((folder / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def executed_interruptions():
    """Test runs interrupted in the middle (interrupted.py, see background.py):
    {"ctrl-c" or "sigterm": {"output", "seen", "left", "files"}}."""
    return _job_results("interruptions", "results.json")


@pytest.fixture(scope="session")
def executed_without_programs():
    """The tests that need an optional program, run in a child pytest where none
    of them is on PATH and CI is unset (without_programs.py): {"code", "output", ...}."""
    return _job_results("without-programs", "results.json")


@pytest.fixture(scope="session")
def executed_beside():
    """The tests that mostly wait, run in a child pytest beside this one (beside.py): {"code", "output"}."""
    return _job_results("beside", "results.json")


@pytest.fixture(scope="session")
def chromium(tmp_path_factory):
    """One headless Chromium for the whole run (tutorial/browser.py), shared by
    the browser tests; skipped, saying what to install, where there is none.
    Its files stay inside pytest's own temporary folder."""
    from tutorial import browser

    if browser.missing():
        pytest.skip("This browser test " + browser.missing())
    # (a long folder on purpose: pytest's own grows with every run, and macOS's is long; tutorial/browser.py must
    # keep Chromium's socket out of it)
    long = tmp_path_factory.mktemp("chromium-in-a-folder-whose-path-is-as-long-as-a-macos-temporary-folder-can-be")
    with browser.chromium(width=1366, height=900, workdir=long) as driver:
        yield driver

# ----------------------------------------------------------------- a Redis server (chapters 20-22)

@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One throwaway redis-server (or valkey-server) for the whole run, on a free
    port, saving nothing (tutorial/redis_server.py). Where there is none, the
    tests that need it skip, saying how to install it."""
    from tutorial.redis_server import INSTALL, RedisServer, find_binary

    if find_binary() is None:
        pytest.skip("This test " + INSTALL)
    server = RedisServer(workdir=tmp_path_factory.mktemp("redis")).start()  # (its folder: in pytest's own)
    yield server
    server.close()


@pytest.fixture
def empty_redis(redis_server):
    """The run's Redis server, running (a test may have stopped it) and empty."""
    import redis

    if redis_server.process.poll() is not None:
        redis_server.start()
    with redis.Redis(port=redis_server.port) as client:
        client.flushall()
    return redis_server
