"""Step 29 (own-site): (a) a login started by another site (a form posted from another site's page) is
refused with 403 and changes nothing: before, a wrong password deleted the browser's session cookie and a
right one logged the browser in (login CSRF); (b) a request to an endpoint whose Host name is not in
ALLOWED_HOSTS is answered 400 and the endpoint never runs: before, a DNS-rebinding page (its own domain
pointed at 127.0.0.1) logged in and read the token. The lab shows both on chapters 28 and 29 (section 19)."""
import html
import importlib.util
import sys
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from support import cookie_attributes, each_case, envelope, loaded, login_token, set_cookies

pytestmark = pytest.mark.since("own-site")

RIGHT = {"account": "admin", "password": "123456"}
WRONG = {"account": "admin", "password": "wrong"}
REFUSED = (403, 403, "拒绝跨站请求")
UNKNOWN_HOST = (400, 400, "主机名不被允许")

# The logout's cross-site cases (tests/test_cross_site.py), as a login sees them: a form posted from another
# site's page, a sibling subdomain, an old browser's Referer or Origin only, an opaque origin (a sandboxed frame,
# a data: URL), another app on another port of this machine.
CROSS_SITE = {
    "another-site-form": {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document",
                          "Origin": "https://evil.example", "Referer": "https://evil.example/"},
    "sibling-subdomain": {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate"},
    "old-browser-referer": {"Referer": "https://evil.example/page"},
    "origin": {"Origin": "https://evil.example"},
    "opaque-origin": {"Origin": "null"},
    "other-port": {"Referer": "http://127.0.0.1:9999/other-app"},
}
# The app's own page, a typed-in address, curl: (the in-process client's Host is 127.0.0.1:8000)
SAME_SITE = {
    "curl": {},
    "own-page": {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors", "Origin": "http://127.0.0.1:8000"},
    "typed-in": {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"},
    "own-referer": {"Referer": "http://127.0.0.1:8000/admin/"},
    "own-origin": {"Origin": "http://127.0.0.1:8000"},
}
# A DNS-rebinding page: evil.example pointed at 127.0.0.1 for a moment, so the browser sees one origin.
REBINDING = {"Host": "evil.example:8000", "Origin": "http://evil.example:8000", "Sec-Fetch-Site": "same-origin"}
UNKNOWN_HOSTS = ["evil.example:8000", "evil.example", "127.0.0.1.evil.example:8000", "localhost.evil.example",
                 "127.0.0.2:8000", "[::2]:8000", "["]
KNOWN_HOSTS = ["127.0.0.1", "127.0.0.1:8000", "localhost:5000", "LOCALHOST:8000", "[::1]", "[::1]:8000"]


def session_cookie(res):
    """The session cookie's attributes this answer sets ({} when it sets none)."""
    found = [cookie_attributes(h) for h in set_cookies(res) if h.startswith("session=")]
    assert len(found) <= 1, set_cookies(res)
    return found[0] if found else {}


def files(folder):
    """Every file in the session folder with its content: what a request may have written."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# ---------------------------------------------------------------- (a) cross-site logins

@pytest.mark.since("cross-site")
@pytest.mark.until("hash-queue")
def test_a_cross_site_login_before_the_fix(chapter, client, admin_file):
    """Another site's page posts to the login: a wrong password deletes the browser's session cookie (logging
    it out), the right one (the attacker's own account) logs the browser in."""
    def check(name):
        wrong = client.post("login", json=WRONG, headers=CROSS_SITE[name])
        assert envelope(wrong) == (200, 400, "用户名或密码错误")
        assert session_cookie(wrong).get("max-age") == "0", "the browser's session cookie is deleted"
        right = client.post("login", json=RIGHT, headers=CROSS_SITE[name])
        assert envelope(right)[:2] == (200, 0) and session_cookie(right)["session"] == envelope(right)[2]
        assert admin_file.exists()

    each_case(CROSS_SITE, check, "headers")


def test_a_cross_site_login_is_refused_and_changes_nothing(chapter, client, be, session_dir, monkeypatch):
    token = login_token(client)  # the user's own session, made by a login on this site
    before = files(session_dir)
    counted = []
    real = be.loginCounters

    async def counters(*args):
        counted.append(args)
        return await real(*args)

    monkeypatch.setattr(be, "loginCounters", counters)

    def check(name, body):
        res = client.post("login", content=body, headers=CROSS_SITE[name])
        assert envelope(res) == REFUSED
        assert set_cookies(res) == [], "no Set-Cookie at all: the browser's cookies stay as they were"

    bodies = [b'{"account":"admin","password":"wrong"}', b'{"account":"admin","password":"123456"}',
              b'{"account":"admin","password":"123456","x":"="}',  # (a text/plain form's body)
              b"not json"]
    each_case([(name, body) for name in CROSS_SITE for body in bodies], check, "headers, body")
    assert counted == [], "no login counter was even looked at"
    assert files(session_dir) == before, "no session written, no counter touched"
    assert envelope(client.get("session", cookie=token))[:2] == (200, 0), "the user is still logged in"


def test_logins_from_the_site_itself_still_work(chapter, client):
    def check(name):
        wrong = client.post("login", json=WRONG, headers=SAME_SITE[name])
        assert envelope(wrong) == (200, 400, "用户名或密码错误") and session_cookie(wrong)["max-age"] == "0"
        right = client.post("login", json=RIGHT, headers=SAME_SITE[name])
        assert envelope(right)[:2] == (200, 0) and session_cookie(right)["session"] == envelope(right)[2]

    each_case(SAME_SITE, check, "headers")


# ---------------------------------------------------------------- (b) host names

@pytest.mark.since("login")
@pytest.mark.until("hash-queue")
def test_a_rebinding_page_logs_in_and_reads_the_token_before_the_fix(chapter, client):
    res = client.post("login", json=RIGHT, headers=REBINDING)
    assert envelope(res)[:2] == (200, 0) and envelope(res)[2].startswith("admin|manage|")


def test_an_unknown_host_is_refused_and_no_endpoint_runs(chapter, client, session_dir, admin_file, clock, config):
    token = login_token(client)
    clock.advance(config.SESSION_REFRESH + 1)  # a GET session that ran would refresh the session now
    before = files(session_dir)

    def check(host, endpoint):
        method, path = endpoint.split()
        res = client.request(method, path, json=RIGHT if method == "POST" else None,
                             headers=dict(REBINDING, Host=host), cookie=None if method == "POST" else token)
        assert envelope(res) == UNKNOWN_HOST
        assert set_cookies(res) == []

    each_case([(host, endpoint) for host in UNKNOWN_HOSTS
               for endpoint in ("POST login", "GET logout", "GET session", "GET /admin/")], check, "host, endpoint")
    assert files(session_dir) == before, "no session made, refreshed or removed; no counter touched"
    assert envelope(client.get("logout", cookie=token)) == (200, 0, "退出成功") and not admin_file.exists()


def test_known_hosts_with_any_port_are_answered(chapter, client):
    def check(host):
        res = client.post("login", json=RIGHT, headers={"Host": host})
        assert envelope(res)[:2] == (200, 0)
        assert envelope(client.get("session", cookie=envelope(res)[2], headers={"Host": host}))[:2] == (200, 0)

    each_case(KNOWN_HOSTS, check, "host")


def test_unknown_paths_and_methods_keep_their_answers_whatever_the_host(chapter, client):
    """The host check runs only where an endpoint matched: a 404 or 405 stands (a 413: the real-server test)."""
    host = {"Host": "evil.example:8000"}
    assert envelope(client.get("/api/v1/be/nothing-here", headers=host)) == (404, 404, "接口不存在")
    assert envelope(client.get("/nothing", headers=host)) == (404, 404, "接口不存在")
    assert envelope(client.get("login", headers=host)) == (405, 405, "请求方法错误")


@contextmanager
def config_from(chapter, monkeypatch, allowed_hosts):
    """The chapter's config.py run afresh with ALLOWED_HOSTS in the environment (None: unset), as a server
    started with that environment reads it; a module of its own, not the one the app imported."""
    with monkeypatch.context() as m:
        if allowed_hosts is None:
            m.delenv("ALLOWED_HOSTS", raising=False)
        else:
            m.setenv("ALLOWED_HOSTS", allowed_hosts)
        m.setattr(sys, "dont_write_bytecode", True)  # (no __pycache__ in the chapter)
        spec = importlib.util.spec_from_file_location("config_with_environment", chapter.path / "config.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module


def test_allowed_hosts_default_and_from_the_environment(chapter, monkeypatch):
    def check(value, expected):
        with config_from(chapter, monkeypatch, value) as config:
            assert config.ALLOWED_HOSTS == expected

    each_case([(None, ("127.0.0.1", "localhost", "::1")), ("", ("127.0.0.1", "localhost", "::1")),
               ("example.com", ("example.com",)),
               (" Example.COM, www.example.com ,,", ("example.com", "www.example.com"))], check, "value, expected")


def test_allowed_hosts_from_the_environment_replace_the_defaults(chapter, client, monkeypatch):
    with config_from(chapter, monkeypatch, "example.com,www.example.com") as config:
        allowed = config.ALLOWED_HOSTS
    monkeypatch.setattr(loaded(chapter).module("core.app"), "ALLOWED_HOSTS", allowed)

    def check(host, answered):
        res = client.post("login", json=RIGHT, headers={"Host": host})
        assert (envelope(res) != UNKNOWN_HOST) is answered, envelope(res)
        if answered:
            assert envelope(res)[:2] == (200, 0)

    each_case([("example.com", True), ("www.example.com:443", True), ("WWW.Example.com", True),
               ("127.0.0.1:8000", False), ("localhost", False), ("[::1]:8000", False), ("evil.example", False),
               ("sub.example.com", False)], check, "host, answered")


@pytest.mark.repository_only
@pytest.mark.slow
def test_host_names_on_a_real_server(chapter, tmp_path):
    """Sanic's own server (not ASGI): an unknown Host is refused, while an unknown path keeps its 404 and a
    head too large to read its 413 (no endpoint matched: no host check); a body too large for an endpoint is
    refused for its Host first (400: refused either way); localhost with the server's port logs in."""
    import httpx

    from tutorial.lab import fast_hash_env
    from tutorial.server import ChapterServer

    evil = {"Host": "evil.example"}
    with ChapterServer(chapter.path, session_dir=tmp_path, env=fast_hash_env()) as server:
        refused = httpx.post(server.url("login"), json=RIGHT, headers=evil)
        unknown = httpx.get(server.url("nothing-here"), headers=evil)
        big_cookie = httpx.get(server.url("logout"), headers=dict(evil, Cookie="session=" + "a" * 20000))
        big_body = httpx.post(server.url("login"), content=b'{"account":"' + b"a" * 70000 + b'"}', headers=evil)
        local = httpx.post(server.url("login"), json=RIGHT, headers={"Host": "localhost:%d" % server.port})
    assert envelope(refused) == UNKNOWN_HOST and set_cookies(refused) == []
    assert envelope(unknown) == (404, 404, "接口不存在")
    assert envelope(local)[:2] == (200, 0)
    assert envelope(big_cookie) == (413, 413, "请求太大")
    assert envelope(big_body) == UNKNOWN_HOST, "a body over 64 KB to an endpoint, with an unknown Host"


# ---------------------------------------------------------------- a real browser, another site's page

class _Page(BaseHTTPRequestHandler):
    def do_GET(self):
        body = self.server.page.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def other_site():
    """Another site on this machine: http://localhost:<port>/ serves `other_site.page` (an HTML string).
    localhost and 127.0.0.1 are different sites to a browser, so its pages are cross-site to a chapter's
    server at 127.0.0.1."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    server.page = ""
    server.url = "http://localhost:%d/" % server.server_port
    # (it looks for a shutdown every 20 ms: the default, half a second, is what each test's teardown would wait)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def auto_submitted_form(action, password):
    """A page that posts the login as a plain form the moment it loads: enctype text/plain sends
    `name=value`, so a name holding the JSON's start and a value closing it make a JSON body."""
    name = html.escape('{"account":"admin","password":"%s","x":"' % password)
    return ('<form method="post" enctype="text/plain" action="%s"><input name="%s" value=\'"}\'></form>'
            '<script>document.forms[0].submit()</script>' % (action, name))


def visit_attack(driver, other_site, server, password):
    """The browser opens the other site's page, which posts to the login: the login's answer, as shown."""
    from selenium.webdriver.support.ui import WebDriverWait

    other_site.page = auto_submitted_form(server.url("login"), password)
    driver.get(other_site.url)
    WebDriverWait(driver, 10, poll_frequency=0.02).until(
        lambda d: d.current_url == server.url("login") and d.execute_script("return document.readyState") == "complete",
        message="the form was posted to the login")
    return driver.execute_script("return document.body.innerText")


def session_in_browser(driver, server):
    driver.get(server.url("nothing-here"))  # (a page of the app's origin: its cookies are the ones to read)
    return {c["name"]: c["value"] for c in driver.get_cookies()}.get("session")


def cross_site_forms(driver, other_site, server):
    """(the wrong password's answer, the session cookie after it; the right one's answer, the cookie after it)"""
    driver.get(server.url("nothing-here"))
    driver.delete_all_cookies()  # (cookies are per host, not per port: nothing from an earlier server)
    driver.execute_async_script(  # the user logs in on the site itself
        "fetch('/api/v1/be/login', {method: 'POST', body: JSON.stringify({account: 'admin', password: '123456'})})"
        ".then(r => r.text()).then(arguments[arguments.length - 1])")
    assert session_in_browser(driver, server), "the user's own login set the cookie"
    wrong = visit_attack(driver, other_site, server, "wrong")
    after_wrong = session_in_browser(driver, server)
    driver.delete_all_cookies()  # a browser that is not logged in
    right = visit_attack(driver, other_site, server, "123456")
    return wrong, after_wrong, right, session_in_browser(driver, server)


@pytest.mark.since("hash-queue")  # (in a browser, on the chapter before the fix only: in-process tests above
@pytest.mark.until("hash-queue")  # show the weakness on every chapter that has it)
@pytest.mark.repository_only
@pytest.mark.slow
def test_another_sites_form_in_chromium_before_the_fix(chapter, chromium, other_site, tmp_path):
    from tutorial.lab import fast_hash_env
    from tutorial.server import ChapterServer

    with ChapterServer(chapter.path, session_dir=tmp_path, env=fast_hash_env()) as server:
        wrong, after_wrong, right, after_right = cross_site_forms(chromium, other_site, server)
    assert '"用户名或密码错误"' in wrong and after_wrong is None, "a wrong password logged the user out"
    assert '"status":0' in right and after_right.startswith("admin|manage|"), "the other site logged the browser in"


@pytest.mark.until("own-site")  # (slow: on the step that brings it; in-process tests cover the rest)
@pytest.mark.repository_only
@pytest.mark.slow
def test_another_sites_form_in_chromium_is_refused(chapter, chromium, other_site, tmp_path):
    from tutorial.lab import fast_hash_env
    from tutorial.server import ChapterServer

    with ChapterServer(chapter.path, session_dir=tmp_path, env=fast_hash_env()) as server:
        wrong, after_wrong, right, after_right = cross_site_forms(chromium, other_site, server)
    assert '"拒绝跨站请求"' in wrong and after_wrong.startswith("admin|manage|"), "the user is still logged in"
    assert '"拒绝跨站请求"' in right and after_right is None, "the browser was not logged in"
