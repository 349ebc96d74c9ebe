"""Step 15 (self-repair): broken state is repaired where that is safe (a
deleted session folder is made again), and otherwise answered with a clean
500 and one log line with the cause. Chapter 14's silence is in test_lab.py."""
import os

import pytest

from support import envelope

pytestmark = pytest.mark.since("self-repair")

ADMIN_FILE = "manage_21232f297a57a5a743894a0e4a801fc3"


def test_missing_session_folder_is_made_again_at_the_next_login(chapter, client, session_dir, caplog):
    import shutil

    shutil.rmtree(session_dir)
    token = envelope(client.login())[2]
    assert (session_dir / ADMIN_FILE).is_file()
    assert envelope(client.get("logout", cookie=token)) == (200, 0, "退出成功")
    warnings = [r for r in caplog.records if r.name == "sanic.error"]
    assert [r.levelname for r in warnings] == ["WARNING"] and "was missing" in warnings[0].getMessage()
    if os.name != "nt":
        assert session_dir.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("broken", ["session file is a folder", "counter file is a folder",
                                    "session folder is a file"])
def test_broken_state_is_one_log_line_and_a_clean_500(chapter, client, session_dir, caplog, broken):
    if broken == "session file is a folder":
        (session_dir / ADMIN_FILE).mkdir()
    elif broken == "counter file is a folder":
        (session_dir / "login_account_21232f297a57a5a743894a0e4a801fc3").mkdir()
    else:
        session_dir.rmdir()
        session_dir.write_text("not a folder")
    res = client.login()
    assert envelope(res) == (500, 500, "服务器错误")
    assert str(session_dir) not in res.text and "Error" not in res.text
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    line = errors[0].getMessage()
    assert line.startswith("POST /api/v1/be/login failed: ") and "Error: " in line and "\n" not in line
    assert errors[0].exc_info and errors[0].exc_info[1] is not None, "the traceback goes to the log"


def test_every_5xx_writes_one_log_line(chapter, caplog):
    import asyncio
    from types import SimpleNamespace

    from conftest import loaded

    answer = loaded(chapter).module("core.app").answerInEnvelope
    loop = asyncio.new_event_loop()
    try:
        request = SimpleNamespace(method="GET", path="/api/v1/be/logout")
        loop.run_until_complete(answer(request, RuntimeError("disk on fire")))
        from sanic.exceptions import NotFound
        loop.run_until_complete(answer(request, NotFound("no such page")))
    finally:
        loop.close()
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == ["GET /api/v1/be/logout failed: RuntimeError: disk on fire"], "a 404 is not logged, a 500 is"
