"""Step 30 (browser-headers): every answer tells the browser not to show it inside another site's frame
(Content-Security-Policy: frame-ancestors 'none', and X-Frame-Options: DENY for older browsers), and the API's
answers (they carry tokens and sessions) not to keep them in any cache (Cache-Control: no-store, Vary: Cookie).
Before, another site could frame the back office (clickjacking): the lab's section 20, and the Chromium tests
below."""
import pytest

from support import envelope, login_token
from test_own_site import REBINDING, RIGHT, other_site  # noqa: F401 (a fixture the tests below use)

pytestmark = pytest.mark.since("browser-headers")

FRAMES = {"content-security-policy": "frame-ancestors 'none'", "x-frame-options": "DENY"}
CACHES = {"cache-control": "no-store", "vary": "Cookie"}


def answers(client, admin_file, config):
    """One answer of every kind the app gives: {what: response}."""
    def failing_server():
        admin_file.mkdir()  # the session file's place is taken: making the session fails (a 500)
        try:
            return client.login()
        finally:
            admin_file.rmdir()

    got = {"500": failing_server()}  # (first: no session file is there yet)
    got["login ok"] = client.login()
    token = envelope(got["login ok"])[2]
    got.update({
        "login wrong password": client.login("admin", "wrong"),
        "login bad parameters": client.post("login", content=b"not json"),
        "session 200": client.get("session", cookie=token),
        "session 401": client.get("session"),
        "logout 401": client.get("logout"),
        "logout 200": client.get("logout", cookie=token),
        "admin page": client.get("/admin/"),
        "api 404": client.get("/api/v1/be/nothing-here"),
        "404": client.get("/nothing-here"),
        "405": client.request("DELETE", "login"),
        "host refused 400": client.post("login", json=RIGHT, headers=REBINDING),
        "cross-site 403": client.post("login", json=RIGHT, headers={"Sec-Fetch-Site": "cross-site"}),
    })
    for _ in range(config.LOGIN_FREE_FAILURES):
        client.login("admin", "wrong")
    got["429"] = client.login("admin", "wrong")
    expected = {"login ok": 200, "session 200": 200, "logout 200": 200, "admin page": 200, "session 401": 401,
                "logout 401": 401, "api 404": 404, "404": 404, "405": 405, "host refused 400": 400,
                "cross-site 403": 403, "500": 500, "429": 429}
    assert {what: got[what].status_code for what in expected} == expected, "each kind of answer, as meant"
    return got


def test_every_answer_forbids_frames(chapter, client, admin_file, config, clock):
    for what, res in answers(client, admin_file, config).items():
        assert {name: res.headers.get(name) for name in FRAMES} == FRAMES, what


def test_the_apis_answers_are_not_cached(chapter, client, admin_file, config, clock):
    got = answers(client, admin_file, config)
    api = [what for what, res in got.items() if res.request.url.path.startswith("/api/v1/be/")]
    assert set(got) - set(api) == {"admin page", "404"}
    for what in api:
        assert {name: got[what].headers.get(name) for name in CACHES} == CACHES, what


@pytest.mark.since("sliding-session")
@pytest.mark.until("own-site")
def test_no_frame_or_cache_rules_before_the_fix(chapter, client):
    token = login_token(client)
    for res in (client.login(), client.get("session", cookie=token), client.get("session"), client.get("/admin/"),
                client.get("/api/v1/be/nothing-here"), client.get("logout", cookie=token)):
        assert not {"content-security-policy", "x-frame-options", "vary"} & set(res.headers), res.request.url
        assert "no-store" not in res.headers.get("cache-control", ""), res.request.url


# ---------------------------------------------------------------- a real browser: another site frames /admin/

def framed_back_office(driver, other_site, server):
    """Another site's page with the back office in a frame: what the frame holds once it has loaded
    (its address, whether the login form is there), and what the browser's console said."""
    from tutorial.browser import wait_for

    driver.get_log("browser")  # (what earlier pages said: not this page's)
    other_site.page = ('<p>Win a prize!</p><iframe id="frame" src="%s/admin/" onload="window.framed = true">'
                       '</iframe>' % server.base)
    driver.get(other_site.url)
    wait_for(driver, "return window.framed === true", "the frame finished loading")
    driver.switch_to.frame(driver.find_element("id", "frame"))
    try:
        inside = driver.execute_script("return [location.href, document.getElementById('login-form') !== null]")
    finally:
        driver.switch_to.default_content()
    return inside, [entry["message"] for entry in driver.get_log("browser")]


@pytest.mark.since("own-site")  # (in a browser, on the chapter before the fix only: the in-process test above
@pytest.mark.until("own-site")  # shows the weakness on every chapter that has it)
@pytest.mark.repository_only
@pytest.mark.slow
def test_another_site_frames_the_back_office_before_the_fix(chapter, chromium, other_site, tmp_path):
    from tutorial.lab import fast_hash_env
    from tutorial.server import ChapterServer

    with ChapterServer(chapter.path, session_dir=tmp_path, env=fast_hash_env()) as server:
        (address, has_form), _ = framed_back_office(chromium, other_site, server)
    assert address == server.base + "/admin/" and has_form, "the back office shows inside the other site's page"


@pytest.mark.until("browser-headers")  # (slow: on the step that brings it; in-process tests cover the rest)
@pytest.mark.repository_only
@pytest.mark.slow
def test_chromium_refuses_to_frame_the_back_office(chapter, chromium, other_site, tmp_path):
    from tutorial.lab import fast_hash_env
    from tutorial.server import ChapterServer

    with ChapterServer(chapter.path, session_dir=tmp_path, env=fast_hash_env()) as server:
        (address, has_form), said = framed_back_office(chromium, other_site, server)
    assert not address.startswith(server.base) and not has_form, address  # (chrome-error://chromewebdata/)
    assert any("frame-ancestors 'none'" in line for line in said), said
