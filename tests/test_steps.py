"""Each step's names exist where the article puts them. For a learner's
project this gives the clearest message when a file or a function is missing."""
import pytest

from conftest import loaded


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


@pytest.mark.since(7)
def test_step_07_guard_and_who_am_i(chapter):
    assert_defines(chapter, 7, "config", "SESSION_REFRESH")
    assert_defines(chapter, 7, "core.session", "openSession")
    assert_defines(chapter, 7, "api.be", "needSession", "whoAmI")


@pytest.mark.since(8)
def test_step_08_two_stores_behind_async_session_functions(chapter):
    import inspect

    assert_defines(chapter, 8, "config", "SESSION_STORE")
    assert_defines(chapter, 8, "core.session", "STORE", "makeStore", "FileStore")
    assert_defines(chapter, 8, "core.redis_store", "RedisStore", "StoreUnavailable")
    session = loaded(chapter).module("core.session")
    for name in ("makeToken", "checkToken", "clearToken", "updataToken", "openSession", "holdLogin", "loginSucceeded"):
        assert inspect.iscoroutinefunction(getattr(session, name)), (
            "core/session.py: %s is not async; step 08 makes the session functions async (Redis is network I/O)" % name)
    assert isinstance(session.makeStore("file"), session.FileStore), "SESSION_STORE=file is the session folder"
