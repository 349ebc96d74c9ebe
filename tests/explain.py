"""One failing test of a learner's project, explained: its root cause, where
in the learner's code, what to change, and the case that showed it.

Failures with the same root cause (the same exception at the same line, the
same Sanic-forced cause in the same step, the same wrong answer) get the same
key, so the report says each once, with how many tests it breaks.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import diagnose
import slips
from support import AppClient, CaseFailed, WrongAnswer, case_of, show_answer
from tutorial.chapters import step
from tutorial.show import as_curl

HEX32 = re.compile(r"[0-9a-f]{32}")


def step_of_test(item) -> int:
    since = item.get_closest_marker("since")
    return step(since.args[0]) if since else 0


def first_line(exc) -> str:
    if isinstance(exc, CaseFailed):  # (the case is said apart: Finding.case)
        exc = exc.error
    text = str(exc).strip().split("\n")[0]
    return text if isinstance(exc, AssertionError) and text else diagnose.describe(exc)


def short(text: str, width: int = 160) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass
class Finding:
    """One root cause, however many tests it breaks."""
    step: int
    headline: str                               # the first line: where, and what to change
    lines: list = field(default_factory=list)   # cause, fix, why
    case: str = ""                              # the request or input that showed it
    tests: list = field(default_factory=list)
    cause: object = None                        # a diagnose.Cause, found at ...
    places: list = field(default_factory=list)  # ... these (file, line)s


def cause_finding(cause, code, rel, number, case=""):
    """A Sanic-forced cause: said once per step, with every line that holds it."""
    step = diagnose.step_of(cause.step, code, rel, number)
    return ("cause", cause.key, step), Finding(
        step, "", ["原因：" + cause.zh, "Cause: " + cause.en, "说明 / Why: " + cause.readme], case,
        cause=cause, places=[(rel, number)])


class AppErrors(logging.Handler):
    """Exceptions the app logged while answering (what a learner sees as HTTP 500)."""

    def __init__(self):
        super().__init__()
        self.caught = []

    def emit(self, record):
        if record.exc_info and record.exc_info[1] is not None:
            self.caught.append(record.exc_info[1])


class Explainer:
    """Explains the failures of one project's check; `errors`, `writes` and
    `scratch` (the folder the code ran in) describe the test that just ran."""

    def __init__(self, code, writes, scratch):
        self.code, self.writes, self.scratch = code, writes, scratch
        self.errors = AppErrors()

    def explain(self, item, exc, when):
        code, test_step = self.code, step_of_test(item)
        wrote_here = sorted(p.name for p in self.scratch.iterdir())
        if wrote_here:
            at = self.writes.line_that_wrote(wrote_here[0]) or ("core/session.py", 0)
            # the line that built the path, in the function that wrote the file
            built = [p for p in code.find(r"\w+\s*=.*\+", rel=at[0], function=code.function_at(*at))
                     if p[1] <= at[1]]
            built = [p for p in built if "path" in code.line(*p).lower()] or built or [at]
            return ("cwd",) + at, Finding(
                diagnose.step_of(1, code, *at), "%s:%d  会话文件写进了当前目录（%s），应该写到 TEMPPATH 里" % (
                    built[-1][0], built[-1][1], short(", ".join(wrote_here), 60)),
                ["The session file went into the current folder, not into TEMPPATH: "
                 "build its path as  TEMPPATH + group + '_' + getMd5(user)",
                 "    " + code.line(*built[-1])], self.case(item, exc))
        root = diagnose.learner_exception(exc, code) or next(
            (e for e in self.errors.caught if diagnose.learner_exception(e, code)), None)
        if root is not None:
            return self.explain_exception(item, exc, diagnose.learner_exception(root, code), test_step)
        message = first_line(exc)
        cause = diagnose.cause_of_assertion(message, code)
        if cause:
            # of the lines that hold it, the one in the handler of the request that showed it
            lines = diagnose.cause_lines(cause, code)
            endpoint = self.case(item, exc).split("?")[0].split(" -X")[0].rsplit("/", 1)[-1]
            at = next((p for p in lines if code.function_at(*p) == endpoint), lines[0])
            return cause_finding(cause, code, *at, self.case(item, exc))
        missing = re.search(r"module '([\w.]+)' has no attribute '(\w+)'|^(\S+)\.py has no (\w+), which step",
                            message)
        if missing:
            file = (missing.group(1) or missing.group(3)).replace(".", "/") + ".py"
            name = missing.group(2) or missing.group(4)
            step = max(diagnose.FUNCTION_STEP.get(name, 0), test_step)
            return ("missing", file, name), Finding(step, "%s has no %s, which step %02d adds / %s 里还没有 %s" % (
                file, name, step, file, name))
        if isinstance(exc, WrongAnswer):
            return self.explain_answer(item, exc, test_step)
        at = self.look_at(item)
        headline = "%s:%d  %s" % (at + (message,)) if at else message
        lines = ["    " + code.line(*at)] if at else []
        key = ("setup", message) if when == "setup" else ("test", item.originalname)
        return key, Finding(test_step, short(headline, 300), lines, self.case(item, exc))

    def explain_exception(self, item, exc, root, test_step):
        code = self.code
        at = diagnose.where(root, code)
        cause = diagnose.cause_of_exception(root, code)
        if cause:
            lines = diagnose.cause_lines(cause, code)
            return cause_finding(cause, code, *(at if at in lines else lines[0]), self.case(item, exc))
        fix = slips.python_fix(root, at[0], code)
        said = diagnose.describe(root)
        step = max(test_step, diagnose.FUNCTION_STEP.get(code.function_at(*at), 0))
        lines = ["    " + code.line(*at)] + (["    " + said] if fix else [])
        return ("exception", type(root).__name__, at), Finding(
            step, "%s:%d  %s" % (at[0], at[1], fix or said), lines, self.case(item, exc))

    def explain_answer(self, item, exc, test_step):
        got, expected = exc.got, exc.expected
        # Same status, other words: a typo in a message, found where the code writes it.
        typo = got[:2] == expected[:2] and isinstance(got[2], str) and isinstance(expected[2], str) and got[2]
        places = self.code.find_text(got[2]) if typo else []
        if places:
            headline = "%s:%d  %r  →  %r" % (places[0] + (got[2], expected[2]))
            lines = ["文章的回答 / the article answers: " + show_answer(expected)]
        else:
            headline = "回答是 / answered %s；文章的回答是 / the article answers %s" % (
                short(show_answer(got), 120), show_answer(expected))
            lines = ["（%s）" % exc.why] if exc.why else []
        key = ("answer", expected, HEX32.sub("<token>", show_answer(got)))
        return key, Finding(test_step, headline, lines, exc.case)

    def look_at(self, item):
        mark = item.get_closest_marker("look_at")
        if not mark:
            return None
        function, pattern = mark.args
        places = self.code.find(pattern, function=function) or self.code.find(r"def\s+%s\b" % function)
        return places[0] if places else None

    def case(self, item, exc) -> str:
        if isinstance(exc, WrongAnswer):
            return exc.case
        sent = [r for v in getattr(item, "funcargs", {}).values() if isinstance(v, AppClient) for r in v.sent]
        if sent:
            return as_curl(sent[-1])
        if case_of(exc):  # a test that loops over its cases (support.each_case)
            return case_of(exc)
        params = {k: v for k, v in getattr(getattr(item, "callspec", None), "params", {}).items() if k != "chapter"}
        return ", ".join("%s=%r" % kv for kv in params.items())
