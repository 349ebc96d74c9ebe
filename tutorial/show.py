"""Show an HTTP exchange as curl shows it, so a reader can paste the line and see the same.

    r = httpx.get(url("logout"))
    show(r)

prints the curl command that sends the same request, then exactly what that
command prints: `curl -s -i` shows the status line, the headers as the server
sent them, a blank line and the body as it came (compact JSON, Chinese as it
is). With `headers=False` the command is `curl -s` and only the body is shown.
"""
from __future__ import annotations

import shlex


def as_curl(request, headers: bool = True) -> str:
    """The curl line for an httpx request: method, URL, Cookie header, body."""
    parts = ["curl", "-s"] + (["-i"] if headers else []) + [str(request.url)]
    if request.method != "GET":
        parts += ["-X", request.method]
    cookie = request.headers.get("cookie")
    if cookie:
        parts += ["-H", "Cookie:" + cookie]
    body = request.content
    if body:
        parts += ["-d", body.decode("utf-8", "replace")]
    return " ".join(shlex.quote(p) for p in parts)


def answer(response, headers: bool = True) -> str:
    """What `curl -s -i` (or, without headers, `curl -s`) prints for this response."""
    body = response.content.decode("utf-8", "replace")
    if not headers:
        return body
    lines = ["%s %d %s" % (response.http_version, response.status_code, response.reason_phrase)]
    lines += ["%s: %s" % (k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw]
    return "\n".join(lines) + "\n\n" + body


def show(response, headers: bool = True) -> None:
    print("$ " + as_curl(response.request, headers))
    print(answer(response, headers))
