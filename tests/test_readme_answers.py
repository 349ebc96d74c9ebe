"""Every answer a README quotes in its prose is an answer the app gives.

The ```console sessions are run for real (test_readmes.py). Prose quotes
answers too, inline (`{"data": "退出成功", "status": 0}`) or in a ```json
block; this test sends each chapter's app the requests that produce every
kind of answer it has, and checks that each quoted answer is among them. The
top README quotes final/. A token in a quote is written <token>.
"""
import json
import re

import pytest

from support import envelope, login_token
from tutorial.chapters import ROOT

pytestmark = pytest.mark.repository_only

INLINE = re.compile(r"`(\{[^`]*\})`")
JSON_BLOCK = re.compile(r"^```json\n(.*?)^```", re.S | re.M)
TOKEN = re.compile(r"(?<=\|)[0-9a-f]{32}\b")


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


def answers_of(chapter, client) -> set:
    """(data as JSON, status) of every kind of answer the chapter's app gives."""
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
    return {(json.dumps(TOKEN.sub("<token>", d) if isinstance(d, str) else d, ensure_ascii=False), s)
            for _, s, d in seen if s is not None}


def test_answers_quoted_in_the_readme_are_the_apps(chapter, client):
    readmes = [chapter.path / "README.md"] + ([ROOT / "README.md"] if chapter.id == "final" else [])
    answers = answers_of(chapter, client)
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
