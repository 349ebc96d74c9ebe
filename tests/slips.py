"""Plain Python mistakes in a learner's code, and what the code wrote where.

Used by the learner's check (learner.py, explain.py): a missing import, a
misspelt name or module, a syntax error, each answered with one line saying
what to change; and a recorder of the files the learner's code writes.
"""
from __future__ import annotations

import difflib
import re
import sys

from diagnose import Code, cause_of_exception, where

IMPORTS = {
    "hashlib": "import hashlib", "os": "import os", "time": "import time", "random": "import random",
    "json": "from sanic.response import json", "Sanic": "from sanic import Sanic",
    "Blueprint": "from sanic import Blueprint", "PREFIX": "from config import PREFIX",
    "ok": "from core.tool import ok, fail, checkParam", "fail": "from core.tool import ok, fail, checkParam",
    "checkParam": "from core.tool import ok, fail, checkParam", "getMd5": "from core.tool import getMd5",
    "makeToken": "from core.session import makeToken, checkToken, clearToken, updataToken",
    "checkToken": "from core.session import makeToken, checkToken, clearToken, updataToken",
    "clearToken": "from core.session import makeToken, checkToken, clearToken, updataToken",
    "updataToken": "from core.session import makeToken, checkToken, clearToken, updataToken",
    "TEMPPATH": "TEMPPATH = 'temp/'",
}


def python_fix(exc: BaseException, rel: str, code: Code) -> str:
    """One line saying what to change for a plain Python mistake, or ''."""
    said = str(exc)
    if isinstance(exc, NameError) and getattr(exc, "name", None):
        name = exc.name
        if name in IMPORTS:
            return "在 %s 开头加上 / add at the top of %s:  %s" % (rel, rel, IMPORTS[name])
        close = difflib.get_close_matches(name, [n for f in code.files for n in code.defines(f)] + list(IMPORTS), 1)
        if close:
            return "是不是 / did you mean  %s ?" % close[0]
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        module = exc.name
        file = module.replace(".", "/") + ".py"
        if module.split(".")[0] in ("config", "core", "api"):
            if file in ("core/session.py",):
                return "%s 不存在，第 01 步添加它 / %s is missing; step 01 adds it" % (file, file)
            known = [f[:-3].replace("/", ".") for f in code.files]
            close = difflib.get_close_matches(module, known, 1)
            if close:
                return "是不是 / did you mean  %s ?" % close[0]
        else:
            return "这个包没有装在当前环境里 / this package is not installed here: python -m pip install %s" % module
    if isinstance(exc, ImportError):
        m = re.search(r"cannot import name '(\w+)' from '([\w.]+)'", said)
        if m:
            file = m.group(2).replace(".", "/") + ".py"
            close = difflib.get_close_matches(m.group(1), code.defines(file), 1)
            if close:
                return "%s 里没有 %s，是不是 / %s has no %s; did you mean  %s ?" % (
                    file, m.group(1), file, m.group(1), close[0])
            return "%s 里没有定义 %s / %s does not define %s" % (file, m.group(1), file, m.group(1))
    return ""


def fatal_import_problem(loaded, code: Code):
    """A syntax error anywhere, or an import error that is not a known Sanic
    cause: the check cannot go on. Returns (exception, file, line) or None."""
    for rel, text in code.files.items():
        try:
            compile(text, str(code.root / rel), "exec")
        except SyntaxError as exc:
            return exc, rel, exc.lineno or 0
    for name, exc in loaded.errors.items():
        at = where(exc, code)
        if cause_of_exception(exc, code):
            continue  # the app name: reported as a cause, the rest of the check still runs
        return exc, at[0] if at else name.replace(".", "/") + ".py", at[1] if at else 0
    return None


def show_syntax_error(exc: SyntaxError) -> list:
    """The offending line with a caret under the place Python stopped."""
    text = (exc.text or "").rstrip("\n")
    if not text:
        return []
    stripped = text.lstrip()
    caret = max((exc.offset or 1) - 1 - (len(text) - len(stripped)), 0)
    return ["    " + stripped, "    " + " " * caret + "^"]


class Writes:
    """Records, while on, the files the learner's code opens for writing and the
    shell commands it runs, with the learner's line that did it (an audit hook;
    a hook cannot be removed, so it stays and records only while on)."""

    _installed = False
    _active = None

    def __init__(self, code: Code):
        self.code = code
        self.seen = []  # (what, file, line)
        if not Writes._installed:
            sys.addaudithook(Writes._hook)
            Writes._installed = True

    @staticmethod
    def _hook(event, args):
        rec = Writes._active
        if rec is None:
            return
        if event == "open" and args and isinstance(args[0], str) and (
                (isinstance(args[1], str) and any(c in args[1] for c in "wax+"))
                or (isinstance(args[2], int) and args[2] & 0o3)):
            rec._note(args[0])
        elif event == "os.system" and args:
            rec._note(str(args[0]))

    def _note(self, what):
        frame = sys._getframe(2)
        while frame is not None:
            rel = self.code.rel(frame.f_code.co_filename)
            if rel:
                self.seen.append((what, rel, frame.f_lineno))
                return
            frame = frame.f_back

    def __enter__(self):
        Writes._active = self
        return self

    def __exit__(self, *exc):
        Writes._active = None

    def line_that_wrote(self, name: str):
        """(file, line) of the learner's line that wrote a file called `name`."""
        for what, rel, number in self.seen:
            if name in what:
                return rel, number
        return None
