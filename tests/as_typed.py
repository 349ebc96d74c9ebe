"""The articles' code as a learner types it, rebuilt from the chapters.

The articles may not be reprinted, so the repository holds none of their code.
What a learner types differs from a chapter by a few edits, listed here; the
check-your-code tests apply them to a copy of a chapter to get "the article's
code as typed" at that step, and then the learner's typical slips on top.

FORCED are the edits that today's Sanic no longer accepts (the chapters make
them for the learner); the rest are behaviours only this repository has.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from tutorial.chapters import by_key

# (file, pattern, replacement): the chapter's code -> the article's
FORCED = (
    ("core/app.py", r"Sanic\('webapp'\)", "Sanic(__name__)"),
    ("api/be.py", r"res\.add_cookie\('session', token, httponly=True, secure=False, samesite=None\)",
     "res.cookies['session'] = token\n    res.cookies['session']['httponly'] = True"),
    ("api/be.py", r"res\.cookies\.delete_cookie\('session', secure=False\)", "del res.cookies['session']"),
)
OWN = (
    ("core/tool.py", r", ensure_ascii=False", ""),
    ("core/tool.py", r"source\.encode\('utf-8', 'surrogateescape'\)", "source.encode('utf-8')"),
    ("api/be.py", r"from sanic\.exceptions import BadRequest\n", ""),
    ("api/be.py", r"    try:\n        dat = request\.json\n    except BadRequest:\n        dat = None\n",
     "    dat = request.json\n"),
    ("config.py", r"import os\n\n", ""),
    ("config.py", r"\n\n# 会话文件放在[\s\S]*", "\n"),
    ("core/session.py", r"from config import SESSION_DIR\n", ""),
    ("core/session.py", r"TEMPPATH = os\.path\.join\(SESSION_DIR, ''\)\nos\.makedirs\(TEMPPATH, exist_ok=True\)",
     "TEMPPATH = 'temp/'"),
)
# The article writes and removes the session file through a Unix shell. A shell
# per call is slow to start from a big process, so only the runs that check the
# article's behaviour use it; slips and tries keep Python's own file calls.
SHELL = (
    ("core/session.py", r"    with open\(tokenPath, 'w'\) as f:\n        f\.write\(token \+ ',' \+ t\)",
     "    os.system('echo ' + token + ',' + t + ' > ' + tokenPath)"),
    ("core/session.py", r"        try:\n            os\.remove\(tokenPath\)\n        except FileNotFoundError:\n"
                        r"            pass", "        os.system('rm ' + tokenPath)"),
) if os.name != "nt" else ()

# A learner's typical slips: (step, file, pattern, replacement)
SLIPS = {
    "typo-in-a-message": (5, "api/be.py", r"ok\('退出成功'\)", "ok('退出成攻')"),
    "expiry-360": (2, "core/session.py", r"> 3600", "> 360"),
    "clear-token-keeps-the-file": (3, "core/session.py", r"os\.remove\(tokenPath\)", "os.path.exists(tokenPath)"),
    "checks-swapped": (2, "core/session.py",
                       r"(    if token != saveToken:\n        return 1\n)(    if int\(time\.time\(\)\) - int\(saveTime\) "
                       r"> 3600:\n        return 2\n)", r"\2\1"),
    "files-in-the-current-folder": (1, "core/session.py", r"tokenPath = TEMPPATH \+ group", "tokenPath = group"),
    "missing-import": (1, "core/tool.py", r"import hashlib\n", ""),
}

# What a learner tries next, on the article's step 05 with the forced fixes,
# two at a time: each is another break today's Sanic forces.
TRIES = {
    "delete-cookie-with-secure-and-cookie-by-index": (
        ("api/be.py", r"res\.cookies\.delete_cookie\('session', secure=False\)",
         "res.delete_cookie('session', secure=False)"),
        ("api/be.py", r"request\.cookies\.get\('session'\)", "request.cookies['session']")),
    "delete-cookie-and-add-cookie-defaults": (
        ("api/be.py", r"res\.cookies\.delete_cookie\('session', secure=False\)", "res.delete_cookie('session')"),
        ("api/be.py", r"res\.add_cookie\('session', token, httponly=True, secure=False, samesite=None\)",
         "res.add_cookie('session', token, httponly=True)")),
}


def edit(folder: Path, edits, count=0) -> int:
    """Apply (file, pattern, replacement) edits; returns how many matched."""
    matched = 0
    for file, pattern, replacement in edits:
        path = folder / file
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        new, n = re.subn(pattern, replacement, text, count=count)
        if n:
            matched += 1
            path.write_text(new, encoding="utf-8")
    return matched


def as_typed(step: str, dest: Path, forced_fixes: bool = False, shell: bool = True) -> Path:
    """Chapter `step` as the article's code, typed by a learner, at `dest`.
    With `forced_fixes`, only the changes today's Sanic forces are made."""
    folder = Path(shutil.copytree(by_key(step).path, dest, ignore=shutil.ignore_patterns("__pycache__")))
    edit(folder, OWN + (SHELL if shell else ()) + (() if forced_fixes else FORCED))
    return folder


def with_slip(name: str, dest: Path) -> Path:
    """The article's code (with the forced fixes) at the slip's step, with the slip made."""
    step, file, pattern, replacement = SLIPS[name]
    folder = as_typed("%02d" % step, dest, forced_fixes=True, shell=False)
    assert edit(folder, [(file, pattern, replacement)], count=1) == 1, "the slip %s no longer applies" % name
    return folder
