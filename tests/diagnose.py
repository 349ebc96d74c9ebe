"""Why a learner's code failed, in one line, and what to change.

The check of a learner's project (learner.py) asks this module about every
failing test. It knows three kinds of answer:

- the breaks that today's Sanic forces on the articles' code (`CAUSES`): each
  names its cause, the exact fix as the chapter README writes it, and the
  README section that explains it;
- where in the learner's own files to look (`Code`), and which line of them
  an exception came from.

Plain Python slips (a missing import, a syntax error) are slips.py's.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from tutorial.chapters import CHAPTERS_DIR, by_key, step

# The files of the article's layout that the check reads.
LAYOUT = ("run.py", "config.py", "core/*.py", "api/*.py")

# The step that adds each function of the article's code.
FUNCTION_STEP = {"getMd5": 1, "makeToken": 1, "checkToken": 2, "clearToken": 3, "updataToken": 3, "logout": 5,
                 "openSession": step("guard"), "needSession": step("guard"), "whoAmI": step("guard")}


def readme_anchor(heading: str) -> str:
    """The #anchor GitHub gives a Markdown heading."""
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


@dataclass(frozen=True)
class Cause:
    """A break that today's Sanic forces on the articles' code."""
    key: str
    step: int      # the step whose code holds it
    zh: str        # the cause, one line each
    en: str
    fix: str       # the exact fix, as the chapter README writes it
    chapter: str   # the chapter whose README explains it ...
    heading: str   # ... under this heading
    file: str      # the learner's file that holds it
    line: str      # regex: the learner's line that holds it
    raised: str = ""    # regex on "ExceptionType: message" when it raises
    asserted: str = ""  # regex on a failing test's message when it does not raise

    @property
    def readme(self) -> str:
        path = (CHAPTERS_DIR / by_key(self.chapter).slug / "README.md").relative_to(CHAPTERS_DIR.parent)
        return "%s#%s" % (path.as_posix(), readme_anchor(self.heading))


CAUSES = (
    Cause("app-name", 0,
          "今天的 Sanic 要求应用名，而且只能有字母、数字、_ 和 -（Sanic(__name__) 是 'core.app'，带点）",
          "today's Sanic requires an app name of letters, digits, _ and - (Sanic(__name__) is 'core.app', with a dot)",
          "app = Sanic('webapp')", "00", "应用名 / The app name", "core/app.py", r"\bSanic\(",
          raised=r"^SanicException: Sanic instance named .* invalid format|^TypeError: .*missing 1 required "
                 r"positional argument: 'name'"),
    Cause("set-cookie", 4,
          "今天的 Sanic 不能像字典那样设置 cookie：res.cookies['session'] = … 会抛 TypeError",
          "today's Sanic has no dict-style cookies: res.cookies['session'] = ... raises TypeError",
          "res.add_cookie('session', token, httponly=True, secure=False, samesite=None)",
          "04", "设置 cookie / Setting the cookie", "api/be.py", r"\.cookies\s*\[[^\]]*\](\s*\[[^\]]*\])?\s*=(?!=)",
          raised=r"^TypeError: 'CookieJar' object (does not support item assignment|is not subscriptable)"),
    Cause("add-cookie-secure", 4,
          "add_cookie 默认加 Secure 和 SameSite=Lax；http 上的客户端不会送回 Secure cookie",
          "add_cookie adds Secure and SameSite=Lax by default; clients on plain http never send a Secure cookie back",
          "res.add_cookie('session', token, httponly=True, secure=False, samesite=None)",
          "04", "设置 cookie / Setting the cookie", "api/be.py",
          r"\.add_cookie\((?!(?=.*secure\s*=\s*False)(?=.*samesite\s*=\s*None))",
          asserted=r"must not be Secure|only HttpOnly and Path"),
    Cause("del-cookie", 4,
          "今天的 Sanic 不能用 del 删除 cookie：del res.cookies['session'] 会抛 TypeError",
          "today's Sanic has no dict-style cookies: del res.cookies['session'] raises TypeError",
          "res.cookies.delete_cookie('session', secure=False)",
          "04", "删除 cookie / Deleting the cookie", "api/be.py", r"\bdel\s+.*\.cookies\s*\[",
          raised=r"^TypeError: 'CookieJar' object does not support item deletion"),
    Cause("response-delete-cookie", 4,
          "res.delete_cookie 不接受 secure 参数，而且总会加上 Secure；要用 res.cookies 上的 delete_cookie",
          "res.delete_cookie takes no secure argument and always adds Secure; use the one on res.cookies",
          "res.cookies.delete_cookie('session', secure=False)",
          "04", "删除 cookie / Deleting the cookie", "api/be.py", r"(?<!cookies)\.delete_cookie\(",
          raised=r"^TypeError: .*delete_cookie\(\) got an unexpected keyword argument",
          asserted=r"the deleting cookie should not be Secure"),
    Cause("cookie-by-index", 5,
          "request.cookies['session'] 今天给的是列表（没有 cookie 时抛 KeyError）；要用 .get 取字符串",
          "request.cookies['session'] gives a list today (and raises KeyError without a cookie); .get gives the string",
          "token = request.cookies.get('session')",
          "05", "读取 cookie / Reading the cookie", "api/be.py", r"request\.cookies\s*\[",
          raised=r"^KeyError: 'session'|^AttributeError: 'list' object has no attribute"),
)


class Code:
    """The learner's files, read once: lines, functions, and where things are."""

    def __init__(self, project: Path):
        self.root = Path(project)
        self.files = {}
        for pattern in LAYOUT:
            for path in sorted(self.root.glob(pattern)):
                try:
                    self.files[path.relative_to(self.root).as_posix()] = path.read_text(encoding="utf-8",
                                                                                     errors="replace")
                except OSError:
                    pass
        self._functions = {}

    def rel(self, filename) -> str | None:
        """The path of `filename` inside the project, or None when it is elsewhere."""
        try:
            return Path(filename).resolve().relative_to(self.root.resolve()).as_posix()
        except (ValueError, OSError):
            return None

    def line(self, rel: str, number: int) -> str:
        lines = self.files.get(rel, "").splitlines()
        return lines[number - 1].strip() if 0 < number <= len(lines) else ""

    def function_at(self, rel: str, number: int) -> str:
        """The name of the function that holds line `number`, or ''."""
        if rel not in self._functions:
            spans = []
            try:
                for node in ast.walk(ast.parse(self.files.get(rel, ""))):
                    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        spans.append((node.lineno, node.end_lineno, node.name))
            except SyntaxError:
                pass
            self._functions[rel] = sorted(spans, key=lambda s: s[1] - s[0])
        return next((name for start, end, name in self._functions[rel] if start <= number <= end), "")

    def find(self, pattern: str, rel: str | None = None, function: str | None = None) -> list:
        """[(file, line number)] of the lines matching `pattern` (comments skipped)."""
        found = []
        for name, text in self.files.items():
            if rel and name != rel:
                continue
            for number, line in enumerate(text.splitlines(), 1):
                code = line.split("#", 1)[0]
                if re.search(pattern, code) and (function is None or self.function_at(name, number) == function):
                    found.append((name, number))
        return found

    def find_text(self, text: str) -> list:
        """Where a string the code answered is written in it."""
        return self.find(re.escape(text)) if text else []

    def defines(self, rel: str) -> list:
        """The top-level names a file defines or imports."""
        try:
            tree = ast.parse(self.files.get(rel, ""))
        except SyntaxError:
            return []
        names = []
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.append(node.name)
            elif isinstance(node, ast.Assign):
                names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        return names


def where(exc: BaseException, code: Code):
    """(file, line) of the learner's code where `exc` happened: its innermost
    frame inside the project, following the chain of causes. None if nowhere."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, SyntaxError) and exc.filename and code.rel(exc.filename):
            return code.rel(exc.filename), exc.lineno or 0
        found = None
        tb = exc.__traceback__
        while tb is not None:
            rel = code.rel(tb.tb_frame.f_code.co_filename)
            if rel:
                found = (rel, tb.tb_lineno)
            tb = tb.tb_next
        if found:
            return found
        exc = exc.__cause__ or exc.__context__
    return None


def learner_exception(exc: BaseException, code: Code):
    """The exception in the chain of `exc` that happened in the learner's code."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, SyntaxError) and exc.filename and code.rel(exc.filename):
            return exc
        tb = exc.__traceback__
        while tb is not None:
            if code.rel(tb.tb_frame.f_code.co_filename):
                return exc
            tb = tb.tb_next
        exc = exc.__cause__ or exc.__context__
    return None


def describe(exc: BaseException) -> str:
    text = (exc.msg if isinstance(exc, SyntaxError) else str(exc)).strip().split("\n")[0]
    return "%s: %s" % (type(exc).__name__, text) if text else type(exc).__name__


def cause_of_exception(exc: BaseException, code: Code):
    """The Sanic-forced cause behind an exception, if the learner's code holds it."""
    said = describe(exc)
    for cause in CAUSES:
        if cause.raised and re.search(cause.raised, said) and cause_lines(cause, code):
            return cause
    return None


def cause_of_assertion(message: str, code: Code):
    """The Sanic-forced cause behind a test's failing assertion, if the learner's code holds it."""
    for cause in CAUSES:
        if cause.asserted and re.search(cause.asserted, message) and cause_lines(cause, code):
            return cause
    return None


def cause_lines(cause: Cause, code: Code) -> list:
    """[(file, line)] of the learner's lines that hold `cause`."""
    return code.find(cause.line, rel=cause.file)


def scan(code: Code) -> list:
    """Every line that holds a Sanic-forced cause, found by reading the code:
    [(cause, file, line)]. Used when the tests cannot reach those lines (the
    app cannot even be built), so the learner hears about them now."""
    found = []
    for cause in CAUSES:
        if cause.asserted and not cause.raised:
            continue  # only a test can tell (the line itself is fine)
        for rel, number in cause_lines(cause, code):
            if cause.key == "response-delete-cookie" and "secure" not in code.line(rel, number):
                continue  # res.delete_cookie('session') runs; only its Secure attribute is wrong
            found.append((cause, rel, number))
    return found


def step_of(cause_step: int, code: Code, rel: str, number: int) -> int:
    """A cause is attributed to the later of its own step and the step that adds
    the function holding it (a cookie deleted in logout belongs to step 05)."""
    return max(cause_step, FUNCTION_STEP.get(code.function_at(rel, number), 0))
