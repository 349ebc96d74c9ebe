"""Step 34 (back-office): the back office page (static/admin.html, at /admin/) explains itself.

In this process, on the page the app serves: both fields are `required` (an empty one is never sent); the page is
`lang="zh-CN"` and its English is marked `lang="en"`; every Chinese message the app's code can answer (its string
literals in api/be.py and core/app.py) has an English line in the page. Chapters 18-33 serve a page without any
of it, and the server counts the empty password that page sends as a failure.

In a real Chromium (repository only, slow): an empty password with Enter is refused and nothing is sent; wrong
passwords until a 429, whose Retry-After is counted down with the login button off, then on again; the messages of a
wrong password, a login and a logout in both languages, success and failure told apart by more than colour; the
focus on the password field, then on the logout button, then back; and a server that is gone is said.
"""
import io
import re
import tokenize
from html.parser import HTMLParser

import pytest

from support import envelope
from tutorial.browser import wait_for

pytestmark = pytest.mark.since("sliding-session")

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
NOT_TEXT = {"head", "script", "style", "code"}  # (code: names such as `session`, in either language)
# the English half of "中文 / English", or three English words in a row
ENGLISH_TEXT = re.compile(r"/\s*[A-Za-z]|[A-Za-z']+(?:\s+[A-Za-z'.,()]+){2,}")
WRONG = (200, 400, "用户名或密码错误")


class Page(HTMLParser):
    """The page's <html lang>, its inputs (by id, with their attributes) and its text, each piece with the
    language it is marked in (the nearest lang attribute)."""

    def __init__(self, text):
        super().__init__()
        self.lang, self.inputs, self.texts, self.open = None, {}, [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag == "input":
            self.inputs[attrs.get("id")] = attrs
        if tag not in VOID:
            self.open.append((tag, attrs.get("lang")))

    def handle_endtag(self, tag):
        while self.open and self.open.pop()[0] != tag:
            pass

    def handle_data(self, data):
        if data.strip() and not any(tag in NOT_TEXT for tag, _ in self.open):
            self.texts.append((data.strip(), next((lang for _, lang in reversed(self.open) if lang), None)))

    def unmarked_english(self):
        return [text for text, lang in self.texts if lang != "en" and ENGLISH_TEXT.search(text)]


def api_messages(folder):
    """The Chinese messages the app can answer: the string literals with Chinese in api/be.py and core/app.py
    (its code, not its comments)."""
    found = set()
    for name in ("api/be.py", "core/app.py"):
        source = (folder / name).read_text(encoding="utf-8")
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.STRING and re.search(r"[\u4e00-\u9fff]", token.string):
                found.add(token.string.strip("'\""))
    return found


def has_english(page, message):
    """The page's table gives `message` an English line: '退出成功': 'Logged out'."""
    return re.search(r"""['"]?%s['"]?\s*:\s*['"][A-Za-z]""" % re.escape(message), page) is not None


@pytest.mark.since("back-office")
def test_the_page_refuses_empty_fields_and_says_everything_in_both_languages(chapter, client):
    res = client.get("/admin/")
    assert res.status_code == 200
    page = Page(res.text)
    assert "required" in page.inputs["account"] and "required" in page.inputs["password"], (
        "both inputs need `required` (an empty one is then never sent): %s" % page.inputs)
    assert page.lang == "zh-CN", '<html lang="zh-CN">'
    assert page.unmarked_english() == [], "English outside lang=\"en\""
    assert sum(lang == "en" for _, lang in page.texts) >= 8, "the title, labels, buttons and the intro in English"
    messages = api_messages(chapter.path)
    assert {"用户名或密码错误", "登录尝试过多，请稍后再试", "退出成功", "退出失败", "会话服务暂时不可用"} <= messages
    assert [m for m in sorted(messages) if not has_english(res.text, m)] == [], "messages without their English"


@pytest.mark.until("redis-limits")
@pytest.mark.repository_only  # (the chapters before the fix; a learner's page may well be better)
def test_before_the_fix_the_page_sends_an_empty_password_and_speaks_chinese_only(chapter, client, session_dir):
    text = client.get("/admin/").text
    page = Page(text)
    assert "required" not in page.inputs["password"]
    assert "后台 / Back office" in page.unmarked_english()
    assert not any(has_english(text, m) for m in api_messages(chapter.path))
    # what that page sends for an empty password: a wrong one, counted (one of the free failures spent)
    assert envelope(client.login("admin", "")) == WRONG
    assert [p.name for p in session_dir.iterdir() if p.name.startswith("login_account_")]


# ---------------------------------------------------------------- in a real browser

# Every change on the page, as it happens (the countdown is over in a second: polling could miss it).
WATCH = """
window.seen = [];
const $ = (id) => document.getElementById(id);
new MutationObserver(() => seen.push({
  message: $('message').textContent, kind: $('message').className, color: getComputedStyle($('message')).color,
  english: ($('message').querySelector('[lang=en]') || {}).textContent,
  wait: $('wait').hidden ? '' : $('wait').textContent, disabled: $('login').disabled, at: performance.now(), n: seen.length,
})).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
"""


def answer(driver, act):
    """Clear the message, `act`, and return the page as it was when the next message came."""
    count = driver.execute_script("document.getElementById('message').textContent = ''; return seen.length")
    act()
    wait_for(driver, "return seen.slice(%d).some(s => s.message)" % count, "a message")
    return next(s for s in driver.execute_script("return seen")[count:] if s["message"])


def reddish(color):
    red, green, blue = (int(n) for n in re.findall(r"\d+", color)[:3])  # rgb(180, 35, 24)
    return red > green + 60 and red > blue + 60


def focused(driver, element_id):
    wait_for(driver, "return document.activeElement.id === %r" % element_id, "the focus on #" + element_id)


@pytest.mark.since("back-office")
@pytest.mark.repository_only
@pytest.mark.slow
def test_the_back_office_explains_itself_in_a_browser(chapter, chromium, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from tutorial.lab import fast_hash_env
    from tutorial.server import ChapterServer

    window = chromium
    with ChapterServer(chapter.path, session_dir=tmp_path, env=fast_hash_env()) as server:
        window.execute_cdp_cmd("Network.clearBrowserCookies", {})  # (cookies are per host: none from another test)
        window.get(server.base + "/admin/")
        wait_for(window, "return !document.getElementById('login-form').hidden", "the login form is shown")
        window.execute_script(WATCH)
        focused(window, "password")
        password = window.find_element(By.ID, "password")

        # Enter with an empty password: the browser refuses, the page says why, nothing is sent
        said = answer(window, lambda: password.send_keys(Keys.ENTER))
        assert said["message"] == "✗ 请填写账号和密码 / Fill in the account and the password"
        assert window.execute_script("return performance.getEntriesByType('resource')"
                                     ".filter(e => e.name.endsWith('/login')).length") == 0
        assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("login_")], "no try was counted"

        # wrong passwords until a 429: the wait from Retry-After, counted down with the button off
        for attempt in range(1, 10):
            said = answer(window, lambda: password.send_keys("000000", Keys.ENTER))
            if said["wait"]:
                break
            assert (said["message"], said["kind"]) == ("✗ 用户名或密码错误 / Wrong account or password", "error")
            failure = said
        assert attempt > 5, "five free failures first"
        assert said["message"] == "✗ 登录尝试过多，请稍后再试 / Too many login attempts, try again later"
        seconds = int(re.fullmatch(r"请等 (\d+) 秒 / Wait \1 s", said["wait"]).group(1))
        # (1 s, as a rule; more if a wrong try came after the previous wait was over, and was checked)
        assert said["disabled"] and seconds >= 1, said
        wait_for(window, "return !document.getElementById('login').disabled", "the button on again", seconds + 10)
        countdown = window.execute_script("return seen")[said["n"]:]
        shown = [s["wait"] for s in countdown if s["wait"]]
        assert list(dict.fromkeys(shown)) == ["请等 %d 秒 / Wait %d s" % (n, n) for n in range(seconds, 0, -1)]
        assert all(s["disabled"] for s in countdown if s["wait"])
        enabled = next(s for s in countdown if not s["disabled"])
        assert enabled["wait"] == "" and enabled["at"] - said["at"] >= seconds * 1000 - 50, "not before the wait"
        focused(window, "password")

        # the right password: success, not red and marked; the focus goes to the logout button
        success = answer(window, lambda: password.send_keys("123456", Keys.ENTER))
        assert (success["message"], success["kind"], success["english"]) == ("✓ 登录成功 / Logged in", "ok", "Logged in")
        assert reddish(failure["color"]) and not reddish(success["color"]), (failure["color"], success["color"])
        focused(window, "logout")
        assert window.find_element(By.ID, "user").text == "admin"

        said = answer(window, lambda: window.find_element(By.ID, "logout").click())
        assert (said["message"], said["kind"], said["english"]) == ("✓ 退出成功 / Logged out", "ok", "Logged out")
        wait_for(window, "return !document.getElementById('login-form').hidden", "the form is back after logout")
        focused(window, "password")
    assert server.process.returncode == 0, server.output()

    # the server is gone: said, not silence
    said = answer(window, lambda: password.send_keys("123456", Keys.ENTER))
    assert (said["message"], said["kind"]) == ("✗ 连不上服务器 / Cannot reach the server", "error")


@pytest.mark.repository_only
def test_the_readme_says_the_api_is_chapter_33s():
    """Chapter 34's README: only the page changed, "the API table below is chapter 33's"; the table rows are."""
    from tutorial.chapters import by_key

    def rows(slug):
        text = (by_key(slug).path / "README.md").read_text(encoding="utf-8")
        section = text.split("## 接口 / The API\n")[1].split("\n## ")[0]
        return [line for line in section.splitlines() if line.startswith("|")]

    text = (by_key("back-office").path / "README.md").read_text(encoding="utf-8")
    assert "下面的接口表和第 33 章的一样" in text and "API table below is chapter 33's" in text
    assert rows("back-office") == rows("redis-limits") and len(rows("redis-limits")) > 10
