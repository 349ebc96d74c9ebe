"""`python -m pytest tests --project FOLDER --step NN` on the code a learner types.

The runs themselves happen in the background while the rest of the suite runs
(check_runs.py, background.py); these tests read what each run printed.

The articles' code as typed (as_typed.py rebuilds it from the chapters) must
hear, for each break that today's Sanic forces on it, the cause, the exact fix
and where in the code, once, under the step whose code holds it; with only
those fixes made it must pass. A learner's typical slips must each be named
in the first line of their step. This is also the proof that the tests run the
folder they name: a change in one copy fails that copy's run, while the
repository's chapters pass.
"""
import re

import pytest

import diagnose
from as_typed import SLIPS, TRIES
from tutorial.chapters import CHAPTERS, ROOT
from tutorial.redis_server import find_binary

pytestmark = pytest.mark.repository_only


def readme_check_command(ch):
    """The command the chapter README gives under 'Check your work'."""
    text = (ch.path / "README.md").read_text(encoding="utf-8")
    section = text.split("## 检查你的代码 / Check your work", 1)[1]
    return re.search(r"```shell\n(.*?)\n```", section, re.S).group(1)


@pytest.mark.parametrize("ch", CHAPTERS, ids=lambda c: c.slug)
def test_chapter_readme_gives_the_check_command_for_its_step(ch):
    assert readme_check_command(ch) == "python -m pytest tests --project ~/my-blog --step %s" % ch.tag


def checked(executed_checks, name):
    """(exit code, output) of the check run on scenario `name` of check_runs.py,
    started from the repository's root as the README says; neither the project
    nor the repository's root gained a file (the code under check runs in a
    temporary folder: the slip that writes session files "here" proves it)."""
    run = executed_checks[name]
    assert "error" not in run, run.get("error")
    assert not run["project_changed"], "the check changed the project"
    assert not run["root_changed"], "the check wrote into the repository"
    return run["code"], run["out"]


def section(out, step):
    """The report's lines for one step, from its ✓/✗ line to the next step's."""
    report = out.split("\n")
    start = next(i for i, line in enumerate(report) if re.match(r"[✓✗] 步骤 / Step %s " % step, line))
    end = next((i for i in range(start + 1, len(report)) if re.match(r"[✓✗] |结果|全部通过", report[i])), None)
    return report[start:end]


# ---------------------------------------------------------------- the articles' code as typed

def test_articles_step_05_as_typed_names_each_forced_break_once(executed_checks):
    code, out = checked(executed_checks, "typed-05")
    assert code == 1
    assert len(out.splitlines()) <= 150, out
    step00, step04, step05 = section(out, "00"), section(out, "04"), section(out, "05")
    # the app name: cause, fix, file and line, README link; every test it breaks counted
    assert re.fullmatch(r"  ✗ core/app\.py:\d+  app = Sanic\(__name__\)  →  app = Sanic\('webapp'\)", step00[1])
    assert "chapters/00-starting-point/README.md#应用名--the-app-name" in step00[4]
    assert re.search(r"and \d\d+ more tests fail for the same reason", "\n".join(step00))
    # the cookies: found in the code though no test can reach them yet, in the step that holds them
    assert re.fullmatch(r"  ✗ api/be\.py:\d+, \d+  res\.cookies\['session'\] = token  →  "
                        r"res\.add_cookie\('session', token, httponly=True, secure=False, samesite=None\)", step04[1])
    assert any(re.fullmatch(r"  ✗ api/be\.py:\d+, \d+  del res\.cookies\['session'\]  →  "
                            r"res\.cookies\.delete_cookie\('session', secure=False\)", line) for line in step04)
    assert re.fullmatch(r"  ✗ api/be\.py:\d+  del res\.cookies\['session'\]  →  "
                        r"res\.cookies\.delete_cookie\('session', secure=False\)", step05[1])
    assert "chapters/04-login/README.md#删除-cookie--deleting-the-cookie" in "\n".join(step05)
    assert out.count("\n  ✗ ") == 4, "one line per cause and step"
    assert out.count("\n✗ 步骤") == 3
    assert "Traceback" not in out and "HTTP 500" not in out


@pytest.mark.parametrize("step", ["01", "02", "03", "04"])
def test_articles_code_as_typed_fails_only_on_the_forced_breaks(executed_checks, step):
    code, out = checked(executed_checks, "typed-" + step)
    assert code == 1
    problems = [line for line in out.splitlines() if line.startswith("  ✗ ")]
    assert problems and all(re.search(r"  →  (app = Sanic|res\.)", line) for line in problems), out
    assert "Sanic('webapp')" in problems[0]


def test_articles_step_00_as_typed_fits_in_60_lines(executed_checks):
    code, out = checked(executed_checks, "typed-00")
    assert code == 1 and len(out.splitlines()) <= 60, out
    problems = [line for line in out.splitlines() if line.startswith("  ✗ ")]
    assert len(problems) == 1 and "  →  app = Sanic('webapp')" in problems[0], out
    assert "说明：文章的 ok / fail 把中文输出成" in out


@pytest.mark.parametrize("step", ["00", "05"])  # (step 05's check runs the tests of steps 00 to 05)
def test_articles_code_with_only_the_forced_fixes_passes(executed_checks, step):
    code, out = checked(executed_checks, "forced-" + step)
    assert code == 0, out
    assert "All passed: up to step %s" % step in out
    # the repository's own rules are notes, not failures
    assert "Note: The article's ok / fail send Chinese as \\uXXXX escapes" in out
    assert "✗" not in out


TRIED = {  # what each try's report says, step by step: a line that must start one of its problems
    "delete-cookie-with-secure-and-cookie-by-index": {
        "04": r"api/be\.py:\d+, \d+  res\.delete_cookie\('session', secure=False\)  →  "
              r"res\.cookies\.delete_cookie\('session', secure=False\)",
        "05": r"api/be\.py:\d+  token = request\.cookies\['session'\]  →  token = request\.cookies\.get\('session'\)"},
    "delete-cookie-and-add-cookie-defaults": {
        "04": r"api/be\.py:\d+  res\.add_cookie\('session', token, httponly=True\)  →  "
              r"res\.add_cookie\('session', token, httponly=True, secure=False, samesite=None\)",
        "04 ": r"api/be\.py:\d+  res\.delete_cookie\('session'\)  →  res\.cookies\.delete_cookie\('session', secure=False\)",
        "05": r"api/be\.py:\d+  res\.delete_cookie\('session'\)  →  res\.cookies\.delete_cookie\('session', secure=False\)"},
}


@pytest.mark.parametrize("tried", TRIES)
def test_what_a_learner_tries_next_is_diagnosed_too(executed_checks, tried):
    code, out = checked(executed_checks, "try-" + tried)
    assert code == 1 and len(out.splitlines()) <= 60, out
    for step, expected in TRIED[tried].items():
        problems = [line for line in section(out, step.strip()) if line.startswith("  ✗ ")]
        assert any(re.match("  ✗ " + expected, line) for line in problems), "\n".join(section(out, step.strip()))
    assert re.search(r"说明 / Why: chapters/0[45]-\w+/README\.md#", out)


def test_verbose_adds_every_test_and_the_tracebacks(executed_checks):
    """(The default output, without -v, is checked to be short by the tests above.)"""
    code, out = checked(executed_checks, "verbose")
    assert code == 1
    assert "core/tool.py:" in out and "NameError: name 'hashlib' is not defined" in out
    assert "      tests/test_tool.py::test_get_md5_of_text_is_md5_of_its_utf8" in out  # every test of a cause
    assert "Traceback" in out or "def getMd5" in out  # pytest's own report of each failure
    assert len(out.splitlines()) > 100


# ---------------------------------------------------------------- a learner's slips

FIRST_LINE = {
    "typo-in-a-message": r"api/be\.py:\d+  '退出成攻'  →  '退出成功'",
    "expiry-360": r"core/session\.py:\d+  checkToken returned 2 for a token stored 3,600 seconds ago; the article "
                  r"treats only more than 3,600 seconds as expired",
    "clear-token-keeps-the-file": r"core/session\.py:\d+  clearToken left temp/manage_21232f297a57a5a743894a0e4a801fc3"
                                  r" in place; it should delete it",
    "checks-swapped": r"core/session\.py:\d+  a wrong token that is also expired should be 1 \(wrong token\), got 2: "
                      r"the token comparison comes before the expiry check",
    "files-in-the-current-folder": r"core/session\.py:\d+  会话文件写进了当前目录（manage_21232f297a57a5a743894a0e4a801fc3）"
                                   r"，应该写到 TEMPPATH 里",
    "missing-import": r"core/tool\.py:\d+  在 core/tool\.py 开头加上 / add at the top of core/tool\.py:  import hashlib",
}


@pytest.mark.parametrize("slip", SLIPS)
def test_a_slip_is_named_in_the_first_line_of_its_step(executed_checks, slip):
    step = "%02d" % SLIPS[slip][0]
    code, out = checked(executed_checks, "slip-" + slip)
    assert code == 1
    lines = section(out, step)
    assert lines[0].startswith("✗"), out
    assert re.match("  ✗ " + FIRST_LINE[slip], lines[1]), "\n".join(lines)
    # only that step is marked, and the report is short
    assert out.count("✗ 步骤") == 1 and len(out.splitlines()) <= 40, out


def test_a_syntax_error_is_reported_once_and_stops_the_check(executed_checks):
    code, out = checked(executed_checks, "syntax-error")
    assert code == 1
    assert re.search(r"✗ core/session\.py:\d+  SyntaxError: expected ':'\n    def clearToken\(tokenStr\)\n +\^", out)
    assert out.count("SyntaxError") == 1 and "步骤 / Step" not in out and "ModuleNotFoundError" not in out
    assert "the check stops here" in out and len(out.splitlines()) <= 12, out


def test_an_import_error_names_the_line_and_what_was_meant(executed_checks):
    code, out = checked(executed_checks, "import-error")
    assert code == 1
    assert re.search(r"✗ api/be\.py:\d+  ModuleNotFoundError: No module named 'core\.sesion'", out)
    assert "是不是 / did you mean  core.session ?" in out and "步骤 / Step" not in out


# ---------------------------------------------------------------- the repository's own chapters

def test_a_copy_of_chapter_02_passes_the_step_02_check(executed_checks):
    code, out = checked(executed_checks, "copy-02-at-02")
    assert code == 0, out
    assert "All passed: up to step 02" in out


def test_a_copy_of_chapter_02_fails_the_step_03_check_naming_clear_token(executed_checks):
    code, out = checked(executed_checks, "copy-02-at-03")
    assert code == 1, out
    assert section(out, "02")[0].startswith("✓") and section(out, "03")[0].startswith("✗")
    assert section(out, "03")[1].startswith("  ✗ core/session.py has no clearToken, which step 03 adds")


def test_missing_file_is_named(executed_checks):
    code, out = checked(executed_checks, "copy-01-without-session")
    assert code == 1, out
    assert "core/session.py has no makeToken, which step 01 adds" in out or \
        "core/session.py: file core/session.py is missing (step 01 needs it)" in out


def test_tests_that_cannot_run_here_are_named_with_what_to_install(executed_checks):
    """The last step without a redis-server: its Redis tests cannot run; the report
    says how many, and how to install one, instead of a silent 'All passed'."""
    code, out = checked(executed_checks, "copy-last-without-redis")
    assert code == 0, out
    not_run = re.compile(r"^没有运行 / Not run: (\d+) 个测试 / test\(s\): .*redis-server.*sudo apt install redis-server",
                         re.M)
    found = not_run.search(out)
    assert found and int(found.group(1)) > 10, out
    # The same project checked with this machine's own PATH: all of them run where there is a redis-server;
    # where there is none (redis-server is optional: README.md), the report says the same as above.
    code, out = checked(executed_checks, "copy-last")
    if find_binary():
        assert "Not run" not in out, "with a redis-server, they all run"
    else:
        assert code == 0 and not_run.search(out).group(1) == found.group(1), out


def test_the_last_step_passes_and_says_first_that_it_is_beyond_the_articles(executed_checks):
    last = CHAPTERS[-1]
    code, out = checked(executed_checks, "copy-last")
    assert code == 0, out
    assert out.splitlines()[0] == "第 %s 步是本仓库自己加的，超出了文章（文章写到第 05 步为止）。" % last.tag
    assert "All passed: up to step %s" % last.tag in out


# ---------------------------------------------------------------- the causes and their README sections

@pytest.mark.parametrize("cause", diagnose.CAUSES, ids=lambda c: c.key)
def test_each_cause_links_a_readme_section_that_gives_its_fix(cause):
    path, _, anchor = cause.readme.partition("#")
    text = (ROOT / path).read_text(encoding="utf-8")
    headings = re.findall(r"^(#+) (.+)$", text, re.M)
    assert anchor in [diagnose.readme_anchor(h) for _, h in headings], "%s has no heading for #%s" % (path, anchor)
    body = re.split(r"\n##+ ", text.split("### " + cause.heading, 1)[1])[0]
    assert cause.fix in body, "%s, section %s, should show the fix %s" % (path, cause.heading, cause.fix)


# ---------------------------------------------------------------- the example in docs/check-your-code.md

EXAMPLE = re.compile(r"<!-- check-example: [^>]*-->\n```text\n(.*?)\n```", re.S)
COUNTS = (
    (re.compile(r"还有 \d+ 个测试因同一原因失败 / and \d+ more tests? fails? for the same reason"),
     "还有 <n> 个测试因同一原因失败 / and <n> more tests fail for the same reason"),
    (re.compile(r"\d+ 个测试里 \d+ 个通过"), "<n> 个测试里 <n> 个通过"),
    (re.compile(r"\d+ of \d+ tests passed"), "<n> of <n> tests passed"),
)


def as_shown(out, folder):
    """The report as the README shows it: the project as ~/my-blog, test counts as <n>."""
    out = out.replace(str(folder), "~/my-blog")
    for pattern, replacement in COUNTS:
        out = pattern.sub(replacement, out)
    return out.strip("\n")


def test_top_readme_shows_a_real_report(executed_checks):
    """The article's step 04 as typed, with the app name fixed: the cookie
    breaks, counted, in step 04 (not in step 00, whose login they are in)."""
    shown = EXAMPLE.search((ROOT / "docs" / "check-your-code.md").read_text(encoding="utf-8")).group(1)
    code, out = checked(executed_checks, "readme-example")
    assert code == 1
    assert section(out, "00")[0].startswith("✓"), "the login's cookie lines belong to step 04, not 00"
    step04 = "\n".join(section(out, "04"))
    assert re.search(r"res\.cookies\['session'\] = token  →  res\.add_cookie", step04)
    assert re.search(r"and \d+ more tests fail for the same reason", step04)
    # each problem names its case: the request that showed it, as a curl line to paste
    assert "例子 / Case: curl -s -i http://127.0.0.1:8000/api/v1/be/login -X POST -d " in step04
    folder = executed_checks["readme-example"]["project"]
    assert as_shown(out, folder) == shown, "docs/check-your-code.md should show this report:\n" + as_shown(out, folder)


def test_a_changed_line_of_the_readme_report_is_caught():
    shown = EXAMPLE.search((ROOT / "docs" / "check-your-code.md").read_text(encoding="utf-8")).group(1)
    assert "res.cookies.delete_cookie('session', secure=False)" in shown
    assert as_shown(shown.replace("delete_cookie('session', secure=False)", "delete_cookie('session')"),
                    ROOT) != shown


def test_a_check_skips_only_files_whose_every_test_is_for_a_later_step():
    """conftest.py leaves out of a learner's check the files it would deselect whole: a file whose pytestmark
    has since(), and no test of it an earlier since() of its own (the checks at the first steps collect a
    third of the files)."""
    from conftest import _all_later

    later = 'pytestmark = pytest.mark.since("throttle")\n\ndef test_a(chapter): ...\n'
    assert _all_later(later, 11) and not _all_later(later, 12)
    own_earlier = later + '\n@pytest.mark.since("secret-token")\n@pytest.mark.until("hash-thread")\ndef test_b(chapter): ...\n'
    assert not _all_later(own_earlier, 6) and _all_later(own_earlier, 5)
    no_file_mark = '@pytest.mark.since("throttle")\ndef test_a(chapter): ...\n\ndef test_b(chapter): ...\n'
    assert not _all_later(no_file_mark, 3), "test_b is for every step"
    listed = 'pytestmark = [pytest.mark.repository_only,\n              pytest.mark.since("redis-store")]\n'
    assert _all_later(listed, 19) and not _all_later(listed, 20)


def test_docs_count_the_check_runs_as_they_are():
    """docs/testing.md says the background job runs "check your own code" some two dozen times (its old
    "thirty-odd" had gone stale): check_runs.py's scenarios."""
    from check_runs import scenarios

    text = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    assert "“检查你的代码”的二十几次运行" in text and 'two dozen runs of "check your own code"' in text.replace("\n  ", " ")
    assert 20 <= len(scenarios()) <= 29
