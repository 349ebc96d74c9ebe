"""What the notebooks print for a request is what the curl line they print
would print: the line is pasted into a real curl here, and the two compared
(the token and the time, which change on every request, masked)."""
import contextlib
import io
import shlex
import subprocess

import httpx
import pytest

from tutorial.lab import fast_hash_env
from tutorial.server import ChapterServer
from tutorial.show import show
from tutorial.transcript import mask

pytestmark = [pytest.mark.repository_only, pytest.mark.final_only]


def shown(response, **options):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        show(response, **options)
    command, printed = out.getvalue().split("\n", 1)
    assert command.startswith("$ curl ")
    return command[2:], printed


def curl(command):
    args = shlex.split(command)
    out = subprocess.run(args, capture_output=True, timeout=30).stdout.decode("utf-8")
    return out.replace("\r\n", "\n")  # (a terminal shows the two line ends alike)


def test_a_shown_request_prints_what_its_curl_line_prints(chapter, tmp_path):
    with ChapterServer(chapter.path, session_dir=tmp_path, env=fast_hash_env()) as server:
        with httpx.Client() as client:
            token = client.post(server.url("login"), content='{"account":"admin","password":"123456"}').json()["data"]
            requests = [
                lambda: httpx.get(server.url("logout")),
                lambda: httpx.post(server.url("login"), content='{"account":"admin","password":"000000"}'),
                lambda: httpx.post(server.url("login"), content='{"account":"admin","password":"123456"}'),
                lambda: httpx.get(server.url("session"), headers={"Cookie": "session=" + token}),
            ]
            for make in requests:
                for headers in (True, False):
                    command, printed = shown(make(), headers=headers)
                    assert ("-i" in shlex.split(command)) is headers
                    assert mask(curl(command)) == mask(printed.rstrip("\n")), command
