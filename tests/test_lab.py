"""The security lab (notebooks/04-security-lab.ipynb): each attack works on the
chapter before its fix and fails on the chapter with it.

test_section_N asserts both columns of what the executed notebook measured in
section N (fixture `executed_notebooks`, run in a background job). The tests in
test_lab_attacks.py run each attack in this process on the `chapter` fixture:
where it works until the chapter before the fix (a chapter "fixed" early fails
it), where it fails since the fix, unless the step's own test file has that
side. Besides test_section_N (before the fix | with it):

 1 secret-token    test_token_rebuilt_offline | test_token_not_rebuilt_with_the_fix
 2 hostile-input   test_hostile_cookies_before_the_fix, test_requests_before_the_fix |
                   test_hostile_cookies_with_the_fix, test_hostile_input.py
 3 atomic-files    (several workers: the notebook's real servers only) | test_atomic_files.py
 4 checked-logout  test_logout_deletes_a_login_made_meanwhile | test_checked_logout.py
 5 password-hash   test_the_password_is_in_the_code_before_the_fix | test_no_password_in_the_code_with_the_fix
 6 hash-thread     test_the_hash_runs_on_the_event_loop_before_the_fix | test_hash_thread.py
 7 throttle        test_guessing_is_unlimited_before_the_fix | test_a_guessing_hour_with_the_fix
 8 counter-locks   test_attempts_that_meet_before_the_fix | test_counter_locks.py
 9 sweep           (a real server's sweep: the notebook only) | test_sweep.py
10 self-repair     test_a_deleted_session_folder_before_the_fix, test_a_silent_500_before_the_fix |
                   test_self_repair.py
11 cross-site      test_a_cross_site_link_before_the_fix | test_cross_site.py
12 failures-not-attempts
                   test_right_passwords_at_the_same_moment_are_refused_before_the_fix (and _with_redis_, test_lab_attacks_redis.py) |
                   test_failures_not_attempts.py
13 attempts-under-way
                   test_guesses_sent_at_once_are_all_checked_before_the_fix |
                   test_attempts_under_way.py, test_guesses_sent_at_once_with_the_fix
14 redis-under-way test_guesses_sent_at_once_are_all_checked_with_redis_before_the_fix (test_lab_attacks_redis.py) |
                   test_redis_under_way.py
15 device-cookies  test_a_guesser_elsewhere_keeps_the_owner_out_before_the_fix (and _with_redis_, test_lab_attacks_redis.py) |
                   test_device_cookies.py
16 failures-not-attempts (its second effect: issue 20's "disk filled by login counters")
                   test_made_up_accounts_leave_a_file_each_before_the_fix |
                   test_made_up_accounts_leave_only_the_checked_ones_with_the_fix
17-23 (any-string ... redis-limits): test_lab_third.py, and each step's own test file for both sides.
"""
import pytest

from tutorial.chapters import ROOT, by_key
from tutorial.notebooks import NOTEBOOKS

pytestmark = pytest.mark.repository_only

FIXES = ["secret-token", "hostile-input", "atomic-files", "checked-logout", "password-hash", "hash-thread",
         "throttle", "counter-locks", "sweep", "self-repair", "cross-site", "failures-not-attempts",
         "attempts-under-way", "redis-under-way", "device-cookies", "failures-not-attempts"]


# ================================================================== what the lab notebook measured

def lab_section(executed_notebooks, number, rows=False):
    """Section `number` of the executed lab notebook: (its markdown, its code
    cell, [each Markdown table its code cell shows, as {first cell: other cells},
    or with `rows` as a list of rows])."""
    from tutorial.redis_server import INSTALL, find_binary

    if find_binary() is None:
        pytest.skip("The lab notebook (sections 12, 14 and 15) " + INSTALL)
    results, _ = executed_notebooks
    nb, _ = results[NOTEBOOKS / "04-security-lab.ipynb"]
    if isinstance(nb, Exception):
        raise nb  # the notebook's own assertions failed
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and cell.source.startswith("## %d. " % number):
            code = next(c for c in nb.cells[i + 1:] if c.cell_type == "code")
            tables = []
            for output in code.outputs:
                text = output.get("data", {}).get("text/markdown")
                if text:
                    found = [[c.strip() for c in line.strip().strip("|").split(" | ")] for line in text.splitlines()[2:]]
                    table = [[cells[0].strip("`")] + cells[1:] for cells in found]
                    tables.append(table if rows else {cells[0]: cells[1:] for cells in table})
            return cell.source, code.source, tables
    raise AssertionError("no section %d in the lab notebook" % number)


def test_every_section_runs_its_attack_on_the_two_real_chapters(executed_notebooks):
    """Section N takes the Nth fix and links its README; nothing swaps a function."""
    for number, fix in enumerate(FIXES, 1):
        text, code, tables = lab_section(executed_notebooks, number)
        slug = by_key(fix).slug
        assert "(../chapters/%s/README.md)" % slug in text, (number, fix)
        assert code.startswith('before, after = lab.pair("%s")' % fix), (number, code[:60])
        assert tables, "section %d shows no table" % number
    source = (NOTEBOOKS / "04-security-lab.ipynb").read_text(encoding="utf-8")
    assert "before_fix" not in source and "serve_swapped" not in source


def test_section_1_a_token_rebuilt_offline(executed_notebooks):
    (table,) = lab_section(executed_notebooks, 1)[2]
    assert table["05-logout"][0] == "**找到 / found**"
    assert table["06-secret-token"][:2] == ["没找到 / not found", "450,000 / 450,000"]


def test_section_2_hostile_cookies_and_requests(executed_notebooks):
    cookies, requests = lab_section(executed_notebooks, 2)[2]
    refused = "401 · 401 · 退出失败"
    assert cookies.pop("traversal to a planted file") == ["200 · 0 · 退出成功", refused]
    assert cookies.pop("外面那个文件还在吗 / planted file still there?") == ["False", "True"]
    assert len(cookies) == 8 and all(cells == [refused, refused] for cells in cookies.values()), cookies
    assert requests["unknown path"] == ["404 · text/plain", "404 · 404 · 接口不存在"]
    assert requests["wrong method"] == ["405 · text/plain", "405 · 405 · 请求方法错误"]
    assert requests["10 MB"] == ["200 · 400 · 用户名或密码错误", "413 · 413 · 请求太大"], "06 reads it all"
    for name, (old, new) in requests.items():
        http, status, data = new.split(" · ")  # with the fix: always the envelope, never a 5xx
        assert int(http) < 500 and data in ("参数错误", "用户名或密码错误", "请求太大", "接口不存在", "请求方法错误"), (
            name, new)
        assert (new == "413 · 413 · 请求太大") is (name in ("deep nesting", "200 KB", "10 MB")), name


def test_section_3_login_and_logout_at_once_on_four_workers(executed_notebooks):
    text, code, (table,) = lab_section(executed_notebooks, 3)
    assert "workers=4" in code
    assert set(table) == {"07-hostile-input", "08-atomic-files"}
    requests = {slug: int(cells[0].replace(",", "")) for slug, cells in table.items()}
    # batches of 8 clients x 40 rounds x (login + logout), as many for both chapters (lab_http.race_until_it_shows)
    assert len(set(requests.values())) == 1 and requests["07-hostile-input"] % (8 * 40 * 2) == 0, requests
    assert all("logout 200" in cells[2] for cells in table.values()), "some logouts must succeed, or it proves nothing"
    assert int(table["07-hostile-input"][1].strip("*")) > 0 and table["08-atomic-files"][1] == "**0**"


def test_section_4_a_logout_meets_another_workers_login(executed_notebooks):
    text, code, (rows,) = lab_section(executed_notebooks, 4, rows=True)
    assert "lab_inside.load_module(ROOT / \"chapters\" / slug" in code, "the two real chapters' core/session.py"
    assert rows == [["08-atomic-files", "1: `os.remove`", "**被删了 / deleted**"],
                    ["09-checked-logout", "1: `os.rename`", "还在 / survived"],
                    ["09-checked-logout", "2: `open`", "还在 / survived"],
                    ["09-checked-logout", "3: `os.remove`", "还在 / survived"]]


def test_section_5_the_password_in_the_code(executed_notebooks):
    (table,) = lab_section(executed_notebooks, 5)[2]
    holds, how, per_guess, per_day = table["09-checked-logout"]
    assert (holds, how) == ("`'password': '123456'`（`api/be.py`）", "**123456**，直接读出 / read off the code")
    holds, how, per_guess, per_day = table["10-password-hash"]
    assert holds.startswith("`pbkdf2_sha256$600000$") and how == "只能一个一个地猜 / only by guessing"
    assert float(per_guess.rstrip(" s")) > 0 and int(per_day.replace(",", "")) > 0


def test_section_6_the_hash_stops_the_whole_worker(executed_notebooks):
    """(counted in the order the server sent its answers: lab_http.cheap_answers_during_login)"""
    (table,) = lab_section(executed_notebooks, 6)[2]
    during = {slug: [int(n) for n in cells[0].split(" · ")] for slug, cells in table.items()}
    assert set(during) == {"10-password-hash", "11-hash-thread"} and all(len(n) == 2 for n in during.values())
    assert max(during["10-password-hash"]) == 0, "with the hash on the event loop nothing else is answered"
    assert min(during["11-hash-thread"]) >= 5, "with the hash in a thread, cheap requests are answered meanwhile"


def test_section_7_unlimited_guessing(executed_notebooks):
    second, hour = lab_section(executed_notebooks, 7)[2]
    guesses, checked, throttled, right = (c.replace(",", "") for c in second["11-hash-thread"])
    assert int(guesses) == int(checked) > 0 and throttled == "0" and right == "200 · 0"
    guesses, checked, throttled, right = (c.replace(",", "") for c in second["12-throttle"])
    assert int(checked) <= 7 and int(throttled) > 0 and int(guesses) == int(checked) + int(throttled)
    assert right.startswith("429 · 登录尝试过多，请稍后再试 · Retry-After ")
    assert hour["11-hash-thread"] == ["60 · 60 · 60 · 60 · 60", "60", "3,600"]
    assert hour["12-throttle"] == ["10 · 1 · 1 · 1 · 1", "1", "69"]


def test_section_8_guesses_that_arrive_together(executed_notebooks):
    (table,) = lab_section(executed_notebooks, 8)[2]
    assert table["12-throttle"] == ["是 / yes", "0 · 0", "6", "5"], "two went on, one of them never counted"
    assert table["13-counter-locks"] == ["没有，在等锁 / no, it waited for the lock", "0 · 1", "5", "5"]


def test_section_9_a_folder_that_only_grows(executed_notebooks):
    (table,) = lab_section(executed_notebooks, 9)[2]
    ours = ("过期的会话 / an expired session", "旧的登录计数 / an old login counter",
            "丢下的临时文件 / an abandoned temporary file")
    assert len(table) == 9 and sum(what in ours for what, _, _ in table.values()) == 3
    for name, (what, old, new) in table.items():
        assert old == "还在 / kept", "chapter 13 deletes nothing: %s" % name
        assert new == ("**删了 / deleted**" if what in ours else "还在 / kept"), name


def test_section_10_a_deleted_folder_and_a_silent_500(executed_notebooks):
    deleted, broken = lab_section(executed_notebooks, 10)[2]
    assert deleted["14-sweep"] == ["500", "500", "**没有 / no**", "200"]
    assert deleted["15-self-repair"] == ["200", "200", "是 / yes", "—"]
    assert broken["14-sweep"] == ["500 · 500 · 服务器错误", "0", "False", "—"]
    answer, lines, traceback, line = broken["15-self-repair"]
    assert (answer, lines, traceback) == ("500 · 500 · 服务器错误", "1", "True")
    assert line.startswith("POST /api/v1/be/login failed: IsADirectoryError: ") and "<session folder>" in line


def test_section_11_a_link_on_another_site(executed_notebooks):
    (table,) = lab_section(executed_notebooks, 11)[2]
    assert table["15-self-repair"] == ["200 · 退出成功", "False", "True", "401 · 退出失败"]
    assert table["16-cross-site"] == ["401 · 退出失败", "True", "False", "200 · 退出成功"]


STORES = ("文件 / file", "Redis")


def test_section_12_right_passwords_at_the_same_moment(executed_notebooks):
    text, code, (rows,) = lab_section(executed_notebooks, 12, rows=True)
    """Chapter 22 refuses right passwords with one worker already; chapter 23, with four (issue 19: 16 clients
    at one address, 1,600 logins), refuses none, with either store."""
    assert "{before: 1, after: 4}, {before: 25, after: 100}" in code and "clients=16" in code
    assert "lab.fast_hash_env()" in code
    counts = {(slug, store): (int(workers), int(ok.replace(",", "")), int(refused.strip("*").replace(",", "")))
              for slug, store, workers, ok, refused, _ in rows}
    assert list(counts) == [(slug, store) for slug in ("22-shared-counters", "23-failures-not-attempts")
                            for store in STORES]
    for store in STORES:
        workers, logged_in, refused = counts["22-shared-counters", store]
        assert workers == 1 and logged_in + refused == 400 and refused > 0, "right passwords refused (%s)" % store
        assert counts["23-failures-not-attempts", store] == (4, 1600, 0)


ONE, NEW = "一个地址 / one address", "每个猜测一个新地址 / a new address for every guess"  # (the rows' words)


def _hours(rows):
    """{(chapter, guesses from): (checked of the first 16, [the first five minutes], the hour)}"""
    return {(slug, whence): (int(first), [int(n) for n in minutes.split(" · ")], int(hour.replace(",", "")))
            for slug, whence, first, minutes, hour in rows}


def test_section_13_guesses_sent_in_a_batch(executed_notebooks):
    """23 checks every guess of a batch, hour after hour; 24 only the free failures, then one after each wait.
    On 34 (the finished app) the bounds: 69 an hour against one account, from one address or from many,
    what chapter 12 gave one guess at a time (section 7, measured again here)."""
    text, code, (attack, bounds) = lab_section(executed_notebooks, 13, rows=True)
    assert "at_once=16" in code
    hours = _hours(attack)
    assert list(hours) == [(slug, whence) for slug in ("23-failures-not-attempts", "24-attempts-under-way")
                           for whence in (ONE, NEW)]
    for whence in (ONE, NEW):
        first, minutes, hour = hours["23-failures-not-attempts", whence]
        assert first == 16 and minutes == [16] * 5 and hour == 16 * 60, "a batch a minute, every guess checked"
        assert hours["24-attempts-under-way", whence] == (5, [10, 1, 1, 1, 1], 69)
    one_address, new_addresses, one_at_a_time = (int(n) for _, n in bounds)
    assert one_address == new_addresses == one_at_a_time == 69
    assert one_at_a_time == len(_a_guessing_hour_on("12-throttle")), "section 7's hour, as the code gives it"


def _a_guessing_hour_on(slug, seconds=3600):
    """Section 7's simulated hour (one guess a second, one at a time), on a chapter's own code."""
    import tempfile
    from pathlib import Path

    from tutorial.lab_inside import guessing_hour, load_module

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "temp").mkdir()
        return guessing_hour(load_module(by_key(slug).path, Path(folder) / "temp"), seconds=seconds)


def test_section_14_guesses_sent_in_a_batch_with_redis(executed_notebooks):
    text, code, (rows,) = lab_section(executed_notebooks, 14, rows=True)
    assert "lab_logins.database(redis, n)" in code and "RedisStore" in code
    hours = _hours(rows)
    assert list(hours) == [(slug, whence) for slug in ("24-attempts-under-way", "25-redis-under-way")
                           for whence in (ONE, NEW)]
    one_at_a_time = len(_a_guessing_hour_on("12-throttle", seconds=600))  # (ten minutes: 19)
    for whence in (ONE, NEW):
        assert hours["24-attempts-under-way", whence] == (16, [16] * 5, 16 * 10), "a batch a minute, all checked"
        assert hours["25-redis-under-way", whence] == (5, [10, 1, 1, 1, 1], one_at_a_time)


def test_section_15_the_owner_while_someone_else_guesses(executed_notebooks):
    text, code, (rows,) = lab_section(executed_notebooks, 15, rows=True)
    logged_in, wait = "200 · 0 登录了 / logged in", "429 要等 / must wait"
    device = logged_in + "，得到设备 cookie / gets a device cookie"
    assert rows == [["25-redis-under-way", store, logged_in, "**%s**" % wait, wait] for store in STORES] + [
        ["26-device-cookies", store, device, "**%s**" % logged_in, wait] for store in STORES]
    # what chapter 26's README says of this section
    assert "interval=0.05" in code and "int(answer.retry_after) >= 2" in (ROOT / "tutorial" / "lab_logins.py").read_text()
    readme = (by_key("device-cookies").path / "README.md").read_text(encoding="utf-8")
    assert "每 50 毫秒猜一次，直到账号要等 2 秒以上" in readme and "every 50 milliseconds" in readme


def test_section_16_made_up_accounts_a_file_each(executed_notebooks):
    """One address, 2,000 wrong logins for made-up accounts, 1,995 of them refused: chapter 22 leaves a
    counter file for every one, chapter 23 only for the five it checked (and the address's)."""
    (table,) = lab_section(executed_notebooks, 16)[2]
    assert list(table) == ["22-shared-counters", "23-failures-not-attempts"]
    assert [cells[:3] for cells in table.values()] == [["2,000", "1,995", "**2,001**"], ["2,000", "1,995", "**6**"]]
    readme = (by_key("failures-not-attempts").path / "README.md").read_text(encoding="utf-8")
    assert "2,000 个请求留下 2,001 个文件，本章只留下 6 个" in readme
    assert "2,000 requests left 2,001 files; this chapter leaves 6" in readme
