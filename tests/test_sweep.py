"""Step 14 (sweep): a background sweep removes expired sessions, old login
counters and abandoned temporary files, and only files it can prove are its
own. The folder growing without it (chapter 13) is in test_lab.py."""
import os

import pytest

from tutorial.chapters import step

from support import envelope, files_in

pytestmark = pytest.mark.since("sweep")

ADMIN_FILE = "manage_21232f297a57a5a743894a0e4a801fc3"
TOKEN = "0123456789abcdef0123456789abcdef"


def _planted(path, content, age, now):
    """A file with `content`, last modified `age` seconds before `now`."""
    path.write_text(content)
    os.utime(path, (now - age, now - age))
    return path


def counter(chapter, failures, last):
    """A login counter's content: "failures,last" (from the attempts-under-way step on, with the attempts
    under way and when the last one started: none, then)."""
    if chapter.number < step("attempts-under-way"):
        return b"%010d,%010d" % (failures, last)
    return b"%010d,%010d,%04d,%010d" % (failures, last, 0, last)


def test_sweep_removes_what_it_can_prove_is_its_own(chapter, session, session_dir, clock):
    fresh = session.makeToken("admin", "manage")
    expired = session_dir / ("manage_" + "1" * 32)
    expired.write_text("%s,%d" % (TOKEN, clock.now - 3601))
    leftover = _planted(session_dir / ".tmp-abc_1234", "half", 4000, clock.now)
    young_leftover = _planted(session_dir / ".tmp-abcd5678", "half", 100, clock.now)
    old_counter = session_dir / ("login_address_" + "2" * 32)
    old_counter.write_bytes(counter(chapter, 7, clock.now - 901))
    fresh_counter = session_dir / ("login_account_" + "3" * 32)
    fresh_counter.write_bytes(counter(chapter, 7, clock.now - 100))
    assert session.sweepTokens() == 3
    assert not expired.exists() and not leftover.exists() and not old_counter.exists()
    assert fresh_counter.exists() and young_leftover.exists() and session.checkToken(fresh) == 0


# Files the sweep cannot prove are its own: it must leave every one of them,
# however old.
NOT_OURS = {
    "notes.txt": "my notes", "backup.db": "x" * 100, ".hidden_old": "", ".gitignore": "*\n",
    "manage_" + "4" * 32: "garbage",                       # a session's name, not a session's content
    "manage_" + "5" * 32 + ".bak": "%s,1000" % TOKEN,        # a session's content, not a session's name
    "staff_" + "6" * 32: "%s,1000" % TOKEN,                  # a group this app does not have
    "manage_" + "7" * 31: "%s,1000" % TOKEN,                 # 31 hex digits
    ".tmp-abandoned": "half",                                # not a name tempfile makes
    "login_account_" + "8" * 32: "0000000007,1000",          # a counter's name, not a counter's content
    "login_user_" + "9" * 32: "0000000007,0000001000",      # not a counter this app keeps
}


def test_sweep_leaves_every_file_it_cannot_prove_is_its_own(chapter, session, session_dir, clock):
    for name, content in NOT_OURS.items():
        _planted(session_dir / name, content, 100000, clock.now)
    (session_dir / ("manage_" + "a" * 32)).mkdir()
    outside = session_dir.parent / "elsewhere"
    outside.write_text("%s,1000" % TOKEN)
    try:
        (session_dir / ("manage_" + "b" * 32)).symlink_to(outside)
    except OSError:
        pass  # no symbolic links here
    before = sorted(files_in(session_dir))
    assert session.sweepTokens() == 0
    assert sorted(files_in(session_dir)) == before
    assert outside.read_text() == "%s,1000" % TOKEN


@pytest.mark.parametrize("nth", [1, 2, 3, 4])
def test_sweep_never_deletes_a_session_written_meanwhile(chapter, session, session_dir, clock, nth):
    """The admin's session has expired; another worker logs admin in again just
    before the sweep's nth file operation on it. The new session survives."""
    from tutorial.lab_inside import LoginAt

    (session_dir / ADMIN_FILE).write_text("%s,%d" % (TOKEN, clock.now - 4000))
    with LoginAt(session, nth) as other:
        session.sweepTokens()
    assert other.token is not None, "the sweep made fewer than %d file operations: %s" % (nth, other.operations)
    assert session.checkToken(other.token) == 0
    assert files_in(session_dir) == [ADMIN_FILE]


def test_logins_do_not_sweep(chapter, client, session_dir):
    """The sweep never runs inside a request: an expired session stays after logins."""
    old = session_dir / ("manage_" + "1" * 32)
    old.write_text("%s,%d" % (TOKEN, 1000))
    for _ in range(3):
        assert envelope(client.login())[1] == 0
    assert old.exists()


def test_the_sweeper_runs_in_a_thread_every_sweep_every_seconds(chapter, monkeypatch):
    """sweepForever waits SWEEP_EVERY seconds, then sweeps in another thread
    than the event loop's, again and again."""
    import asyncio
    import threading

    from conftest import loaded

    be = loaded(chapter).module("api.be")
    waits, threads = [], []
    real_sleep = asyncio.sleep

    async def sleep(seconds):
        waits.append(seconds)
        await real_sleep(0)

    def sweep():
        threads.append(threading.current_thread())
        if len(threads) == 3:
            raise RuntimeError("a broken sweep is logged, and the sweeper goes on")
        return 0

    monkeypatch.setattr(be.asyncio, "sleep", sleep)
    monkeypatch.setattr(be, "sweepTokens", sweep)
    loop = asyncio.new_event_loop()
    try:
        task = loop.create_task(be.sweepForever())
        while len(threads) < 4:
            loop.run_until_complete(real_sleep(0.01))
        task.cancel()
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()
    assert waits[:4] == [be.SWEEP_EVERY] * 4
    assert threading.main_thread() not in threads
