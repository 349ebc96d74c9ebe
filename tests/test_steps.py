"""Each step's names exist where the article puts them. For a learner's
project this gives the clearest message when a file or a function is missing."""
import pytest

from conftest import loaded
from tutorial.chapters import step


def assert_defines(chapter, step, module, *names):
    code = loaded(chapter)
    file = module.replace(".", "/") + ".py"
    if not code.has(module):
        raise AssertionError("%s: %s (step %02d needs it)" % (file, code.problems.get(module, "not found"), step)
                             ) from code.errors.get(module)
    for name in names:
        assert hasattr(code.module(module), name), "%s has no %s, which step %02d adds" % (file, name, step)


def test_step_00_skeleton(chapter):
    assert_defines(chapter, 0, "config", "PREFIX")
    assert_defines(chapter, 0, "core.tool", "ok", "fail", "checkParam")
    assert_defines(chapter, 0, "core.app", "app")
    assert_defines(chapter, 0, "api.be", "bp", "login")
    assert loaded(chapter).module("config").PREFIX == {"be": "/api/v1/be/", "fe": "/api/v1/fe/"}


@pytest.mark.since(1)
def test_step_01_get_md5_and_make_token(chapter):
    assert_defines(chapter, 1, "core.tool", "getMd5")
    assert_defines(chapter, 1, "core.session", "TEMPPATH", "makeToken")


@pytest.mark.since(2)
def test_step_02_check_token(chapter):
    assert_defines(chapter, 2, "core.session", "checkToken")


@pytest.mark.since(3)
def test_step_03_clear_token_and_updata_token(chapter):
    assert_defines(chapter, 3, "core.session", "clearToken", "updataToken")


@pytest.mark.since(4)
def test_step_04_login_imports_the_session_functions(chapter):
    assert_defines(chapter, 4, "api.be", "makeToken", "checkToken", "clearToken", "updataToken")


@pytest.mark.since(5)
def test_step_05_logout(chapter):
    assert_defines(chapter, 5, "api.be", "logout")


# Beyond the articles: each step's names (the tests of what they do are in test_<step>.py).
BEYOND = [
    ("hostile-input", "config", ("GROUPS",)),
    ("atomic-files", "core.file_store", ("FileStore",)),
    ("atomic-files", "core.session", ("STORE",)),
    ("password-hash", "config", ("MANAGER", "PASSWORD_ITERATIONS")),
    ("password-hash", "core.tool", ("hashPassword", "checkPassword")),
    ("hash-thread", "config", ("PASSWORD_THREADS",)),
    ("hash-thread", "api.be", ("HASHING", "passwordMatches")),
    ("throttle", "config", ("LOGIN_FREE_FAILURES", "LOGIN_MAX_WAIT", "LOGIN_FORGET")),
    ("throttle", "core.file_counters", ("loginWait",)),
    ("throttle", "core.session", ("holdLogin",)),
    ("sweep", "config", ("SESSION_TTL", "SWEEP_EVERY")),
    ("sweep", "core.session", ("sweepTokens",)),
    ("sweep", "api.be", ("sweepForever",)),
    ("cross-site", "config", ("COOKIE_SECURE",)),
    ("cross-site", "api.be", ("COOKIE", "dropCookie", "crossSite")),
    ("guard", "core.session", ("openSession",)),
    ("guard", "api.be", ("needSession", "whoAmI")),
    ("sliding-session", "config", ("SESSION_REFRESH",)),
    ("redis-store", "config", ("SESSION_STORE",)),
    ("redis-store", "core.session", ("makeStore",)),
    ("redis-store", "core.redis_store", ("RedisStore",)),
    ("redis-outage", "config", ("checkedStore",)),
    ("redis-outage", "core.redis_store", ("StoreUnavailable",)),
    ("failures-not-attempts", "core.session", ("loginEnded",)),
    ("failures-not-attempts", "core.file_counters", ("end",)),
    ("attempts-under-way", "config", ("LOGIN_QUEUE", "LOGIN_STALE")),
    ("attempts-under-way", "core.file_counters", ("allowed", "start")),
    ("device-cookies", "config", ("DEVICE_SECRET", "DEVICE_DAYS")),
    ("device-cookies", "core.session", ("loginCounters", "makeDevice")),
]


def _names_of(name):
    wanted = [(module, names) for n, module, names in BEYOND if n == name]

    @pytest.mark.since(name)
    def test(chapter):
        for module, names in wanted:
            assert_defines(chapter, step(name), module, *names)

    test.__name__ = "test_step_%02d_%s" % (step(name), name.replace("-", "_"))
    return test


for _name in dict.fromkeys(n for n, _, _ in BEYOND):
    _test = _names_of(_name)
    globals()[_test.__name__] = _test
