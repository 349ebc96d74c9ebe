"""Step 17 (guard): what the session is for. A guard on back-office routes and
"who am I" (GET /api/v1/be/session). Time is the `clock` fixture's."""
import pytest

from support import each_case, envelope, expect_answer, login_token, set_cookies
from test_logout import MALFORMED

pytestmark = pytest.mark.since("guard")

NO_PERMISSION = (401, 401, "没有权限")


def who_am_i(client, token=None):
    return client.get("session", cookie=token)


def test_who_am_i_without_a_session_is_401_no_permission(chapter, client):
    res = who_am_i(client)
    expect_answer(res, NO_PERMISSION, "no session cookie")
    assert set_cookies(res) == [], "the guard answers; it does not touch the cookie"


@pytest.mark.parametrize("cookies", MALFORMED)
def test_who_am_i_with_a_malformed_cookie_is_401(chapter, client, cookies):
    each_case(cookies, lambda cookie: expect_answer(who_am_i(client, cookie), NO_PERMISSION, "a malformed cookie"),
              "cookie")


def test_who_am_i_names_the_user_group_and_when_the_session_ends(chapter, client, clock, config):
    token = login_token(client)
    status, code, data = envelope(who_am_i(client, token))
    assert (status, code) == (200, 0)
    assert data == {"user": "admin", "group": "manage", "expires": clock.now + config.SESSION_TTL}
    assert isinstance(data["expires"], int)


def test_wrong_or_logged_out_token_is_401(chapter, client):
    token = login_token(client)
    wrong = token[:-1] + ("0" if token[-1] != "0" else "1")
    expect_answer(who_am_i(client, wrong), NO_PERMISSION, "a wrong token")
    expect_answer(client.get("logout", cookie=token), (200, 0, "退出成功"))
    expect_answer(who_am_i(client, token), NO_PERMISSION, "the token of a session that logged out")


def test_the_browser_sends_the_cookie_by_itself(chapter, browser):
    browser.login()
    status, code, data = envelope(browser.get("session"))
    assert (status, code, data["user"]) == (200, 0, "admin")


def test_idle_user_is_out_after_the_lifetime(chapter, client, clock, config):
    token = login_token(client)
    clock.advance(config.SESSION_TTL)
    assert envelope(who_am_i(client, token))[:2] == (200, 0), "exactly the lifetime later is still valid"
    token2 = login_token(client)
    clock.advance(config.SESSION_TTL + 1)
    expect_answer(who_am_i(client, token2), NO_PERMISSION, "idle for longer than the lifetime")


def test_login_and_logout_are_not_guarded(chapter, client):
    expect_answer(client.get("logout"), (401, 401, "退出失败"), "logout keeps its own answer without a session")
    assert envelope(client.login())[:2] == (200, 0)
