"""Chapter 06's fixes, each tested on its own (the attacks themselves are in test_lab.py)."""
import hashlib
import os
import re
import subprocess
import sys

import pytest

from support import cookie_attributes, envelope, set_cookies
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

def test_sweep_removes_expired_sessions_and_leftovers(chapter, session, session_dir, clock):
    fresh = session.makeToken("admin", "manage")
    (session_dir / ("manage_" + "1" * 32)).write_text("%s,%d" % (TOKEN, clock.now - 3601))
    (session_dir / ("manage_" + "2" * 32)).write_text("garbage")
    os.utime(session_dir / ("manage_" + "2" * 32), (clock.now - 4000, clock.now - 4000))
    (session_dir / ".tmp-abandoned").write_text("half")
    os.utime(session_dir / ".tmp-abandoned", (clock.now - 4000, clock.now - 4000))
    (session_dir / ".gitignore").write_text("*\n")
    assert session.sweepTokens(force=True) == 3
    assert sorted(p.name for p in session_dir.iterdir()) == [".gitignore", ADMIN_FILE]
    assert session.checkToken(fresh) == 0


def test_sweep_runs_at_most_every_sweep_every_seconds(chapter, session, session_dir, clock, config):
    session.sweepTokens(force=True)
    (session_dir / ("manage_" + "1" * 32)).write_text("%s,%d" % (TOKEN, clock.now - 3601))
    clock.advance(config.SWEEP_EVERY - 1)
    assert session.sweepTokens() == 0
    clock.advance(1)
    assert session.sweepTokens() == 1


def test_login_sweeps(chapter, client, session, session_dir, monkeypatch):
    monkeypatch.setattr(session, "_lastSweep", 0)
    old = session_dir / ("manage_" + "1" * 32)
    old.write_text("%s,%d" % (TOKEN, 1000))
    assert envelope(client.login())[1] == 0
    assert not old.exists()


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


@pytest.mark.repository_only
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
    assert envelope(big_body) == (413, 413, "请求太大")
    assert envelope(big_cookie) == (413, 413, "请求太大")


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
