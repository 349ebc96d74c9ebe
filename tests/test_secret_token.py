"""Step 06 (secret-token): an unguessable token, compared in constant time.
The attack itself, rebuilding chapter 05's token offline, is in test_lab.py."""
import hashlib
import re

import pytest

from support import envelope
from tutorial.chapters import step

pytestmark = pytest.mark.since("secret-token")


def test_token_comes_from_secrets(chapter, session, clock, monkeypatch):
    calls = []

    def token_hex(n):
        calls.append(n)
        return "f" * (2 * n)

    monkeypatch.setattr(session.secrets, "token_hex", token_hex)
    token = session.makeToken("admin", "manage")
    if chapter.number < step("session-lifetime"):
        assert token == "admin|manage|" + "f" * 32
        assert calls == [16], "128 bits: secrets.token_hex(16)"
    else:  # step 31: the login's time in the first 8 digits, then 96 random bits (test_session_lifetime.py)
        assert token == "admin|manage|%08x" % clock.now + "f" * 24
        assert calls == [12], "96 bits: secrets.token_hex(12)"


SECOND = 1_800_000_000
# Every token the articles' makeToken can give admin at SECOND: MD5 of "admin" + the second + 5 random digits.
ARTICLE_TOKENS = []


def test_token_is_not_the_articles_md5(chapter, session, clock):
    if not ARTICLE_TOKENS:  # (made once for every chapter: 90,000 hashes)
        prefix = ("admin%d" % SECOND).encode()
        ARTICLE_TOKENS.append({hashlib.md5(prefix + b"%d" % r).hexdigest() for r in range(10000, 100000)})
    clock.now = SECOND
    token = session.makeToken("admin", "manage").split("|")[2]
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    assert token not in ARTICLE_TOKENS[0]


def as_text(value):
    return value.decode() if isinstance(value, bytes) else value


def test_tokens_are_compared_in_constant_time(chapter, session, clock, monkeypatch):
    compared = []
    real = session.hmac.compare_digest
    monkeypatch.setattr(session.hmac, "compare_digest", lambda a, b: compared.append((as_text(a), as_text(b)))
                        or real(a, b))
    token = session.makeToken("admin", "manage")
    assert session.checkToken(token) == 0
    assert compared == [(token.split("|")[2],) * 2]


def test_account_and_password_are_both_compared_in_constant_time(chapter, client, be, monkeypatch):
    """The account first, then the password (in plain text up to step 09, its
    hash from step 10 on: checkPassword compares the digests the same way),
    even when the account is already wrong: the time of the answer tells neither."""
    compared = []
    real = be.hmac.compare_digest
    monkeypatch.setattr(be.hmac, "compare_digest", lambda a, b: compared.append(a) or real(a, b))
    assert envelope(client.login("root", "123456"))[2] == "用户名或密码错误"
    assert compared[0] == b"root", "the account is compared with hmac.compare_digest"
    assert len(compared) == 2, "the password is compared too, though the account is wrong: %s" % compared
