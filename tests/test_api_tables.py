"""The "接口 / The API" table of a chapter README: every row produced for real
against that chapter's app (beyond the articles, where the API grows)."""
import re

import pytest

from support import envelope, set_cookies
from tutorial.chapters import step

pytestmark = [pytest.mark.repository_only, pytest.mark.since("hostile-input"),
              pytest.mark.readme_has("## 接口 / The API\n")]

TOO_LARGE = (413, 413, "请求太大")


def test_readme_api_table_is_what_the_app_answers(chapter, client, clock, config, admin_file, monkeypatch):
    """Every row of the chapter README's "The API" table, produced for real."""
    import json

    from tutorial.lab_inside import CROSS_SITE_LINK
    from tutorial.transcript import mask

    text = (chapter.path / "README.md").read_text(encoding="utf-8")
    section = text.split("## 接口 / The API\n")[1].split("\n## ")[0]
    rows = [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in section.splitlines()
            if line.startswith("| `") or line.startswith("| 任何")]

    def throttled():  # (the throttle step on)
        for _ in range(config.LOGIN_FREE_FAILURES):
            client.login("admin", "wrong")
        return client.login("admin", "wrong")

    def logout_with(headers=None):
        return client.get("logout", cookie=envelope(client.login())[2], headers=headers)

    def broken():
        admin_file.unlink(missing_ok=True)
        admin_file.mkdir()
        try:
            return client.login()
        finally:
            admin_file.rmdir()

    def session_with_login():
        return client.get("session", cookie=envelope(client.login())[2])

    def store_unreachable():  # (the redis-outage step on) a Redis store where no Redis listens
        from conftest import loaded
        from tutorial.server import free_port

        token = envelope(client.login())[2]
        module = loaded(chapter).module("core.session")
        with monkeypatch.context() as m:
            m.setattr(module, "STORE", module.makeStore("redis://127.0.0.1:%d/0" % free_port()))
            return client.get("session", cookie=token)

    def hash_queue_full():  # (the hash-queue step on) no free hashing thread and a queue that takes no more logins
        from conftest import loaded

        be = loaded(chapter).module("api.be")
        with monkeypatch.context() as m:
            m.setattr(be, "HASHES", be.HashQueue(0, 0))
            return client.login()

    scenarios = {
        "bad parameters": lambda: client.post("login", content=b"{}"),
        "wrong account or password": lambda: client.login("admin", "wrong"),
        **({"too many failures, must wait": throttled} if chapter.number >= step("throttle") else {}),
        **({"too many logins waiting for the hash": hash_queue_full} if chapter.number >= step("hash-queue") else {}),
        **({"sent from another site": lambda: client.post("login", json={"account": "admin", "password": "123456"},
                                                          headers={"Sec-Fetch-Site": "cross-site"})}
           if chapter.number >= step("own-site") else {}),
        "right": client.login,
        **({"a valid session, refreshed": session_with_login,
            "no valid session": lambda: client.get("session")} if chapter.number >= step("sliding-session") else {}),
        "a valid session": logout_with,
        "none, wrong or expired": lambda: client.get("logout"),
        **({"started by another site": lambda: logout_with(CROSS_SITE_LINK)}
           if chapter.number >= step("cross-site") else {}),
        "unknown path": lambda: client.get("/api/v1/be/nothing-here"),
        "wrong method": lambda: client.request("DELETE", "login"),
        "request too large": None,  # Sanic's own server enforces it, not ASGI: see the real-server test
        **({"a Host name not in ALLOWED_HOSTS": lambda: client.get("session", headers={"Host": "evil.example"})}
           if chapter.number >= step("own-site") else {}),
        "the server failed": broken,
        **({"the session store (Redis) is unreachable": store_unreachable}
           if chapter.number >= step("redis-outage") else {}),
    }
    assert [row[1].split(" / ")[1] for row in rows] == list(scenarios)
    for request, when, http, body in rows:
        if scenarios[when.split(" / ")[1]] is None:
            shown = json.loads(body.strip("`"))
            assert (int(http), shown["status"], shown["data"]) == TOO_LARGE
            continue
        clock.advance(getattr(config, "LOGIN_FORGET", 0) + 1)  # each row starts with no login counted
        res = scenarios[when.split(" / ")[1]]()
        assert res.request.method + " " + res.request.url.path == request.strip("`") or request == "任何 / any", when
        assert res.status_code == int(http.split(",")[0]), when
        assert ("Retry-After" in http) == ("retry-after" in res.headers), when
        assert ("Set-Cookie: session=..." in http) == any(
            c.startswith("session=") and not c.startswith('session="";') for c in set_cookies(res)), when
        if "cookie kept" in http:
            assert set_cookies(res) == [], when
        answer = mask(json.dumps(res.json(), ensure_ascii=False, separators=(",", ":")))
        assert answer == body.strip("`").replace("\\|", "|"), when
