"""The security lab's attacks (notebooks/04-security-lab.ipynb), run in this
process on the `chapter` fixture: where the attack works until the chapter
before its fix (a chapter "fixed" early fails the test), and, where the step's
own test file does not, where it fails since the fix. Which test covers which
section, and the tests that read what the executed notebook measured: test_lab.py.
"""
import re
import threading
import time

import pytest

from support import envelope
from test_attempts_under_way import WRONG, checks  # noqa: F401 (a fixture the tests below use)
from test_failures_not_attempts import RIGHT, at_once
from test_throttle import THROTTLED, from_address
from tutorial.chapters import step
from tutorial.lab import FileAccess, attempt_meets_an_attempt, rebuild_token
from tutorial.lab_http import hostile_cookies, plant_outside
from tutorial.lab_inside import CROSS_SITE_LINK, guessing_hour, load_module, logout_meets_a_login, passwords_in_code
from tutorial.lab_logins import parallel_hours

pytestmark = pytest.mark.repository_only


def before(fix):
    return step(fix) - 1  # the last chapter without the fix


def _rebuild(session):
    """The attacker knows the user name and the second of the login, give or take two."""
    seen = int(time.time())
    return rebuild_token("admin", session.makeToken("admin", "manage").split("|")[2], around=seen, window=2)


@pytest.mark.since("make-token")
@pytest.mark.until(before("secret-token"))
@pytest.mark.slow
def test_token_rebuilt_offline(chapter, session):
    assert _rebuild(session).found


@pytest.mark.since("secret-token")
@pytest.mark.slow
def test_token_not_rebuilt_with_the_fix(chapter, session):
    result = _rebuild(session)
    assert not result.found and result.guesses == result.budget == 5 * 90000


def _hostile_cookies(client, session_dir):
    """Every hostile cookie, sent to logout: (answers, the planted file, paths touched outside the folder)."""
    planted = plant_outside(session_dir)
    cookies = hostile_cookies(planted.read_text().split(",")[0])
    client.get("logout")  # the app's start-up reads its own files: not part of the attack
    with FileAccess() as access:
        answers = {name: envelope(client.get("logout", cookie=cookie)) for name, cookie in cookies}
    return answers, planted, access.outside(session_dir)


@pytest.mark.since("logout")
@pytest.mark.until(before("hostile-input"))
def test_hostile_cookies_before_the_fix(chapter, client, session_dir):
    """The logout follows the cookie's group out of the folder, accepts the planted file and deletes it."""
    answers, planted, outside = _hostile_cookies(client, session_dir)
    assert answers.pop("traversal to a planted file") == (200, 0, "退出成功")
    assert not planted.exists() and str(planted.resolve()) in outside
    assert set(answers.values()) == {(401, 401, "退出失败")}, answers


@pytest.mark.since("hostile-input")
def test_hostile_cookies_with_the_fix(chapter, client, session_dir):
    answers, planted, outside = _hostile_cookies(client, session_dir)
    assert set(answers.values()) == {(401, 401, "退出失败")}, answers
    assert planted.exists() and outside == [], "touched %s" % outside


@pytest.mark.until(before("hostile-input"))
def test_requests_before_the_fix(chapter, client, app):
    """An unknown path and a wrong method get Sanic's own page; Sanic's default body limit stands."""
    for res in (client.get("/api/v1/be/nothing"), client.post("logout")):
        assert res.status_code in (404, 405) and envelope(res)[1] is None, res.text
    assert app.config.REQUEST_MAX_SIZE == 100_000_000


@pytest.mark.since("clear-update-token")
@pytest.mark.until(before("checked-logout"))
def test_logout_deletes_a_login_made_meanwhile(chapter, session, clock):
    """Worker B logs admin in again just before the file operation (the one: the
    delete) of worker A's logout: B's brand-new session is deleted."""
    outcome = logout_meets_a_login(session, 1)
    assert outcome["login_ran"] and not outcome["survived"], outcome
    assert logout_meets_a_login(session, 2)["operations"] == ["os.remove"], "one file operation only"


@pytest.mark.until(before("password-hash"))
def test_the_password_is_in_the_code_before_the_fix(chapter):
    assert passwords_in_code(chapter.path) == {"api/be.py": "123456"}


@pytest.mark.since("password-hash")
def test_no_password_in_the_code_with_the_fix(chapter, config):
    assert passwords_in_code(chapter.path) == {}
    assert re.fullmatch(r"pbkdf2_sha256\$\d{6,}\$[0-9a-f]{32}\$[0-9a-f]{64}", config.MANAGER["password"])


@pytest.mark.since("password-hash")
@pytest.mark.until(before("hash-thread"))
def test_the_hash_runs_on_the_event_loop_before_the_fix(chapter, client, be, monkeypatch):
    """The password is checked in the thread that runs the event loop: nothing else is answered meanwhile."""
    threads, check = [], be.checkPassword
    monkeypatch.setattr(be, "checkPassword", lambda *a: threads.append(threading.current_thread()) or check(*a))
    assert envelope(client.login())[:2] == (200, 0)
    assert threads == [threading.current_thread()], "the AppClient runs the app's event loop in this thread"


@pytest.mark.since("login")
@pytest.mark.until(before("throttle"))
def test_guessing_is_unlimited_before_the_fix(chapter, client, clock):
    """A wrong password every second for a minute: every guess checked; then the right one logs in at once."""
    answers = []
    for _ in range(60):
        answers.append(envelope(client.login("admin", "wrong")))
        clock.advance(1)
    assert answers == [(200, 400, "用户名或密码错误")] * 60
    assert envelope(client.login())[:2] == (200, 0)


@pytest.mark.since("throttle")
@pytest.mark.slow
def test_a_guessing_hour_with_the_fix(chapter, session, config):
    """A wrong password every second for an hour, on a clock moved by hand: 10 in
    the first minute (5 free, then one after each wait of 1, 2, 4, 8, 16 s), then
    one a minute at most: 69."""
    checked = guessing_hour(session, seconds=3600)
    per_minute = [sum(1 for s in checked if m * 60 <= s < (m + 1) * 60) for m in range(60)]
    assert config.LOGIN_FREE_FAILURES == 5 and config.LOGIN_MAX_WAIT == 60
    assert per_minute[0] == 10 and max(per_minute[1:]) == 1 and len(checked) == 69


@pytest.mark.since("throttle")
@pytest.mark.until(before("counter-locks"))
def test_attempts_that_meet_before_the_fix(chapter, session_dir, config):
    """The other attempt lands between the first one's read and write of the
    counter: both go on to the password check, and one is never counted."""
    from conftest import assert_from, loaded

    counters = assert_from(loaded(chapter).module("core.file_counters"), chapter)
    meeting = attempt_meets_an_attempt(counters, str(session_dir / ("login_account_" + "e" * 32)), int(time.time()))
    assert meeting.other_finished_meanwhile and meeting.results == [0, 0], meeting
    assert meeting.failures == config.LOGIN_FREE_FAILURES, "free - 1 + 2 attempts went on, free were counted"


@pytest.mark.since("login")
@pytest.mark.until(before("self-repair"))
def test_a_deleted_session_folder_before_the_fix(chapter, client, session_dir):
    """Every login is a 500, and the folder stays gone until someone makes it by hand."""
    import shutil

    shutil.rmtree(session_dir)
    assert [client.login().status_code for _ in range(2)] == [500, 500]
    assert not session_dir.exists()
    session_dir.mkdir()
    assert envelope(client.login())[:2] == (200, 0)


@pytest.mark.since("hostile-input")
@pytest.mark.until(before("self-repair"))
def test_a_silent_500_before_the_fix(chapter, client, admin_file, caplog):
    """From the envelope step on, a 500 is answered in the envelope and nothing is
    logged (before that step, Sanic's own handler logged it)."""
    admin_file.mkdir()
    assert envelope(client.login()) == (500, 500, "服务器错误")
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []


@pytest.mark.since("logout")
@pytest.mark.until(before("cross-site"))
def test_a_cross_site_link_before_the_fix(chapter, client, admin_file):
    """The user clicks, on another site, a link to the logout URL (the browser
    sends the cookie: a top-level navigation), and is logged out."""
    token = envelope(client.login())[2]
    assert envelope(client.get("logout", cookie=token, headers=CROSS_SITE_LINK)) == (200, 0, "退出成功")
    assert not admin_file.exists()


def _right_passwords_at_once(client):
    """16 logins with the right password from one address at the same moment: the answers, counted."""
    answers = [envelope(a)[:2] for a in at_once(client, [RIGHT] * 16)]
    return {key: answers.count(key) for key in set(answers)}


@pytest.mark.since("throttle")
@pytest.mark.until(before("failures-not-attempts"))
def test_right_passwords_at_the_same_moment_are_refused_before_the_fix(chapter, client, clock):
    """Each login is counted as a failure before its password is checked: while the first are checked, the
    later ones find the free failures used up, and are refused though every password is right."""
    answers = _right_passwords_at_once(client)
    assert set(answers) == {(200, 0), (429, 429)} and answers[200, 0] + answers[429, 429] == 16, answers


def _guesses_at_once(client, checks):
    answers = [envelope(a)[:2] for a in at_once(client, [WRONG] * 16)]
    return answers, checks["most"]


@pytest.mark.since("failures-not-attempts")
@pytest.mark.until(before("attempts-under-way"))
def test_guesses_sent_at_once_are_all_checked_before_the_fix(chapter, client, clock, checks):
    """Nothing is recorded until a check ends: all 16 are told "no need to wait", all 16 are checked at once."""
    assert _guesses_at_once(client, checks) == ([(200, 400)] * 16, 16)


def _the_owner_while_another_address_guesses(client, config):
    """The owner's browser has logged in before; someone at another address fails until the account must
    wait; then the owner logs in with the right password."""
    assert envelope(client.login())[:2] == (200, 0)
    guesser = from_address(client, "127.0.0.2")
    for _ in range(config.LOGIN_FREE_FAILURES):
        assert envelope(guesser.login("admin", "wrong"))[1] == 400
    assert envelope(guesser.login("admin", "wrong")) == THROTTLED
    return envelope(client.login())


@pytest.mark.since("throttle")
@pytest.mark.until(before("device-cookies"))
def test_a_guesser_elsewhere_keeps_the_owner_out_before_the_fix(chapter, client, config, clock):
    assert _the_owner_while_another_address_guesses(client, config) == THROTTLED


@pytest.mark.since("attempts-under-way")
@pytest.mark.slow
def test_guesses_sent_at_once_with_the_fix(chapter, config, tmp_path):
    """16 wrong passwords at a time for ten simulated minutes (tutorial/lab_logins.py; the lab's section 13
    runs the hour), from one address and with a new address for every guess: the first batch checks only
    the free failures, and no more passwords are checked than one guess at a time gets."""
    sessions = {}
    for name in ("one address", "new addresses", "one at a time"):
        folder = tmp_path / name.replace(" ", "-")
        folder.mkdir()
        sessions[name] = load_module(chapter.path, folder)
    hours = parallel_hours({"one address": (sessions["one address"], False),
                            "new addresses": (sessions["new addresses"], True)}, at_once=16, seconds=600)
    one_at_a_time = guessing_hour(sessions["one at a time"], seconds=600)
    assert [checked.count(0) for checked in hours.values()] == [config.LOGIN_FREE_FAILURES] * 2
    assert [len(checked) for checked in hours.values()] == [len(one_at_a_time)] * 2


def _made_up_accounts(client, session_dir, n=50):
    """One address sends `n` wrong logins, each for an account nobody has (all but the first few are
    answered 429): (how many were answered 429, the login counter files left in the session folder)."""
    answers = [envelope(client.login("nobody%d" % i, "wrong"))[0] for i in range(n)]
    return answers.count(429), len([p for p in session_dir.iterdir() if p.name.startswith("login_")])


@pytest.mark.since("throttle")
@pytest.mark.until(before("failures-not-attempts"))
def test_made_up_accounts_leave_a_file_each_before_the_fix(chapter, client, session_dir, config, clock):
    """Issue 20, 1: every attempt writes its account's counter before anything is checked, throttled or
    not, so each made-up account name is one more file (and one more inode) until the sweep."""
    assert _made_up_accounts(client, session_dir) == (50 - config.LOGIN_FREE_FAILURES, 50 + 1)


@pytest.mark.since("failures-not-attempts")
def test_made_up_accounts_leave_only_the_checked_ones_with_the_fix(chapter, client, session_dir, config, clock):
    """Since failures-not-attempts a throttled attempt writes nothing: the address's counter and one file for
    each account whose password was checked, however many requests."""
    assert _made_up_accounts(client, session_dir) == (50 - config.LOGIN_FREE_FAILURES, config.LOGIN_FREE_FAILURES + 1)
