"""core/session.py: makeToken (01), checkToken (02), clearToken and updataToken (03).

Session files go to a fresh temporary folder per test (the `session` fixture),
and the time the helper sees is controlled by the `clock` fixture.
"""
import hashlib
import re

import pytest

from support import each_case, files_in

ADMIN_FILE = "manage_21232f297a57a5a743894a0e4a801fc3"
HEX32 = re.compile(r"^[0-9a-f]{32}$")
WRONG_SHAPES = ["", "admin", "admin|manage", "admin|manage|x|y"]  # not "user|group|token"


def stored(session_dir, name=ADMIN_FILE):
    """(token, time) as the session file holds them; a trailing newline is allowed."""
    text = (session_dir / name).read_text()
    token, _, t = text.rstrip("\n").partition(",")
    return token, t


def write_session(session_dir, token, t, name=ADMIN_FILE):
    (session_dir / name).write_text("%s,%s" % (token, t))


# ---------------------------------------------------------------- makeToken (01)

@pytest.mark.since(1)
def test_make_token_returns_user_group_token(chapter, session, clock):
    result = session.makeToken("admin", "manage")
    user, group, token = result.split("|")
    assert (user, group) == ("admin", "manage")
    assert HEX32.match(token), "the token part should be 32 hex characters (an MD5), got %r" % token


@pytest.mark.since(1)
@pytest.mark.look_at("makeToken", r"TEMPPATH|open|write|echo")
def test_make_token_writes_token_and_time_to_group_md5_file(chapter, session, session_dir, clock):
    token = session.makeToken("admin", "manage").split("|")[2]
    assert files_in(session_dir) == [ADMIN_FILE], (
        "makeToken('admin', 'manage') should write exactly one file, temp/" + ADMIN_FILE)
    assert stored(session_dir) == (token, str(clock.now)), (
        "the session file should hold 'token,time' with the Unix time in whole seconds")


@pytest.mark.since(1)
@pytest.mark.until(5)  # the secret-token step takes it from secrets instead (test_secret_token.py)
def test_make_token_is_md5_of_user_time_and_random_number(chapter, session, clock, monkeypatch):
    calls = []

    def fake_randint(low, high):
        calls.append((low, high))
        return 54321

    monkeypatch.setattr(session.random, "randint", fake_randint)
    token = session.makeToken("admin", "manage").split("|")[2]
    assert calls == [(10000, 99999)], "the random part should be random.randint(10000, 99999)"
    expected = hashlib.md5(("admin%d54321" % clock.now).encode()).hexdigest()
    assert token == expected, "the token should be getMd5(user + time + random number)"


@pytest.mark.since(1)
def test_make_token_random_part_changes_between_calls(chapter, session, clock):
    # Same user, same second: only the random number tells the tokens apart.
    tokens = {session.makeToken("admin", "manage") for _ in range(20)}
    assert len(tokens) >= 19, "20 logins in the same second gave only %d different tokens" % len(tokens)


@pytest.mark.since(1)
def test_make_token_keeps_a_given_token_and_replaces_the_file(chapter, session, session_dir, clock):
    session.makeToken("admin", "manage")
    clock.advance(100)
    assert session.makeToken("admin", "manage", "0123456789abcdef0123456789abcdef") == \
        "admin|manage|0123456789abcdef0123456789abcdef"
    assert stored(session_dir) == ("0123456789abcdef0123456789abcdef", str(clock.now)), (
        "the file should be replaced, not appended to")


@pytest.mark.since(1)
def test_make_token_names_file_after_group_and_user(chapter, session, session_dir, clock):
    session.makeToken("editor", "manage")
    assert files_in(session_dir) == ["manage_" + hashlib.md5(b"editor").hexdigest()]


# ---------------------------------------------------------------- checkToken (02)

@pytest.mark.since(2)
def test_check_token_valid_is_0(chapter, session, clock):
    token = session.makeToken("admin", "manage")
    assert session.checkToken(token) == 0


@pytest.mark.since(2)
def test_check_token_no_value_or_wrong_shape_is_4(chapter, session, clock):
    session.makeToken("admin", "manage")

    def check(value):
        assert session.checkToken(value) == 4, (
            "checkToken(%r) should be 4: no value, or not exactly three parts split on '|'" % (value,))

    each_case([None, "", "admin", "admin|manage", "admin|manage|x|y", "||||"], check, "value")


@pytest.mark.since(2)
def test_check_token_without_session_file_is_4(chapter, session, clock):
    assert session.checkToken("admin|manage|0123456789abcdef0123456789abcdef") == 4, (
        "checkToken should be 4 when there is no session file for that user and group")


@pytest.mark.since(2)
def test_check_token_other_group_is_4(chapter, session, clock):
    token = session.makeToken("admin", "manage").split("|")[2]
    assert session.checkToken("admin|staff|" + token) == 4


@pytest.mark.since(2)
@pytest.mark.look_at("checkToken", r"[Tt]oken\s*[!=]=")
def test_check_token_wrong_token_is_1(chapter, session, clock):
    session.makeToken("admin", "manage")
    assert session.checkToken("admin|manage|0123456789abcdef0123456789abcdef") == 1, (
        "checkToken should be 1 when the token differs from the stored one")


@pytest.mark.since(2)
@pytest.mark.look_at("checkToken", r"\d{3,}")
def test_check_token_3600_seconds_old_is_still_valid(chapter, session, clock):
    token = session.makeToken("admin", "manage")
    clock.advance(3600)
    code = session.checkToken(token)
    assert code == 0, ("checkToken returned %s for a token stored 3,600 seconds ago; the article "
                       "treats only more than 3,600 seconds as expired, so it is still valid (0)" % code)


@pytest.mark.since(2)
@pytest.mark.look_at("checkToken", r"\d{3,}")
def test_check_token_3601_seconds_old_is_expired(chapter, session, clock):
    token = session.makeToken("admin", "manage")
    clock.advance(3601)
    code = session.checkToken(token)
    assert code == 2, ("checkToken returned %s for a token stored 3,601 seconds ago; the article "
                       "treats more than 3,600 seconds as expired, code 2" % code)


@pytest.mark.since(2)
@pytest.mark.look_at("checkToken", r"[Tt]oken\s*[!=]=")
def test_check_token_compares_token_before_expiry(chapter, session, clock):
    session.makeToken("admin", "manage")
    clock.advance(7200)
    code = session.checkToken("admin|manage|0123456789abcdef0123456789abcdef")
    assert code == 1, ("a wrong token that is also expired should be 1 (wrong token), got %s: "
                       "the token comparison comes before the expiry check" % code)


@pytest.mark.since(2)
def test_check_token_reads_a_file_with_trailing_newline(chapter, session, session_dir, clock):
    # The article wrote the file with `echo`, which adds a newline.
    # (From step 31 on a token's first 8 digits are its login's time: this one logged in just now.)
    token = "%08x" % clock.now + "89abcdef0123456789abcdef"
    (session_dir / ADMIN_FILE).write_text("%s,%d\n" % (token, clock.now))
    assert session.checkToken("admin|manage|" + token) == 0


@pytest.mark.since(2)
def test_check_token_changes_nothing(chapter, session, session_dir, clock):
    token = session.makeToken("admin", "manage")
    before = (session_dir / ADMIN_FILE).read_text()
    clock.advance(10)
    session.checkToken(token)
    session.checkToken(token[:-1] + "x")
    assert (session_dir / ADMIN_FILE).read_text() == before


# ---------------------------------------------------------------- clearToken, updataToken (03)

@pytest.mark.since(3)
@pytest.mark.look_at("clearToken", r"remove|unlink|rm ")
def test_clear_token_deletes_the_session_file(chapter, session, session_dir, clock):
    token = session.makeToken("admin", "manage")
    session.clearToken(token)
    assert files_in(session_dir) == [], "clearToken left temp/%s in place; it should delete it" % ADMIN_FILE
    assert session.checkToken(token) == 4


@pytest.mark.since(3)
def test_clear_token_on_missing_file_does_nothing(chapter, session, session_dir, clock):
    session.clearToken("admin|manage|0123456789abcdef0123456789abcdef")  # must not raise
    assert files_in(session_dir) == []


@pytest.mark.since(3)
def test_clear_token_leaves_other_sessions(chapter, session, session_dir, clock):
    token = session.makeToken("admin", "manage")
    other = session.makeToken("editor", "manage")
    session.clearToken(token)
    assert session.checkToken(other) == 0


@pytest.mark.since(3)
def test_clear_token_wrong_shape_does_nothing(chapter, session, session_dir, clock):
    token = session.makeToken("admin", "manage")

    def check(value):
        session.clearToken(value)
        assert session.checkToken(token) == 0, "clearToken(%r) should not delete anything" % value

    each_case(WRONG_SHAPES, check, "value")


@pytest.mark.since(3)
@pytest.mark.look_at("updataToken", r"makeToken")
def test_updata_token_keeps_token_and_refreshes_time(chapter, session, session_dir, clock):
    token = session.makeToken("admin", "manage")
    clock.advance(3000)
    session.updataToken(token)
    assert stored(session_dir) == (token.split("|")[2], str(clock.now)), (
        "updataToken should keep the same token and store the current time")
    clock.advance(3000)  # 6,000 s after login, 3,000 s after the refresh
    assert session.checkToken(token) == 0, "after updataToken the session should last another 3,600 s"


@pytest.mark.since(3)
def test_updata_token_on_expired_session_makes_it_valid_again(chapter, session, clock):
    token = session.makeToken("admin", "manage")
    clock.advance(4000)
    assert session.checkToken(token) == 2
    session.updataToken(token)
    assert session.checkToken(token) == 0


@pytest.mark.since(3)
def test_updata_token_wrong_shape_does_nothing(chapter, session, session_dir, clock):
    def check(value):
        session.updataToken(value)
        assert files_in(session_dir) == []

    each_case(WRONG_SHAPES, check, "value")
