"""Step 27 (any-string): JSON can carry a lone surrogate ("\\ud800"), which strict UTF-8 cannot encode.
Chapters 06-26 answered such a login 500 (a traceback per request, never throttled); now core/tool.py's
utf8() encodes any string, so the login is an ordinary failure: answered in the envelope, counted, throttled."""
import hashlib
import json

import pytest

from support import each_case, envelope
from test_throttle import THROTTLED, from_address

pytestmark = pytest.mark.since("any-string")

WRONG = (200, 400, "用户名或密码错误")
# The JSON text as a client sends it: the escape \ud800 is a lone (high) surrogate, no character of its own.
LONE_ACCOUNT = b'{"account": "\\ud800", "password": "x"}'
LONE_PASSWORD = b'{"account": "admin", "password": "\\ud800"}'


def errors(caplog):
    return [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]


# ---------------------------------------------------------------- before: a 500 and a traceback

@pytest.mark.since("secret-token")
@pytest.mark.until("device-cookies")
@pytest.mark.repository_only  # (the chapters before the fix; a learner's code may well be better)
def test_before_a_lone_surrogate_was_a_500(chapter, client):
    """From step 06 the account (and the password) is encoded for hmac.compare_digest, from 10 for the hash,
    from 12 for the counter's MD5: 'surrogateescape' takes only \\udc80-\\udcff, and "\\ud800" raises."""
    for body in (LONE_ACCOUNT, LONE_PASSWORD):
        # (accept: the JSON form of Sanic's own error page, before step 07 brings the envelope)
        assert client.post("login", content=body, headers={"accept": "application/json"}).status_code == 500, body


@pytest.mark.since("throttle")
@pytest.mark.until("device-cookies")
@pytest.mark.repository_only  # (the chapters before the fix; a learner's code may well be better)
def test_before_those_500s_were_never_throttled(chapter, client, clock, config, session_dir):
    """The counter's name is the MD5 of the account, which raised before anything was counted: one address
    could send them for ever, each a 500 with a traceback in the log, and was never told to wait."""
    for _ in range(config.LOGIN_FREE_FAILURES + 2):
        assert client.post("login", content=LONE_ACCOUNT).status_code == 500
    assert [p.name for p in session_dir.iterdir() if p.name.startswith("login_")] == []
    assert envelope(client.login("admin", "wrong")) == WRONG, "the address had no failure counted"


# ---------------------------------------------------------------- after: an ordinary wrong login

def test_a_lone_surrogate_is_a_wrong_account_or_password(chapter, client, caplog):
    for body in (LONE_ACCOUNT, LONE_PASSWORD):
        assert envelope(client.post("login", content=body)) == WRONG, body
    assert errors(caplog) == [], "no 500, no traceback in the log"


def test_such_failures_are_counted_and_throttled(chapter, client, clock, config, session_dir):
    """Each failure from another address, so what throttles the last one is the account's own counter."""
    def check(case, body):
        addresses = ["198.51.100.%d" % (10 * case + n) for n in range(config.LOGIN_FREE_FAILURES + 1)]
        for address in addresses[:-1]:
            assert envelope(from_address(client, address).post("login", content=body)) == WRONG
        assert envelope(from_address(client, addresses[-1]).post("login", content=body)) == THROTTLED

    each_case([(1, LONE_ACCOUNT), (2, LONE_PASSWORD)], check, "case, body")
    # the account "\ud800" has its counter, named by the MD5 of its bytes as utf8() gives them
    counter = session_dir / ("login_account_" + hashlib.md5(b"\xed\xa0\x80").hexdigest())
    assert counter.read_text().startswith("%010d," % config.LOGIN_FREE_FAILURES)


def test_utf8_encodes_any_string_and_cookie_bytes_stay_what_they_were(chapter, tool):
    # a cookie holding the bytes ff fe reaches Python as '\udcff\udcfe': the same MD5 as before this step
    assert tool.utf8("\udcff\udcfe") == b"\xff\xfe"
    assert tool.getMd5("\udcff\udcfe") == hashlib.md5(b"\xff\xfe").hexdigest()
    # a lone surrogate from JSON: encoded as it is (surrogatepass)
    assert tool.utf8("\ud800") == b"\xed\xa0\x80" and tool.utf8("a\udfffb") == b"a\xed\xbf\xbfb"
    assert tool.getMd5("\ud800") == hashlib.md5(b"\xed\xa0\x80").hexdigest()
    # everything else: plain UTF-8
    assert tool.utf8("管理员😀") == "管理员😀".encode("utf-8")


AWKWARD = [
    "\ud800", "\udbff", "\udc00", "\udfff",           # lone high and low surrogates
    "\ud83d\ude00",                                     # a pair written as two escapes: JSON makes it one 😀
    "\ude00\ud83d", "\ud800\ud800", "x\udcff\ud800",   # pairs the wrong way round, two highs, mixed
    "\x00", "admin\x00",                                 # NUL
    "😀" * 3, "\U0010ffff",                              # outside the BMP
    "\ud800" * 4000, "a" * 30000,                        # very long (the body stays under 64 KiB)
]


def test_any_string_json_can_carry_is_answered_in_the_envelope(chapter, client, clock, caplog):
    """As account and as password at once (the account is compared and counted, the password hashed: each
    encodes it), each from an address of its own (so nothing is throttled): always the ordinary wrong-login
    answer, never a 500."""
    def check(n, text):
        sender = from_address(client, "203.0.113.%d" % (n + 1))
        body = json.dumps({"account": text, "password": text}).encode()  # (\u escapes, as clients send)
        assert envelope(sender.post("login", content=body)) == WRONG
        assert errors(caplog) == []

    each_case(list(enumerate(AWKWARD)), check, "n, text")


def test_the_right_password_still_logs_in_whatever_its_characters(chapter, client, tool, config, monkeypatch):
    assert envelope(client.login())[:2] == (200, 0)
    monkeypatch.setitem(config.MANAGER, "password", tool.hashPassword("密\x00码😀", 1))
    assert envelope(client.login("admin", "密\x00码😀"))[:2] == (200, 0)
    assert envelope(client.login("admin", "密码😀")) == WRONG
