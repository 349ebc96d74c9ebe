"""Chapter 06's fixes, each tested on its own (the attacks themselves are in test_lab.py)."""
import hashlib
import os
import re
import subprocess
import sys

import pytest

from support import cookie_attributes, envelope, set_cookies
from test_login import assert_cookie_deleted
from tutorial.lab import FileAccess

pytestmark = pytest.mark.since(6)

ADMIN_FILE = "manage_21232f297a57a5a743894a0e4a801fc3"
TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def config(chapter):
    from conftest import loaded

    return loaded(chapter).module("config")


# ---------------------------------------------------------------- tokens

def test_token_comes_from_secrets(chapter, session, clock, monkeypatch):
    calls = []

    def token_hex(n):
        calls.append(n)
        return "f" * (2 * n)

    monkeypatch.setattr(session.secrets, "token_hex", token_hex)
    assert session.makeToken("admin", "manage") == "admin|manage|" + "f" * 32
    assert calls == [16], "128 bits: secrets.token_hex(16)"


def test_token_is_not_the_articles_md5(chapter, session, clock):
    token = session.makeToken("admin", "manage").split("|")[2]
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    guesses = {hashlib.md5(("admin%d%d" % (clock.now, r)).encode()).hexdigest() for r in range(10000, 100000)}
    assert token not in guesses


def test_tokens_are_compared_in_constant_time(chapter, session, clock, monkeypatch):
    compared = []
    real = session.hmac.compare_digest
    monkeypatch.setattr(session.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))
    token = session.makeToken("admin", "manage")
    assert session.checkToken(token) == 0
    assert compared == [(token.split("|")[2],) * 2]


# ---------------------------------------------------------------- the cookie's parts

HOSTILE = ["admin|../outside/manage|" + TOKEN, "admin|/etc/manage|" + TOKEN, "admin|manage/../..|" + TOKEN,
           "../admin|manage|" + TOKEN, "a" * 65 + "|manage|" + TOKEN, "admin|staff|" + TOKEN,
           "admin|manage|" + TOKEN.upper(), "admin|manage|" + TOKEN[:-1], "admin|manage|" + TOKEN + "0",
           "ad min|manage|" + TOKEN, "admin\x00|manage|" + TOKEN, "\udcff|manage|" + TOKEN, None, 42]


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v)[:30])
def test_hostile_values_touch_no_file(chapter, session, session_dir, clock, value):
    session.makeToken("admin", "manage")
    before = {p.name: p.read_text() for p in session_dir.iterdir()}
    with FileAccess() as access:
        assert session.checkToken(value) == 4
        session.clearToken(value)
        session.updataToken(value)
    assert access.paths == [], "no file may be opened for %r: %s" % (value, access.paths)
    assert {p.name: p.read_text() for p in session_dir.iterdir()} == before


@pytest.mark.parametrize("user, group", [("../x", "manage"), ("admin", "staff"), ("a|b", "manage"), (None, "manage")])
def test_make_token_refuses_unsafe_names(chapter, session, session_dir, clock, user, group):
    with pytest.raises(ValueError):
        session.makeToken(user, group)
    assert list(session_dir.iterdir()) == []


def test_session_file_that_is_a_link_out_of_the_folder_is_refused(chapter, session, session_dir, tmp_path, clock):
    outside = tmp_path / "elsewhere"
    outside.write_text("%s,%d" % (TOKEN, clock.now))
    try:
        (session_dir / ADMIN_FILE).symlink_to(outside)
    except OSError:
        pytest.skip("no symbolic links here")
    assert session.checkToken("admin|manage|" + TOKEN) == 4


# ---------------------------------------------------------------- files

@pytest.mark.parametrize("content", [b"", b"garbage", b"x,y", TOKEN.encode() + b",soon", b"\xff\xfe\x00",
                                     TOKEN.encode() + b",1,2", b",123"], ids=repr)
def test_corrupt_session_file_is_no_session(chapter, session, session_dir, clock, content):
    (session_dir / ADMIN_FILE).write_bytes(content)
    assert session.checkToken("admin|manage|" + TOKEN) == 4


def test_session_file_replaced_by_a_folder_is_no_session(chapter, session, session_dir, clock):
    (session_dir / ADMIN_FILE).mkdir()
    assert session.checkToken("admin|manage|" + TOKEN) == 4


def test_session_file_is_written_aside_then_renamed(chapter, session, session_dir, clock, monkeypatch):
    """While the new content is written, the old file is still whole; os.replace
    then swaps it in one step."""
    token = session.makeToken("admin", "manage").split("|")[2]
    seen = []
    real_replace = os.replace

    def replace(src, dst):
        seen.append((os.path.dirname(src) == str(session_dir), open(dst).read(), open(src).read()))
        return real_replace(src, dst)

    monkeypatch.setattr(session.os, "replace", replace)
    clock.advance(5)
    session.updataToken("admin|manage|" + token)
    assert seen == [(True, "%s,%d" % (token, clock.now - 5), "%s,%d" % (token, clock.now))]
    assert [p.name for p in session_dir.iterdir()] == [ADMIN_FILE], "no temporary file is left"


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_session_files_are_private(chapter, session, session_dir, clock):
    session.makeToken("admin", "manage")
    assert (session_dir / ADMIN_FILE).stat().st_mode & 0o777 == 0o600


# ---------------------------------------------------------------- the sweep

def _planted(path, content, age, now):
    """A file with `content`, last modified `age` seconds before `now`."""
    path.write_text(content)
    os.utime(path, (now - age, now - age))
    return path


def test_sweep_removes_what_it_can_prove_is_its_own(chapter, session, session_dir, clock):
    fresh = session.makeToken("admin", "manage")
    expired = session_dir / ("manage_" + "1" * 32)
    expired.write_text("%s,%d" % (TOKEN, clock.now - 3601))
    leftover = _planted(session_dir / ".tmp-abc_1234", "half", 4000, clock.now)
    young_leftover = _planted(session_dir / ".tmp-abcd5678", "half", 100, clock.now)
    old_counter = session_dir / ("login_address_" + "2" * 32)
    old_counter.write_bytes(b"%010d,%010d" % (7, clock.now - 901))
    fresh_counter = session_dir / ("login_account_" + "3" * 32)
    fresh_counter.write_bytes(b"%010d,%010d" % (7, clock.now - 100))
    assert session.sweepTokens() == 3
    assert not expired.exists() and not leftover.exists() and not old_counter.exists()
    assert fresh_counter.exists() and young_leftover.exists() and session.checkToken(fresh) == 0


# Files the sweep cannot prove are its own: it must leave every one of them,
# however old (the first five were deleted by chapter 06 before its second pass).
NOT_OURS = {
    "notes.txt": "my notes", "backup.db": "x" * 100, ".hidden_old": "", ".gitignore": "*\n",
    "manage_" + "4" * 32: "garbage",                       # a session's name, not a session's content
    "manage_" + "5" * 32 + ".bak": "%s,1000" % TOKEN,        # a session's content, not a session's name
    "staff_" + "6" * 32: "%s,1000" % TOKEN,                  # a group this app does not have
    "manage_" + "7" * 31: "%s,1000" % TOKEN,                 # 31 hex digits
    ".tmp-abandoned": "half",                                # not a name tempfile makes
    "login_account_" + "8" * 32: "0000000007,1000",          # a counter's name, not a counter's content
    "login_user_" + "9" * 32: "0000000007,0000001000",      # not a counter this app keeps
}


def test_sweep_leaves_every_file_it_cannot_prove_is_its_own(chapter, session, session_dir, clock):
    for name, content in NOT_OURS.items():
        _planted(session_dir / name, content, 100000, clock.now)
    (session_dir / ("manage_" + "a" * 32)).mkdir()
    outside = session_dir.parent / "elsewhere"
    outside.write_text("%s,1000" % TOKEN)
    try:
        (session_dir / ("manage_" + "b" * 32)).symlink_to(outside)
    except OSError:
        pass  # no symbolic links here
    before = sorted(p.name for p in session_dir.iterdir())
    assert session.sweepTokens() == 0
    assert sorted(p.name for p in session_dir.iterdir()) == before
    assert outside.read_text() == "%s,1000" % TOKEN


@pytest.mark.parametrize("nth", [1, 2, 3, 4])
def test_sweep_never_deletes_a_session_written_meanwhile(chapter, session, session_dir, clock, nth):
    """The admin's session has expired; another worker logs admin in again just
    before the sweep's nth file operation on it. The new session survives."""
    from tutorial.second_pass import LoginAt

    (session_dir / ADMIN_FILE).write_text("%s,%d" % (TOKEN, clock.now - 4000))
    with LoginAt(session, nth) as other:
        session.sweepTokens()
    assert other.token is not None, "the sweep made fewer than %d file operations: %s" % (nth, other.operations)
    assert session.checkToken(other.token) == 0
    assert [p.name for p in session_dir.iterdir()] == [ADMIN_FILE]


def test_logins_do_not_sweep(chapter, client, session_dir):
    """The sweep never runs inside a request: an expired session stays after logins."""
    old = session_dir / ("manage_" + "1" * 32)
    old.write_text("%s,%d" % (TOKEN, 1000))
    for _ in range(3):
        assert envelope(client.login())[1] == 0
    assert old.exists()


def test_the_sweeper_runs_in_a_thread_every_sweep_every_seconds(chapter, monkeypatch):
    """sweepForever waits SWEEP_EVERY seconds, then sweeps in another thread
    than the event loop's, again and again."""
    import asyncio
    import threading

    from conftest import loaded

    be = loaded(chapter).module("api.be")
    waits, threads = [], []
    real_sleep = asyncio.sleep

    async def sleep(seconds):
        waits.append(seconds)
        await real_sleep(0)

    def sweep():
        threads.append(threading.current_thread())
        if len(threads) == 3:
            raise RuntimeError("a broken sweep is logged, and the sweeper goes on")
        return 0

    monkeypatch.setattr(be.asyncio, "sleep", sleep)
    monkeypatch.setattr(be, "sweepTokens", sweep)
    loop = asyncio.new_event_loop()
    try:
        task = loop.create_task(be.sweepForever())
        while len(threads) < 4:
            loop.run_until_complete(real_sleep(0.01))
        task.cancel()
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()
    assert waits[:4] == [be.SWEEP_EVERY] * 4
    assert threading.main_thread() not in threads


# ---------------------------------------------------------------- the password

def test_no_plaintext_password_in_the_code(chapter):
    for name in ("config.py", "api/be.py", "core/tool.py", "core/session.py", "core/app.py"):
        code = (chapter.path / name).read_text(encoding="utf-8")
        assert not re.search(r"""['"]123456['"]""", code), "%s has the password as a string" % name


def test_default_account_is_admin_123456_with_a_strong_hash(chapter, config, tool):
    assert config.MANAGER["username"] == "admin"
    algorithm, iterations, salt, digest = config.MANAGER["password"].split("$")
    assert algorithm == "pbkdf2_sha256" and int(iterations) >= 600000 and len(bytes.fromhex(salt)) >= 16
    assert config.PASSWORD_ITERATIONS >= 600000
    assert tool.checkPassword("123456", config.MANAGER["password"])  # the one slow check of the suite
    assert not tool.checkPassword("1234567", tool.hashPassword("123456", 1))


def test_hash_password_uses_the_work_factor_setting(chapter, tool, monkeypatch):
    monkeypatch.setattr(tool, "PASSWORD_ITERATIONS", 1234)
    stored = tool.hashPassword("s3cret")
    assert stored.startswith("pbkdf2_sha256$1234$")
    assert tool.hashPassword("s3cret") != stored, "a fresh salt every time"


def test_check_password_uses_the_stored_work_factor(chapter, tool, monkeypatch):
    used = []
    real = hashlib.pbkdf2_hmac
    monkeypatch.setattr(tool.hashlib, "pbkdf2_hmac", lambda *a: used.append(a[3]) or real(*a))
    assert tool.checkPassword("pw", tool.hashPassword("pw", 777))
    assert used == [777, 777]


@pytest.mark.parametrize("stored", ["", "123456", "pbkdf2_sha256$1$zz$00", "md5$1$00$00", None, "a$b$c$d$e"])
def test_malformed_hash_never_matches(chapter, tool, stored):
    assert tool.checkPassword("123456", stored) is False


@pytest.mark.repository_only
@pytest.mark.slow
def test_work_factor_and_password_come_from_the_environment(chapter, tmp_path):
    """PASSWORD_ITERATIONS and MANAGER_PASSWORD_HASH are read from the environment,
    and `python -m core.tool` prints a hash that logs in."""
    env = dict(os.environ, PASSWORD_ITERATIONS="2000", PYTHONDONTWRITEBYTECODE="1")
    made = subprocess.run([sys.executable, "-m", "core.tool", "open sesame"], cwd=chapter.path, env=env,
                          capture_output=True, text=True, timeout=60)
    stored = made.stdout.strip()
    assert stored.startswith("pbkdf2_sha256$2000$"), made.stderr
    env["MANAGER_PASSWORD_HASH"] = stored
    check = subprocess.run([sys.executable, "-c", "from config import MANAGER; from core.tool import checkPassword;"
                            "print(checkPassword('open sesame', MANAGER['password']))"],
                           cwd=chapter.path, env=env, capture_output=True, text=True, timeout=60)
    assert check.stdout.strip() == "True", check.stderr


def test_account_and_password_are_both_checked_in_constant_time(chapter, client, monkeypatch):
    from conftest import loaded

    be, tool = loaded(chapter).module("api.be"), loaded(chapter).module("core.tool")
    compared = []
    real = be.hmac.compare_digest
    monkeypatch.setattr(be.hmac, "compare_digest", lambda a, b: compared.append(a) or real(a, b))
    checked = []
    real_check = tool.checkPassword
    monkeypatch.setattr(be, "checkPassword", lambda p, s: checked.append(p) or real_check(p, s))
    assert envelope(client.login("root", "123456"))[2] == "用户名或密码错误"
    assert compared[0] == b"root", "the account is compared with hmac.compare_digest"
    assert checked == ["123456"], "the password is checked even when the account is wrong"


# ---------------------------------------------------------------- cookie attributes and errors

def test_deleting_cookie_has_the_same_attributes(chapter, client):
    cookie = cookie_attributes(set_cookies(client.get("logout"))[0])
    assert cookie == {"session": '""', "path": "/", "max-age": "0", "samesite": "Lax", "httponly": True}


TOO_LARGE = (413, 413, "请求太大")


@pytest.mark.repository_only
@pytest.mark.slow
def test_secure_setting_and_size_limits_on_a_real_server(chapter, tmp_path):
    """COOKIE_SECURE=1 adds Secure when setting and deleting the cookie; a body
    over 64 KB and a header over Sanic's limit are refused in the envelope."""
    import httpx

    from tutorial.lab import fast_hash_env
    from tutorial.server import ChapterServer

    env = dict(fast_hash_env(), COOKIE_SECURE="1")
    with ChapterServer(chapter.path, session_dir=tmp_path, env=env) as server:
        login = httpx.post(server.url("login"), content='{"account":"admin","password":"123456"}')
        logout = httpx.get(server.url("logout"))
        big_body = httpx.post(server.url("login"), content=b'{"account":"' + b"a" * 70000 + b'"}')
        big_cookie = httpx.get(server.url("logout"), headers={"Cookie": "session=" + "a" * 20000})
    for res in (login, logout):
        assert cookie_attributes(set_cookies(res)[0]).get("secure") is True
    assert envelope(big_body) == TOO_LARGE
    assert envelope(big_cookie) == TOO_LARGE


@pytest.mark.parametrize("method, path, status, message", [
    ("GET", "/api/v1/be/nothing-here", 404, "接口不存在"),
    ("GET", "/", 404, "接口不存在"),
    ("DELETE", "login", 405, "请求方法错误"),
    ("GET", "login", 405, "请求方法错误"),
    ("POST", "logout", 405, "请求方法错误"),
])
def test_errors_answer_in_the_envelope(chapter, client, method, path, status, message):
    assert envelope(client.request(method, path)) == (status, status, message)


def test_unexpected_exception_is_500_without_details(chapter):
    import asyncio

    from conftest import loaded

    answer = loaded(chapter).module("core.app").answerInEnvelope
    loop = asyncio.new_event_loop()
    try:
        res = loop.run_until_complete(answer(None, RuntimeError("secret detail")))
    finally:
        loop.close()
    assert res.status == 500 and b"secret detail" not in res.body
    assert res.body.decode() == '{"data":"服务器错误","status":500}'


@pytest.mark.until(5)
@pytest.mark.since(0)
def test_before_06_unknown_paths_get_sanics_own_404(chapter, client):
    res = client.get("/api/v1/be/nothing-here")
    assert res.status_code == 404 and envelope(res)[1] is None


# ---------------------------------------------------------------- the password hash runs in a thread

def test_password_is_checked_in_a_hashing_thread(chapter, client, monkeypatch):
    import threading

    from conftest import loaded

    be, tool = loaded(chapter).module("api.be"), loaded(chapter).module("core.tool")
    threads = []
    real_check = tool.checkPassword
    monkeypatch.setattr(be, "checkPassword", lambda p, s: threads.append(threading.current_thread()) or real_check(p, s))
    assert envelope(client.login())[1] == 0
    assert envelope(client.login("admin", "wrong"))[1] == 400
    assert len(threads) == 2 and threading.main_thread() not in threads
    assert all(t.name.startswith("password-hash") for t in threads), threads


def test_hashing_threads_come_from_the_setting(chapter, config):
    from conftest import loaded

    assert config.PASSWORD_THREADS == 1, "one hash at a time per worker leaves a core to the event loop on 2 cores"
    assert loaded(chapter).module("api.be").HASHING._max_workers == config.PASSWORD_THREADS


# ---------------------------------------------------------------- login throttling

THROTTLED = (429, 429, "登录尝试过多，请稍后再试")


def from_address(client, ip):
    """The same in-process client, seen by the app as coming from `ip`."""
    import httpx

    from support import AppClient

    other = AppClient(client.app)
    other._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=client.app, client=(ip, 40000)),
                                      base_url="http://127.0.0.1:8000")
    return other


@pytest.fixture
def hashes(chapter, monkeypatch):
    """How many times the login handler has checked a password so far."""
    from conftest import loaded

    be, tool = loaded(chapter).module("api.be"), loaded(chapter).module("core.tool")
    calls = []
    real_check = tool.checkPassword
    monkeypatch.setattr(be, "checkPassword", lambda p, s: calls.append(p) or real_check(p, s))
    return calls


def test_throttled_login_is_answered_at_once_without_the_hash(chapter, client, clock, config, hashes):
    for _ in range(config.LOGIN_FREE_FAILURES):
        assert envelope(client.login("admin", "wrong")) == (200, 400, "用户名或密码错误")
    assert len(hashes) == config.LOGIN_FREE_FAILURES
    res = client.login("admin", "wrong")
    assert envelope(res) == THROTTLED
    assert res.headers["retry-after"] == "1"
    assert len(hashes) == config.LOGIN_FREE_FAILURES, "a throttled attempt runs no hash"
    assert_cookie_deleted(res)


def test_right_password_is_refused_during_the_wait_and_works_after_it(chapter, client, clock, config, hashes):
    for _ in range(config.LOGIN_FREE_FAILURES + 3):
        client.login("admin", "wrong")
        clock.advance(1)
    res = client.login()
    assert envelope(res) == THROTTLED
    wait = int(res.headers["retry-after"])
    clock.advance(wait - 1)
    assert envelope(client.login()) == THROTTLED
    clock.advance(1)
    status, code, token = envelope(client.login())
    assert (status, code) == (200, 0) and token.startswith("admin|manage|")
    assert envelope(client.login("admin", "wrong"))[1] == 400, "a right password starts the count again"


def test_waits_double_up_to_the_maximum(chapter, session, config):
    free, top = config.LOGIN_FREE_FAILURES, config.LOGIN_MAX_WAIT
    waits = [session.loginWait(n) for n in range(free + 9)]
    assert waits == [0] * free + [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert top == 60 and config.LOGIN_FORGET == 900


def test_failures_are_counted_per_account_whatever_the_address(chapter, client, clock, config):
    for n in range(config.LOGIN_FREE_FAILURES):
        assert envelope(from_address(client, "198.51.100.%d" % n).login("admin", "wrong"))[1] == 400
    assert envelope(from_address(client, "198.51.100.99").login()) == THROTTLED
    assert envelope(from_address(client, "198.51.100.99").login("editor", "x"))[1] == 400, "other accounts go on"


def test_failures_are_counted_per_address_whatever_the_account(chapter, client, clock, config):
    attacker = from_address(client, "203.0.113.7")
    for n in range(config.LOGIN_FREE_FAILURES):
        assert envelope(attacker.login("user%d" % n, "wrong"))[1] == 400
    assert envelope(attacker.login("someone-else", "wrong")) == THROTTLED
    assert envelope(attacker.login()) == THROTTLED
    assert envelope(from_address(client, "203.0.113.8").login())[1] == 0, "other addresses go on"


def test_counts_are_forgotten_after_a_quiet_while(chapter, client, clock, config):
    for _ in range(config.LOGIN_FREE_FAILURES):
        client.login("admin", "wrong")
    assert envelope(client.login("admin", "wrong")) == THROTTLED
    clock.advance(config.LOGIN_FORGET + 1)
    for _ in range(config.LOGIN_FREE_FAILURES):
        assert envelope(client.login("admin", "wrong"))[1] == 400


def test_counters_are_files_shared_through_the_session_folder(chapter, client, session_dir, clock):
    client.login("admin", "wrong")
    names = sorted(p.name for p in session_dir.iterdir())
    assert [n[:14] for n in names] == ["login_account_", "login_address_"]
    assert names[0] == "login_account_21232f297a57a5a743894a0e4a801fc3"
    assert (session_dir / names[0]).read_text() == "%010d,%010d" % (1, clock.now)
    if os.name != "nt":
        assert all((session_dir / n).stat().st_mode & 0o777 == 0o600 for n in names)
    assert envelope(client.login())[1] == 0
    assert [p.name for p in session_dir.iterdir()] == [ADMIN_FILE], "a right password deletes both counters"


def test_reservations_are_atomic_across_threads(chapter, session, clock, config):
    """Twenty attempts at the same moment, each with its own file handle (as
    separate workers have): exactly the free ones may go on."""
    import threading

    barrier, results = threading.Barrier(20), []

    def attempt():
        barrier.wait()
        results.append(session.COUNTERS.reserve("login_account_" + "c" * 32))

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0] * config.LOGIN_FREE_FAILURES + [1] * (20 - config.LOGIN_FREE_FAILURES)


def test_login_uses_the_counter_store_only_through_its_interface(chapter, client, session, session_dir, clock,
                                                                    config, monkeypatch):
    """Another store with the same three methods (chapter 08 brings Redis) takes
    the folder's place: no counter file is written, and the throttle still holds."""
    class MemoryCounters:
        def __init__(self):
            self.counts = {}

        def reserve(self, name):
            count, last = self.counts.get(name, (0, 0))
            wait = last + session.loginWait(count) - int(session.time.time())
            if wait > 0:
                return wait
            self.counts[name] = (count + 1, int(session.time.time()))
            return 0

        def release(self, name):
            count, last = self.counts[name]
            self.counts[name] = (count - 1, last)

        def clear(self, name):
            self.counts.pop(name, None)

    monkeypatch.setattr(session, "COUNTERS", MemoryCounters())
    for _ in range(config.LOGIN_FREE_FAILURES):
        client.login("admin", "wrong")
    assert envelope(client.login()) == THROTTLED
    assert list(session_dir.iterdir()) == []


# ---------------------------------------------------------------- broken state: repaired, or logged once

def test_missing_session_folder_is_made_again_at_the_next_login(chapter, client, session_dir, caplog):
    import shutil

    shutil.rmtree(session_dir)
    token = envelope(client.login())[2]
    assert (session_dir / ADMIN_FILE).is_file()
    assert envelope(client.get("logout", cookie=token)) == (200, 0, "退出成功")
    warnings = [r for r in caplog.records if r.name == "sanic.error"]
    assert [r.levelname for r in warnings] == ["WARNING"] and "was missing" in warnings[0].getMessage()
    if os.name != "nt":
        assert session_dir.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("broken", ["session file is a folder", "counter file is a folder",
                                    "session folder is a file"])
def test_broken_state_is_one_log_line_and_a_clean_500(chapter, client, session_dir, caplog, broken):
    if broken == "session file is a folder":
        (session_dir / ADMIN_FILE).mkdir()
    elif broken == "counter file is a folder":
        (session_dir / "login_account_21232f297a57a5a743894a0e4a801fc3").mkdir()
    else:
        session_dir.rmdir()
        session_dir.write_text("not a folder")
    res = client.login()
    assert envelope(res) == (500, 500, "服务器错误")
    assert str(session_dir) not in res.text and "Error" not in res.text
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    line = errors[0].getMessage()
    assert line.startswith("POST /api/v1/be/login failed: ") and "Error: " in line and "\n" not in line
    assert errors[0].exc_info and errors[0].exc_info[1] is not None, "the traceback goes to the log"


def test_every_5xx_writes_one_log_line(chapter, caplog):
    import asyncio
    from types import SimpleNamespace

    from conftest import loaded

    answer = loaded(chapter).module("core.app").answerInEnvelope
    loop = asyncio.new_event_loop()
    try:
        request = SimpleNamespace(method="GET", path="/api/v1/be/logout")
        loop.run_until_complete(answer(request, RuntimeError("disk on fire")))
        from sanic.exceptions import NotFound
        loop.run_until_complete(answer(request, NotFound("no such page")))
    finally:
        loop.close()
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == ["GET /api/v1/be/logout failed: RuntimeError: disk on fire"], "a 404 is not logged, a 500 is"


# ---------------------------------------------------------------- logout deletes only the session it checked

def test_clear_token_keeps_a_newer_session(chapter, session, clock):
    """Worker A checks an old session; worker B logs the same account in again;
    A's clearToken then leaves B's session alone."""
    mine = session.makeToken("admin", "manage")
    assert session.checkToken(mine) == 0
    newer = session.makeToken("admin", "manage")
    assert session.clearToken(mine) is False
    assert session.checkToken(newer) == 0
    assert session.clearToken(newer) is True and session.checkToken(newer) == 4


@pytest.mark.parametrize("nth", [1, 2, 3])
def test_logout_never_deletes_a_login_made_at_any_step_of_it(chapter, session, session_dir, clock, nth):
    from tutorial.second_pass import logout_meets_a_login

    outcome = logout_meets_a_login(session, nth)
    assert outcome["login_ran"], outcome
    assert outcome["survived"], outcome
    assert list(session_dir.iterdir()) == [], "nothing is left behind"


# ---------------------------------------------------------------- logout from another site

@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Referer": "https://evil.example/"},
    {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate"},
    {"Referer": "https://evil.example/page"},
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Referer": "http://127.0.0.1:9999/other-app"},
], ids=["browser-link", "sibling-subdomain", "old-browser-referer", "origin", "opaque-origin", "other-port"])
def test_cross_site_logout_changes_nothing(chapter, client, admin_file, headers):
    token = envelope(client.login())[2]
    res = client.get("logout", cookie=token, headers=headers)
    assert envelope(res) == (401, 401, "退出失败")
    assert set_cookies(res) == [], "the cookie is not deleted either: that alone would log the browser out"
    assert admin_file.exists() and envelope(client.get("logout", cookie=token)) == (200, 0, "退出成功")


@pytest.mark.parametrize("headers", [
    {}, {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"},
    {"Referer": "http://127.0.0.1:8000/admin/"}, {"Origin": "http://127.0.0.1:8000"},
], ids=["curl", "own-page", "typed-in", "own-referer", "own-origin"])
def test_same_site_and_plain_logout_still_work(chapter, client, admin_file, headers):
    token = envelope(client.login())[2]
    assert envelope(client.get("logout", cookie=token, headers=headers)) == (200, 0, "退出成功")
    assert not admin_file.exists()


# ---------------------------------------------------------------- the README's table of answers

@pytest.mark.repository_only
def test_readme_api_table_is_what_the_app_answers(chapter, client, clock, config, admin_file, monkeypatch):
    """Every row of the chapter README's "The API" table, produced for real."""
    import json

    from tutorial.second_pass import CROSS_SITE_LINK
    from tutorial.transcript import mask

    text = (chapter.path / "README.md").read_text(encoding="utf-8")
    section = text.split("## 接口 / The API\n")[1].split("\n## ")[0]
    rows = [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in section.splitlines()
            if line.startswith("| `") or line.startswith("| 任何")]

    def throttled():
        for _ in range(config.LOGIN_FREE_FAILURES):
            client.login("admin", "wrong")
        return client.login("admin", "wrong")

    def logout_with(headers=None):
        return client.get("logout", cookie=envelope(client.login())[2], headers=headers)

    def broken():
        admin_file.unlink(missing_ok=True)
        admin_file.mkdir()
        try:
            return client.login()
        finally:
            admin_file.rmdir()

    def session_with_login():
        return client.get("session", cookie=envelope(client.login())[2])

    def store_unreachable():  # (chapter 08 on) a Redis store where no Redis listens
        from conftest import loaded
        from tutorial.server import free_port

        token = envelope(client.login())[2]
        module = loaded(chapter).module("core.session")
        with monkeypatch.context() as m:
            m.setattr(module, "STORE", module.makeStore("redis://127.0.0.1:%d/0" % free_port()))
            return client.get("session", cookie=token)

    scenarios = {
        "bad parameters": lambda: client.post("login", content=b"{}"),
        "wrong account or password": lambda: client.login("admin", "wrong"),
        "too many failures, must wait": throttled,
        "right": client.login,
        **({"a valid session, refreshed": session_with_login,
            "no valid session": lambda: client.get("session")} if chapter.number >= 7 else {}),
        "a valid session": logout_with,
        "none, wrong or expired": lambda: client.get("logout"),
        "started by another site": lambda: logout_with(CROSS_SITE_LINK),
        "unknown path": lambda: client.get("/api/v1/be/nothing-here"),
        "wrong method": lambda: client.request("DELETE", "login"),
        "request too large": None,  # Sanic's own server enforces it, not ASGI: see the real-server test
        "the server failed": broken,
        **({"the session store (Redis) is unreachable": store_unreachable} if chapter.number >= 8 else {}),
    }
    assert [row[1].split(" / ")[1] for row in rows] == list(scenarios)
    for request, when, http, body in rows:
        if scenarios[when.split(" / ")[1]] is None:
            shown = json.loads(body.strip("`"))
            assert (int(http), shown["status"], shown["data"]) == TOO_LARGE
            continue
        clock.advance(config.LOGIN_FORGET + 1)  # each row starts with no login counted
        res = scenarios[when.split(" / ")[1]]()
        assert res.request.method + " " + res.request.url.path == request.strip("`") or request == "任何 / any", when
        assert res.status_code == int(http.split(",")[0]), when
        assert ("Retry-After" in http) == ("retry-after" in res.headers), when
        assert ("Set-Cookie: session=..." in http) == any(
            c.startswith("session=") and not c.startswith('session="";') for c in set_cookies(res)), when
        if "cookie kept" in http:
            assert set_cookies(res) == [], when
        answer = mask(json.dumps(res.json(), ensure_ascii=False, separators=(",", ":")))
        assert answer == body.strip("`").replace("\\|", "|"), when
