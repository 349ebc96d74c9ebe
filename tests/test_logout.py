"""GET /api/v1/be/logout (from 05): 退出成功 with a valid session, HTTP 401 otherwise."""

import pytest

from support import envelope
from test_login import assert_cookie_deleted

pytestmark = pytest.mark.since(5)

LOGOUT_FAILED = (401, 401, "退出失败")
LOGOUT_OK = (200, 0, "退出成功")

MALFORMED = [
    pytest.param(b"", id="empty"),
    pytest.param(b"admin", id="one-part"),
    pytest.param(b"admin|manage", id="two-parts"),
    pytest.param(b"admin|manage|x|y", id="four-parts"),
    pytest.param(b"||", id="empty-parts"),
    pytest.param(b"admin|manage|" + b"f" * 4000, id="huge-token"),
    pytest.param(b"a" * 4000 + b"|manage|x", id="huge-user"),
    pytest.param(b"admin|" + b"g" * 4000 + b"|x", id="huge-group"),
    pytest.param(b"\xff\xfe|manage|x", id="not-utf8-user"),
    pytest.param(b"admin|\xff\xfe|x", id="not-utf8-group"),
    pytest.param(b"admin|man\x00age|x", id="nul-byte"),
    pytest.param(b"admin|../../../../etc/passwd|x", id="path-traversal"),
    pytest.param(b"admin|/etc/manage|x", id="absolute-path"),
    pytest.param(b"admin|..|x", id="dot-dot"),
    pytest.param(b'"admin|manage|x"', id="quoted"),
    pytest.param(b"admin|manage|x; session=other", id="two-cookies"),
    pytest.param("管理员|管理|令牌".encode(), id="chinese"),
]


def test_logout_without_cookie_is_401(chapter, client):
    res = client.get("logout")
    assert envelope(res) == LOGOUT_FAILED, (
        "logout without a session cookie should answer HTTP 401 {\"data\": \"退出失败\", \"status\": 401}, "
        "got HTTP %s %s" % (res.status_code, res.text))
    assert_cookie_deleted(res)


def test_logout_with_login_cookie_succeeds_and_removes_the_file(chapter, client, admin_file):
    token = envelope(client.login())[2]
    assert admin_file.exists()
    res = client.get("logout", cookie=token)
    assert envelope(res) == LOGOUT_OK
    assert not admin_file.exists(), "a successful logout should delete temp/" + admin_file.name
    assert_cookie_deleted(res)


def test_logout_twice_fails_the_second_time(chapter, client):
    token = envelope(client.login())[2]
    assert envelope(client.get("logout", cookie=token)) == LOGOUT_OK
    assert envelope(client.get("logout", cookie=token)) == LOGOUT_FAILED


def test_logout_with_wrong_token_fails_and_keeps_the_session(chapter, client, admin_file):
    token = envelope(client.login())[2]
    wrong = token[:-1] + ("0" if token[-1] != "0" else "1")
    res = client.get("logout", cookie=wrong)
    assert envelope(res) == LOGOUT_FAILED
    assert_cookie_deleted(res)
    assert admin_file.exists(), "a failed logout must not delete the session file"
    assert envelope(client.get("logout", cookie=token)) == LOGOUT_OK


def test_logout_with_expired_session_fails(chapter, client, admin_file):
    token = envelope(client.login())[2]
    stored_token, stored_time = admin_file.read_text().strip().split(",")
    admin_file.write_text("%s,%d" % (stored_token, int(stored_time) - 3601))
    res = client.get("logout", cookie=token)
    assert envelope(res) == LOGOUT_FAILED, "a session stored more than 3,600 s ago should not log out"


def test_logout_as_a_browser_with_the_cookie_it_kept(chapter, browser, admin_file):
    login = browser.login()
    assert envelope(login)[:2] == (200, 0)
    res = browser.get("logout")  # no cookie passed by hand: the client sends what it kept
    assert envelope(res) == LOGOUT_OK, "a browser sends the session cookie back by itself"
    assert not admin_file.exists()
    assert envelope(browser.get("logout")) == LOGOUT_FAILED, "the cookie was deleted on the client"


@pytest.mark.parametrize("cookie", MALFORMED)
def test_logout_with_malformed_cookie_is_401_envelope(chapter, client, cookie, session_dir):
    res = client.get("logout", cookie=cookie)
    assert envelope(res) == LOGOUT_FAILED, (
        "logout with the cookie %r should answer HTTP 401 {\"data\": \"退出失败\", \"status\": 401}, "
        "got HTTP %s %s" % (cookie[:60], res.status_code, res.text[:200]))
    assert_cookie_deleted(res)


@pytest.mark.parametrize("cookie", MALFORMED)
def test_logout_with_malformed_cookie_keeps_a_real_session(chapter, client, cookie, admin_file):
    token = envelope(client.login())[2]
    client.get("logout", cookie=cookie)
    assert admin_file.exists()
    assert envelope(client.get("logout", cookie=token)) == LOGOUT_OK
