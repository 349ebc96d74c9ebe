"""Step 09 (checked-logout): logout deletes only the session it checked, never
one another worker has just written. Chapter 08 losing that session is in test_lab.py."""
import pytest

from support import files_in
from tutorial.chapters import step

pytestmark = pytest.mark.since("checked-logout")


def test_clear_token_keeps_a_newer_session(chapter, session, clock):
    """Worker A checks an old session; worker B logs the same account in again;
    A's clearToken then leaves B's session alone."""
    mine = session.makeToken("admin", "manage")
    assert session.checkToken(mine) == 0
    newer = session.makeToken("admin", "manage")
    assert session.clearToken(mine) is False
    assert session.checkToken(newer) == 0
    assert session.clearToken(newer) is True and session.checkToken(newer) == 4


@pytest.mark.parametrize("nth", [1, 2, 3])
def test_logout_never_deletes_a_login_made_at_any_step_of_it(chapter, session, session_dir, clock, nth):
    from tutorial.lab_inside import logout_meets_a_login

    outcome = logout_meets_a_login(session, nth)
    assert outcome["login_ran"], outcome
    assert outcome["survived"], outcome
    assert files_in(session_dir) == [], "nothing is left behind"
    if chapter.number >= step("logout-wins"):  # the logout holds the store's lock: the login waits for it
        assert outcome["waited"] == (nth > 1) and outcome["operations"][0] == "open", outcome
