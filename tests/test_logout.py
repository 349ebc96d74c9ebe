"""GET /api/v1/be/logout (from 05): 退出成功 with a valid session, HTTP 401 otherwise."""

import pytest

from support import each_case, expect_answer, login_token, successful_login
from test_login import assert_cookie_deleted

pytestmark = pytest.mark.since(5)

LOGOUT_FAILED = (401, 401, "退出失败")
LOGOUT_OK = (200, 0, "退出成功")

# Session cookies that are not "user|group|token" of a session. A test takes them
# in two lists, each looped over in one test (support.each_case): those the
# article's code answers too, and one it answers with HTTP 500 (beyond_article).
MALFORMED = [
    pytest.param([
        b"",
        b"admin",
        b"admin|manage",
        b"admin|manage|x|y",
        b"||",
        b"admin|manage|" + b"f" * 4000,
        b"a" * 4000 + b"|manage|x",
        b"admin|" + b"g" * 4000 + b"|x",
        b"admin|\xff\xfe|x",                 # a group that is not UTF-8
        b"admin|man\x00age|x",
        b"admin|../../../../etc/passwd|x",
        b"admin|/etc/manage|x",
        b"admin|..|x",
        b'"admin|manage|x"',
        b"admin|manage|x; session=other",
        "管理员|管理|令牌".encode(),
    ], id="malformed"),
    pytest.param([b"\xff\xfe|manage|x"], id="not-utf8-user", marks=pytest.mark.beyond_article(
        zh="文章的 getMd5 遇到 cookie 里不是 UTF-8 的字节会抛异常，退出接口就回答 HTTP 500；各章回答 401 退出失败。",
        en="The article's getMd5 raises on bytes from a cookie that are not UTF-8, so its logout answers "
           "HTTP 500; the chapters answer 401 退出失败.")),
]


def test_logout_without_cookie_is_401(chapter, client):
    res = client.get("logout")
    expect_answer(res, LOGOUT_FAILED, "no session cookie")
    assert_cookie_deleted(res)


def test_logout_with_login_cookie_succeeds_and_removes_the_file(chapter, client, admin_file):
    token = login_token(client)
    assert admin_file.exists()
    res = client.get("logout", cookie=token)
    expect_answer(res, LOGOUT_OK, "the cookie of a login")
    assert not admin_file.exists(), "a successful logout should delete temp/" + admin_file.name
    assert_cookie_deleted(res)


def test_logout_twice_fails_the_second_time(chapter, client):
    token = login_token(client)
    expect_answer(client.get("logout", cookie=token), LOGOUT_OK, "the cookie of a login")
    expect_answer(client.get("logout", cookie=token), LOGOUT_FAILED, "the same cookie again, after its logout")


def test_logout_with_wrong_token_fails_and_keeps_the_session(chapter, client, admin_file):
    token = login_token(client)
    wrong = token[:-1] + ("0" if token[-1] != "0" else "1")
    res = client.get("logout", cookie=wrong)
    expect_answer(res, LOGOUT_FAILED, "a wrong token")
    assert_cookie_deleted(res)
    assert admin_file.exists(), "a failed logout must not delete the session file"
    expect_answer(client.get("logout", cookie=token), LOGOUT_OK, "the right token, after a wrong one")


def test_logout_with_expired_session_fails(chapter, client, admin_file):
    token = login_token(client)
    stored_token, stored_time = admin_file.read_text().strip().split(",")
    admin_file.write_text("%s,%d" % (stored_token, int(stored_time) - 3601))
    res = client.get("logout", cookie=token)
    expect_answer(res, LOGOUT_FAILED, "a session stored more than 3,600 s ago")


def test_logout_as_a_browser_with_the_cookie_it_kept(chapter, browser, admin_file):
    successful_login(browser)
    res = browser.get("logout")  # no cookie passed by hand: the client sends what it kept
    expect_answer(res, LOGOUT_OK, "a browser sends back the session cookie the login set")
    assert not admin_file.exists()
    expect_answer(browser.get("logout"), LOGOUT_FAILED, "the logout deleted the cookie on the client")


@pytest.mark.parametrize("cookies", MALFORMED)
def test_logout_with_malformed_cookie_is_401_and_keeps_a_real_session(chapter, client, cookies, admin_file):
    token = login_token(client)

    def check(cookie):
        res = client.get("logout", cookie=cookie)
        expect_answer(res, LOGOUT_FAILED, "a malformed cookie")
        assert_cookie_deleted(res)
        assert admin_file.exists(), "a logout with a malformed cookie must not delete the real session"

    each_case(cookies, check, "cookie")
    expect_answer(client.get("logout", cookie=token), LOGOUT_OK, "the real session, after malformed cookies")
