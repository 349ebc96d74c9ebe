"""Step 16 (cross-site): a link on another site cannot log the user out, and the
cookie gets attributes fit for a deployment (SameSite=Lax; Secure behind https).
The cross-site link logging chapter 15's user out is in test_lab.py."""
import pytest

from support import cookie_attributes, envelope, set_cookies, successful_login

pytestmark = pytest.mark.since("cross-site")


def test_login_cookie_is_same_site_lax(chapter, client):
    # the intended difference from the article: SameSite=Lax, and Secure only when configured
    cookie = cookie_attributes(set_cookies(successful_login(client))[0])
    assert set(cookie) == {"session", "path", "httponly", "samesite"} and cookie["samesite"] == "Lax"


def test_deleting_cookie_has_the_same_attributes(chapter, client):
    cookie = cookie_attributes(set_cookies(client.get("logout"))[0])
    assert cookie == {"session": '""', "path": "/", "max-age": "0", "samesite": "Lax", "httponly": True}


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


@pytest.mark.repository_only
@pytest.mark.slow
def test_secure_setting_on_a_real_server(chapter, tmp_path):
    """COOKIE_SECURE=1 adds Secure when setting and deleting the cookie."""
    import httpx

    from tutorial.lab import fast_hash_env
    from tutorial.server import ChapterServer

    with ChapterServer(chapter.path, session_dir=tmp_path, env=dict(fast_hash_env(), COOKIE_SECURE="1")) as server:
        login = httpx.post(server.url("login"), content='{"account":"admin","password":"123456"}')
        logout = httpx.get(server.url("logout"))
    for res in (login, logout):
        assert cookie_attributes(set_cookies(res)[0]).get("secure") is True
