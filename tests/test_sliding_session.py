"""Step 18 (sliding-session): a guarded request refreshes the session, at most
once per SESSION_REFRESH seconds, so someone active stays logged in; and a
one-page back office at /admin/ (its browser test: test_browser.py). Time is the
`clock` fixture's, so two hours pass in no time at all."""
import os

import pytest

from support import envelope, expect_answer, login_token
from test_guard import who_am_i

pytestmark = pytest.mark.since("sliding-session")


def test_active_user_stays_logged_in_for_hours(chapter, client, clock, config):
    """A request every 10 minutes for 2 hours: each one keeps the session alive."""
    token = login_token(client)
    for minutes in range(10, 130, 10):
        clock.advance(600)
        status, code, data = envelope(who_am_i(client, token))
        assert (status, code) == (200, 0), "logged out %d minutes after login, though active" % minutes
        assert data["expires"] == clock.now + config.SESSION_TTL, "the session was not refreshed"
    expect_answer(client.get("logout", cookie=token), (200, 0, "退出成功"), "two hours later, still logged in")


def test_requests_within_the_refresh_interval_write_the_session_once(chapter, client, clock, config, admin_file,
                                                                    monkeypatch):
    token = login_token(client)
    writes = []
    real_replace = os.replace

    def replace(src, dst):  # every session file is written aside and renamed into place (step 08 on)
        if os.path.basename(dst) == admin_file.name:
            writes.append(dst)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    clock.advance(config.SESSION_REFRESH)  # due now: the first request refreshes, the next 19 need not
    refreshed = clock.now
    for _ in range(20):
        assert envelope(who_am_i(client, token))[:2] == (200, 0)
        clock.advance(1)
    assert len(writes) == 1, "%d writes for requests within %d s" % (len(writes), config.SESSION_REFRESH)
    assert admin_file.read_text() == "%s,%d" % (token.split("|")[2], refreshed)


def test_a_fresh_session_is_not_rewritten(chapter, client, clock, admin_file):
    token = login_token(client)
    before = admin_file.read_text()
    for _ in range(10):
        clock.advance(1)
        who_am_i(client, token)
    assert admin_file.read_text() == before


def test_the_back_office_page_is_served(chapter, client):
    res = client.get("/admin/")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/html")
    page = res.text
    assert 'id="login-form"' in page and "/api/v1/be/" in page and "document.cookie" in page
    assert "后台 / Back office" in page


@pytest.mark.until("guard")
@pytest.mark.since("guard")
def test_before_the_sliding_session_a_busy_user_is_out_after_the_lifetime(chapter, client, clock, config):
    """The guard alone refreshes nothing: a request every 10 minutes does not keep the session."""
    token = login_token(client)
    for _ in range(6):
        clock.advance(600)
        assert envelope(who_am_i(client, token))[:2] == (200, 0)
    clock.advance(601)
    expect_answer(who_am_i(client, token), (401, 401, "没有权限"), "an hour after login, however busy")
