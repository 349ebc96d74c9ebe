"""The back office in a real browser: headless Chromium (tutorial/browser.py)
logs in through the page's form against a real server, sees who it is, cannot
read the HttpOnly cookie from the page's script, stays logged in across a
reload, and logs out back to the form. What the page says and how (both languages, the wait after a 429,
the focus): test_back_office.py."""
import pytest

from tutorial import browser
from tutorial.browser import wait_for
from tutorial.chapters import step
from tutorial.lab import fast_hash_env
from tutorial.server import ChapterServer

pytestmark = [pytest.mark.since("sliding-session"), pytest.mark.repository_only, pytest.mark.slow]


@pytest.fixture
def window(chromium):
    browser.resize(chromium, 1280, 900)
    return chromium


def shown(driver, element_id):
    return driver.execute_script("return !document.getElementById(arguments[0]).hidden", element_id)


def test_log_in_look_around_and_log_out_in_a_browser(chapter, window, tmp_path):
    from selenium.webdriver.common.by import By

    with ChapterServer(chapter.path, session_dir=tmp_path, env=fast_hash_env()) as server:
        window.get(server.base + "/admin/")
        window.delete_all_cookies()  # (cookies are per host, not per port: nothing from an earlier server)
        window.refresh()
        wait_for(window, "return !document.getElementById('login-form').hidden", "the login form is shown")
        assert not shown(window, "who")

        window.find_element(By.ID, "password").send_keys("123456")
        window.find_element(By.ID, "login").click()
        wait_for(window, "return !document.getElementById('who').hidden", "logged in, 'who am I' is shown")
        assert window.find_element(By.ID, "user").text == "admin"
        assert window.find_element(By.ID, "group").text == "manage"

        # The browser keeps the cookie, HttpOnly; the page's script cannot see it.
        cookies = {c["name"]: c for c in window.get_cookies()}
        assert cookies["session"]["httpOnly"] is True and cookies["session"]["value"].startswith("admin|manage|")
        assert "session" not in window.execute_script("return document.cookie")
        assert window.find_element(By.ID, "cookie-jar").text == "（没有 / none）"
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith("manage_")]

        window.refresh()  # a new page load: the browser sends the cookie by itself
        wait_for(window, "return !document.getElementById('who').hidden", "still logged in after a reload")
        assert not shown(window, "login-form")

        window.find_element(By.ID, "logout").click()
        wait_for(window, "return !document.getElementById('login-form').hidden", "the form is back after logout")
        said = window.find_element(By.ID, "message").text  # (from the back-office step on, with its English)
        assert said == ("✓ 退出成功 / Logged out" if chapter.number >= step("back-office") else "退出成功")
        assert "session" not in {c["name"] for c in window.get_cookies()}, "the logout deleted the cookie"
        assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("manage_")], "and the session file"
    assert server.process.returncode == 0, server.output()
