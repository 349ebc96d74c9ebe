"""Step 08 (atomic-files): several workers share the session files safely. A
write is a temporary file renamed in one step; a read never raises, and a
missing, corrupt or linked file is no session. The race itself, on four
workers, is in test_lab.py."""
import os

import pytest

from support import each_case, files_in

pytestmark = pytest.mark.since("atomic-files")

ADMIN_FILE = "manage_21232f297a57a5a743894a0e4a801fc3"
TOKEN = "0123456789abcdef0123456789abcdef"


def test_session_file_that_is_a_link_out_of_the_folder_is_refused(chapter, session, session_dir, tmp_path, clock):
    outside = tmp_path / "elsewhere"
    outside.write_text("%s,%d" % (TOKEN, clock.now))
    try:
        (session_dir / ADMIN_FILE).symlink_to(outside)
    except OSError:
        pytest.skip("no symbolic links here")
    assert session.checkToken("admin|manage|" + TOKEN) == 4


def test_corrupt_session_file_is_no_session(chapter, session, session_dir, clock):
    def check(content):
        (session_dir / ADMIN_FILE).write_bytes(content)
        assert session.checkToken("admin|manage|" + TOKEN) == 4

    each_case([b"", b"garbage", b"x,y", TOKEN.encode() + b",soon", b"\xff\xfe\x00", TOKEN.encode() + b",1,2", b",123"],
              check, "content")


def test_session_file_replaced_by_a_folder_is_no_session(chapter, session, session_dir, clock):
    (session_dir / ADMIN_FILE).mkdir()
    assert session.checkToken("admin|manage|" + TOKEN) == 4


def test_session_file_is_written_aside_then_renamed(chapter, session, session_dir, clock, monkeypatch):
    """While the new content is written, the old file is still whole; os.replace
    then swaps it in one step."""
    token = session.makeToken("admin", "manage").split("|")[2]
    seen = []
    real_replace = os.replace

    def replace(src, dst):
        seen.append((os.path.dirname(src) == str(session_dir), open(dst).read(), open(src).read()))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    clock.advance(5)
    session.updataToken("admin|manage|" + token)
    assert seen == [(True, "%s,%d" % (token, clock.now - 5), "%s,%d" % (token, clock.now))]
    assert files_in(session_dir) == [ADMIN_FILE], "no temporary file is left"


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_session_files_are_private(chapter, session, session_dir, clock):
    session.makeToken("admin", "manage")
    assert (session_dir / ADMIN_FILE).stat().st_mode & 0o777 == 0o600


def test_the_session_files_have_a_module_of_their_own(chapter, session):
    """core/file_store.py reads and writes them; core/session.py keeps the rules."""
    from conftest import loaded

    store = loaded(chapter).module("core.file_store")
    assert isinstance(session.STORE, store.FileStore)
    assert session.STORE.folder == session.TEMPPATH
