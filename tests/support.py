"""Helpers the tests share: which folders to test, and an in-process HTTP client."""
from __future__ import annotations

import asyncio
import functools
import gc
import inspect
import os
import re
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tutorial.chapters import CHAPTERS, FINAL_DIR, LAST
from tutorial.loader import load_app
from tutorial.show import as_curl


@dataclass(frozen=True)
class Target:
    """A folder the tests run against: a chapter, final/, or a learner's project."""
    id: str        # the test id: the chapter slug, "final", or the project folder's name
    number: int    # the step whose behaviour it should have
    path: Path
    learner: bool = False  # a learner's own project (--project), not one of ours

    def __str__(self):
        return self.id


def repository_targets() -> list:
    targets = [Target(ch.slug, ch.number, ch.path) for ch in CHAPTERS]
    targets.append(Target("final", LAST.number, FINAL_DIR))
    return targets


_loaded = {}


def loaded(target: Target):
    """The folder's app, imported once per test run and proven to come from its folder."""
    if target.path not in _loaded:
        code = _loaded[target.path] = load_app(target.path)
        if code.app is not None:
            # Sanic's touch-up rewrites the class's handle_request from its source at each app's start, for
            # that app: 70 ms for each of some forty apps in a run, and in one process the version of the last
            # app started would serve them all. An optimisation only: the apps answer the same without it.
            code.app.config.TOUCHUP = False
        gc.freeze()  # (the app and its modules stay loaded until the end: out of the garbage collector's way)
    return _loaded[target.path]


def use_session_dir(session, folder, monkeypatch) -> None:
    """Point a chapter's core/session.py at `folder` for one test: its TEMPPATH (the
    article's name for the session folder) and, from the step that gives the session
    files a module of their own (core/file_store.py), every FileStore it made at import."""
    path = os.path.join(str(folder), "")
    monkeypatch.setattr(session, "TEMPPATH", path)
    store = getattr(session, "FileStore", None)
    if store is None:
        return
    for name, value in list(vars(session).items()):
        if isinstance(value, store):
            monkeypatch.setattr(session, name, store(path))


class AppClient:
    """Sends HTTP requests to a Sanic app inside this process (ASGI), like curl
    does to a server: no cookie is sent unless a test passes one. With
    `keep_cookies=True` it keeps cookies the way a browser does."""

    _loop = None
    _lifespans = {}  # id(app) -> the app's lifespan task, once started

    def __init__(self, app, keep_cookies=False):
        AppClient.event_loop()
        self.app = app
        self.keep_cookies = keep_cookies
        self.sent = []  # every request, for the learner's report: which case failed
        self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://127.0.0.1:8000")

    @classmethod
    def event_loop(cls):
        """The one event loop the apps (and the session functions the tests call) live in."""
        if cls._loop is None:
            cls._loop = asyncio.new_event_loop()
        return cls._loop

    def _run(self, coroutine):
        return AppClient._loop.run_until_complete(coroutine)

    def run(self, coroutine):
        """Run a coroutine of the app's (a handler) in the loop the app lives in."""
        return self._run(coroutine)

    async def _lifespan_startup(self):
        """What an ASGI server does once before the first request."""
        loop = asyncio.get_running_loop()
        started, never = loop.create_future(), loop.create_future()
        events = [{"type": "lifespan.startup"}]

        async def receive():
            return events.pop() if events else await never  # no shutdown: the app stays up

        async def send(message):
            if message["type"] == "lifespan.startup.failed":
                started.set_exception(RuntimeError(message.get("message")))
            elif message["type"] == "lifespan.startup.complete":
                started.set_result(True)

        # The lifespan task stays pending while the app is up, as under a real ASGI server.
        AppClient._lifespans[id(self.app)] = asyncio.ensure_future(
            self.app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
        await asyncio.wait_for(started, 10)

    def request(self, method, endpoint, *, content=None, json=None, headers=None, cookie=None) -> httpx.Response:
        """`endpoint` is relative to /api/v1/be/ unless it starts with '/'.
        `cookie` is a raw session cookie value, sent as `Cookie: session=<value>`."""
        if id(self.app) not in AppClient._lifespans:
            self._run(self._lifespan_startup())
        if not self.keep_cookies:
            self._client.cookies.clear()
        url = endpoint if endpoint.startswith("/") else "/api/v1/be/" + endpoint
        headers = list((headers or {}).items())
        if cookie is not None:
            value = cookie if isinstance(cookie, bytes) else cookie.encode("utf-8", "surrogateescape")
            headers.append((b"cookie", b"session=" + value))
        response = self._run(self._client.request(method, url, content=content, json=json, headers=headers))
        self.sent.append(response.request)
        return response

    def get(self, endpoint, **kw):
        return self.request("GET", endpoint, **kw)

    def post(self, endpoint, **kw):
        return self.request("POST", endpoint, **kw)

    def login(self, account="admin", password="123456") -> httpx.Response:
        return self.post("login", json={"account": account, "password": password})


_fast_hashes = {}


def fast_password_hash(target: Target) -> str:
    """The manager's password 123456, hashed by the folder's own hashPassword with
    one iteration: from the password-hash step (10) every login runs the hash, and 600,000
    iterations per login would make these tests slow (test_password_hash.py checks the
    real work factor)."""
    if target.path not in _fast_hashes:
        _fast_hashes[target.path] = loaded(target).module("core.tool").hashPassword("123456", 1)
    return _fast_hashes[target.path]


def app_client(target: Target, session_dir, monkeypatch) -> AppClient:
    """A client of the folder's app in this process, as the `client` fixture gives it: session files go to
    `session_dir`, and the manager's password hash takes one iteration."""
    code = loaded(target)
    if code.has("core.session"):
        use_session_dir(code.module("core.session"), session_dir, monkeypatch)
    manager = getattr(code.module("config"), "MANAGER", None)
    if manager is not None:
        monkeypatch.setitem(manager, "password", fast_password_hash(target))
    return AppClient(code.app)


def run_now(coroutine):
    """Run a coroutine to its end and return its result: in the apps' event loop,
    or, when called from inside that loop (an audit hook in the middle of a file
    operation of the app's, tutorial/lab_inside.py), step by step right here,
    which works as long as it has nothing to wait for (the file store)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return AppClient.event_loop().run_until_complete(coroutine)
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("%s waited for I/O while called from inside the event loop" % coroutine.__qualname__)


class SyncView:
    """A chapter's module, seen by test code that calls its functions without
    `await`: from the store-shape step (19) on, the session functions are async. Reading an
    async function gives a plain function that runs it to its end (run_now);
    everything else, and every attribute written (monkeypatch), is the
    module's own. The module itself is `view.module`."""

    __slots__ = ("module",)

    def __init__(self, module):
        object.__setattr__(self, "module", module)

    def __getattr__(self, name):
        value = getattr(self.module, name)
        if not inspect.iscoroutinefunction(value):
            return value

        @functools.wraps(value)
        def synchronous(*args, **kwargs):
            return run_now(value(*args, **kwargs))

        synchronous.asynchronous = value
        return synchronous

    @property
    def __dict__(self):  # what monkeypatch reads, to put back later, is the module's own
        return self.module.__dict__

    def __setattr__(self, name, value):
        # (monkeypatch puts back what it read: the module's own async function, not the plain one)
        setattr(self.module, name, getattr(value, "asynchronous", value))

    def __delattr__(self, name):
        delattr(self.module, name)


def recording(view, name, calls: list):
    """A stand-in for the module's function `name` that records each call's
    arguments in `calls`, then calls the real one; async when the real one is,
    so the app's `await` still works."""
    real = getattr(view.module, name)
    if inspect.iscoroutinefunction(real):
        async def stand_in(*args, **kwargs):
            calls.append(args)
            return await real(*args, **kwargs)
    else:
        def stand_in(*args, **kwargs):
            calls.append(args)
            return real(*args, **kwargs)
    return stand_in


def stopped_at_start(folder, session_dir, env) -> tuple:
    """`python run.py` in a chapter folder, with `env`, when it is expected to stop by itself at start-up (a
    setting it refuses): (its exit code, the lines it printed)."""
    from tutorial.server import ChapterServer

    server = ChapterServer(folder, session_dir=session_dir, env=env).launch()
    try:
        code = server.process.wait(60)
    finally:
        server.stop()
    return code, server.output().strip().splitlines()


def files_in(session_dir) -> list:
    """The names of the files in the session folder, but the lock file the file store keeps there from
    step 32 on (`session_lock`: it never holds a session)."""
    return [p.name for p in session_dir.iterdir() if p.name != "session_lock"]


def set_cookies(response) -> list:
    return response.headers.get_list("set-cookie")


def cookie_attributes(header: str) -> dict:
    """'session=x; Path=/; HttpOnly' -> {'session': 'x', 'path': '/', 'httponly': True}"""
    parts = [p.strip() for p in header.split(";")]
    name, _, value = parts[0].partition("=")
    attrs = {name: value}
    for p in parts[1:]:
        key, eq, val = p.partition("=")
        attrs[key.lower()] = val if eq else True
    return attrs


def envelope(response) -> tuple:
    """(HTTP status, body status, body data): the three things every answer has.
    An answer that is not the {"data": ..., "status": ...} envelope gives
    (HTTP status, None, what the body was), so a failing test shows it."""
    try:
        body = response.json()
    except ValueError:
        return response.status_code, None, response.text[:300]
    if not isinstance(body, dict) or set(body) != {"data", "status"}:
        return response.status_code, None, body
    return response.status_code, body["status"], body["data"]


def show_answer(answer: tuple) -> str:
    """(HTTP status, body status, data) as a learner sees it: HTTP 401 {"data": "退出失败", "status": 401}"""
    import json as _json

    http, status, data = answer
    if status is None:
        return "HTTP %s %s" % (http, data if isinstance(data, str) else _json.dumps(data, ensure_ascii=False))
    return "HTTP %s %s" % (http, _json.dumps({"data": data, "status": status}, ensure_ascii=False))


class WrongAnswer(AssertionError):
    """The app answered something other than what the article answers."""

    def __init__(self, response, expected: tuple, why: str = ""):
        self.got, self.expected, self.why = envelope(response), expected, why
        self.case = as_curl(response.request)
        super().__init__("the article answers %s; this code answered %s%s  [%s]" % (
            show_answer(expected), show_answer(self.got), ": " + why if why else "", self.case))


class CaseFailed(AssertionError):
    """A case of a test that loops over its cases (each_case) failed: `case` names it, `error` is what failed."""

    def __init__(self, case: str, error: BaseException):
        self.case, self.error = case, error
        said = str(error) if isinstance(error, AssertionError) else "%s: %s" % (type(error).__name__, error)
        super().__init__("[case: %s] %s" % (case, said))


def each_case(cases, check, names: str) -> None:
    """What @pytest.mark.parametrize(names, cases) checks, in one test (pytest's cost is per test):
    check(case) for every case ("user, group": check(*case)). The first case that fails ends the test,
    named as parametrize names it (user='admin', group='x'): an assertion (pytest.raises too) as
    CaseFailed; a WrongAnswer as it is (it names its request); any other exception (the code under
    test raising) as it is, its traceback untouched, with a note "case: ..." (case_of)."""
    __tracebackhide__ = True  # (pytest's report shows the test and the check, not this loop)
    names = [n.strip() for n in names.split(",")]
    for case in cases:
        values = tuple(case) if len(names) > 1 else (case,)
        shown = ", ".join("%s=%r" % nv for nv in zip(names, values))
        try:
            check(*values)
        except WrongAnswer:
            raise
        except (AssertionError, pytest.fail.Exception) as error:
            raise CaseFailed(shown, error) from error
        except Exception as error:
            error.__notes__ = [*getattr(error, "__notes__", ()), "case: " + shown]  # (add_note, on Python 3.10 too)
            raise


def case_of(exc) -> str:
    """The case of each_case that `exc` failed on, or ''."""
    notes = [n[len("case: "):] for n in getattr(exc, "__notes__", ()) if n.startswith("case: ")]
    return exc.case if isinstance(exc, CaseFailed) else (notes[-1] if notes else "")


def expect_answer(response, expected: tuple, why: str = "") -> None:
    """Fail with WrongAnswer unless `response` is (HTTP status, body status, data) = `expected`."""
    if envelope(response) != expected:
        raise WrongAnswer(response, expected, why)


TOKEN = re.compile(r"admin\|manage\|[0-9a-f]{32}")


def successful_login(client):
    """Log in as admin/123456 and return the answer; a test that needs a session
    stops here, naming the login's answer, when there is none."""
    res = client.login()
    status, code, data = envelope(res)
    if (status, code) != (200, 0) or not isinstance(data, str) or not TOKEN.fullmatch(data):
        raise WrongAnswer(res, (200, 0, "admin|manage|<token>"), "a login with admin / 123456 should succeed")
    return res


def login_token(client) -> str:
    """Log in as admin/123456 and return the token (see successful_login)."""
    return envelope(successful_login(client))[2]
