"""Every answer a README quotes in its prose is an answer the app gives.

The ```console sessions are run for real (test_readmes.py). Prose quotes
answers too, inline (`{"data": "退出成功", "status": 0}`) or in a ```json
block; this test sends each chapter's app the requests that produce every
kind of answer it has, and checks that each quoted answer is among them. The
top README quotes final/. A token in a quote is written <token>.
"""
import json
import re
from contextlib import contextmanager

import pytest
from sanic.exceptions import PayloadTooLarge

from support import envelope, loaded, login_token
from tutorial.chapters import ROOT, step

pytestmark = pytest.mark.repository_only

INLINE = re.compile(r"`(\{[^`]*\})`")
JSON_BLOCK = re.compile(r"^```json\n(.*?)^```", re.S | re.M)
TOKEN = re.compile(r"(?<=\|)[0-9a-f]{32}\b")


def envelope_of(response) -> tuple:
    """(HTTP status, body status, data) of a Sanic response object."""
    body = json.loads(response.body)
    return response.status, body["status"], body["data"]


def quoted_answers(text: str) -> list:
    """The {"data": ..., "status": ...} answers quoted in a README's prose, as (data, status)."""
    found = []
    for snippet in INLINE.findall(text) + JSON_BLOCK.findall(text):
        try:
            value = json.loads(" ".join(snippet.split()))
        except ValueError:
            continue  # a shape like {"data": ..., "status": ...}, not an answer
        if isinstance(value, dict) and set(value) == {"data", "status"}:
            found.append((json.dumps(value["data"], ensure_ascii=False), value["status"]))
    return found


def answers_of(chapter, client, broken_folder=None) -> set:
    """(data as JSON, status) of every kind of answer the chapter's app gives;
    `broken_folder()` breaks the session folder, for the answer to a server fault."""
    requests = [
        ("POST", "login", b'{"account":"admin","password":"123456"}', None),
        ("POST", "login", b'{"account":"admin","password":"000000"}', None),
        ("POST", "login", b'{"account":"admin"}', None),
        ("POST", "login", b"not json", None),
        ("GET", "logout", None, None),
        ("GET", "logout", None, "admin|manage|0123456789abcdef0123456789abcdef"),
        ("GET", "/api/v1/be/nothing-here", None, None),
        ("GET", "login", None, None),
        ("POST", "login", b"x" * 100_000, None),
    ]
    seen = set()
    for method, endpoint, body, cookie in requests:
        seen.add(envelope(client.request(method, endpoint, content=body, cookie=cookie)))
    if chapter.number >= 5:
        seen.add(envelope(client.get("logout", cookie=login_token(client))))
    if chapter.number >= step("guard"):  # "who am I", without and with a session
        seen.add(envelope(client.get("session")))
        http, status, data = envelope(client.get("session", cookie=login_token(client)))
        seen.add((http, status, json.dumps(data, sort_keys=True)))
    if chapter.number >= step("hostile-input"):
        # A body over the limit: a real server answers 413 before any handler runs (tested on
        # one in test_hostile_input.py); in this process, ask the app's own error handler.
        too_large = PayloadTooLarge("Request body exceeds the size limit")
        handler = client.app.error_handler.lookup(too_large, None)
        seen.add(envelope_of(client.run(handler(None, too_large))))
    if chapter.number >= step("hostile-input") and broken_folder:  # a fault of the server's own: the envelope's 500
        with broken_folder():
            seen.add(envelope(client.login()))
    if chapter.number >= step("redis-store"):  # the session store (Redis) unreachable: a Redis store where no Redis listens
        from tutorial.server import free_port

        module = loaded(chapter).module("core.session")
        real, module.STORE = module.STORE, module.makeStore("redis://127.0.0.1:%d/0" % free_port())
        try:
            seen.add(envelope(client.get("session", cookie="admin|manage|" + "0" * 32)))
        finally:
            module.STORE = real
    if chapter.number >= step("hash-queue"):  # the queue for the hashing thread full: the server is busy
        be = loaded(chapter).module("api.be")
        real, be.HASHES = be.HASHES, be.HashQueue(0, 0)
        try:
            seen.add(envelope(client.login()))
        finally:
            be.HASHES = real
    if chapter.number >= step("own-site"):  # a login from another site; a Host name the app does not answer to
        seen.add(envelope(client.post("login", content=b'{"account":"admin","password":"123456"}',
                                      headers={"Sec-Fetch-Site": "cross-site"})))
        seen.add(envelope(client.get("session", headers={"Host": "evil.example"})))
    if chapter.number >= step("throttle"):  # wrong passwords until the login is throttled
        for _ in range(10):
            seen.add(envelope(client.post("login", content=b'{"account":"admin","password":"000000"}')))
    return {(json.dumps(TOKEN.sub("<token>", d) if isinstance(d, str) else d, ensure_ascii=False), s)
            for _, s, d in seen if s is not None}


def test_answers_quoted_in_the_readme_are_the_apps(chapter, client, admin_file):
    readmes = [chapter.path / "README.md"] + ([ROOT / "README.md"] if chapter.id == "final" else [])

    @contextmanager
    def broken_folder():  # a folder where the admin's session file belongs: no session can be written
        admin_file.unlink(missing_ok=True)
        admin_file.mkdir()
        try:
            yield
        finally:
            admin_file.rmdir()

    answers = answers_of(chapter, client, broken_folder)
    for readme in readmes:
        for data, status in quoted_answers(readme.read_text(encoding="utf-8")):
            assert (data, status) in answers, (
                "%s quotes {\"data\": %s, \"status\": %s}, which %s never answers; it answers: %s" % (
                    readme.relative_to(ROOT), data, status, chapter.id, sorted(answers)))


def test_the_readmes_quote_answers_in_prose():
    quoted = quoted_answers((ROOT / "chapters" / "05-logout" / "README.md").read_text(encoding="utf-8"))
    assert ('"退出成功"', 0) in quoted and ('"退出失败"', 401) in quoted


@pytest.mark.since(5)
@pytest.mark.until(5)
def test_a_changed_quote_is_caught(chapter, client):
    """Change one quoted answer of chapter 05: the comparison above must not accept it."""
    text = (chapter.path / "README.md").read_text(encoding="utf-8")
    tampered = text.replace('{"data": "退出成功", "status": 0}', '{"data": "退出成功", "status": 1}', 1)
    assert tampered != text
    answers = answers_of(chapter, client)
    assert set(quoted_answers(text)) <= answers
    assert not set(quoted_answers(tampered)) <= answers
