"""Step 10 (password-hash): the code holds a salted, slow PBKDF2 hash, not the password."""
import hashlib
import os
import re
import subprocess
import sys

import pytest

from support import each_case

pytestmark = pytest.mark.since("password-hash")


def test_no_plaintext_password_in_the_code(chapter):
    for name in ("config.py", "api/be.py", "core/tool.py", "core/session.py", "core/app.py"):
        code = (chapter.path / name).read_text(encoding="utf-8")
        assert not re.search(r"""['"]123456['"]""", code), "%s has the password as a string" % name


def test_default_account_is_admin_123456_with_a_strong_hash(chapter, config, tool):
    assert config.MANAGER["username"] == "admin"
    algorithm, iterations, salt, digest = config.MANAGER["password"].split("$")
    assert algorithm == "pbkdf2_sha256" and int(iterations) >= 600000 and len(bytes.fromhex(salt)) >= 16
    assert config.PASSWORD_ITERATIONS >= 600000
    assert not tool.checkPassword("1234567", tool.hashPassword("123456", 1))


@pytest.mark.slow
def test_the_default_hash_is_the_password_123456(chapter, config, tool):
    assert tool.checkPassword("123456", config.MANAGER["password"])  # 600,000 iterations: a slow check


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


def test_malformed_hash_never_matches(chapter, tool):
    def check(stored):
        assert tool.checkPassword("123456", stored) is False

    each_case(["", "123456", "pbkdf2_sha256$1$zz$00", "md5$1$00$00", None, "a$b$c$d$e"], check, "stored")


def test_login_checks_the_password_against_the_hash(chapter, client, be, monkeypatch):
    from support import envelope

    checked = []
    real = be.checkPassword
    monkeypatch.setattr(be, "checkPassword", lambda p, s: checked.append((p, s)) or real(p, s))
    assert envelope(client.login("root", "123456"))[2] == "用户名或密码错误"
    assert envelope(client.login())[:2] == (200, 0)
    assert [p for p, _ in checked] == ["123456", "123456"], "checked even when the account is wrong"
    assert all(s == be.MANAGER["password"] for _, s in checked)


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
