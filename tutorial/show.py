"""Show an HTTP exchange the way the article does with curl and jq.

    r = httpx.get(url("logout"))
    show(r)

prints the curl command that sends the same request (paste it into a
terminal), then the answer: HTTP status, Set-Cookie if any, and the JSON body
indented with Chinese readable, as `| jq` shows it.
"""
from __future__ import annotations

import json
import shlex


def as_curl(request) -> str:
    """The curl line for an httpx request: method, URL, Cookie header, body."""
    parts = ["curl", "-s", "-i", str(request.url)]
    if request.method != "GET":
        parts += ["-X", request.method]
    cookie = request.headers.get("cookie")
    if cookie:
        parts += ["-H", "Cookie:" + cookie]
    body = request.content
    if body:
        parts += ["-d", body.decode("utf-8", "replace")]
    return " ".join(shlex.quote(p) for p in parts)


def answer(response) -> str:
    lines = ["HTTP %d" % response.status_code]
    lines += ["Set-Cookie: " + c for c in response.headers.get_list("set-cookie")]
    try:
        lines.append(json.dumps(response.json(), ensure_ascii=False, indent=2))
    except ValueError:
        lines.append(response.text)
    return "\n".join(lines)


def show(response) -> None:
    print("$ " + as_curl(response.request))
    print(answer(response))
