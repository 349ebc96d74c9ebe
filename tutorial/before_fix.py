"""Chapter 06 with ONE of its second-pass fixes taken back: for the security lab and the benchmark only.

    BEFORE_FIX=hash-on-loop python tutorial/before_fix.py --port 8001

It imports the chapter's own run.py (chapters/06-hardening, or the folder in
BEFORE_FIX_FOLDER) and swaps one function for a few lines that behave as
chapter 06 did before the fix, so the lab can show the attack working first
(on attacks that are new to 06, where chapter 05 cannot show them). Everything
else is the chapter's code. This file is not a chapter, and no copy of old
chapter code is kept anywhere: each variant below is the old behaviour of one
function, written out.

Sanic's worker processes import this file again, so the swap happens at import
time, in every worker.
"""
import os
import sys
from pathlib import Path

from serve_swapped import serve  # (tutorial/, this script's folder)

FOLDER = os.path.abspath(os.environ.get('BEFORE_FIX_FOLDER')
                         or Path(__file__).resolve().parent.parent / 'chapters' / '06-hardening')
VARIANT = os.environ.get('BEFORE_FIX', '')
sys.path.insert(0, FOLDER)

import run  # noqa: E402  (the chapter's run.py: its app, with the blueprint registered)
from api import be  # noqa: E402
from core import app as core_app  # noqa: E402
from core import session  # noqa: E402


async def hash_on_the_event_loop(password, stored):
    """Before: the login handler ran PBKDF2 itself, inside the event loop, so
    the worker answered nothing else until the hash was done."""
    return be.checkPassword(password, stored)


def report_nothing(request, exception):
    """Before: a 500 was answered in the envelope and nothing was written to the log."""


def sweep_any_old_file(entry, now):
    """Before: any regular file older than the session lifetime was deleted
    (its stored time if it read like a session, else its modification time)."""
    if not entry.is_file() or entry.name == '.gitignore':
        return 0
    saved = None if entry.name.startswith('.tmp-') else session._read(entry.path)
    age = now - (saved[1] if saved else int(entry.stat().st_mtime))
    if age > session.SESSION_TTL:
        os.remove(entry.path)
        return 1
    return 0


# name -> (module, function name, the old behaviour)
VARIANTS = {
    'hash-on-loop': (be, 'passwordMatches', hash_on_the_event_loop),
    'silent-500': (core_app, 'report', report_nothing),
    'sweep-any-file': (session, '_sweepOne', sweep_any_old_file),
}

if VARIANT not in VARIANTS:
    sys.exit('BEFORE_FIX must be one of: %s' % ', '.join(VARIANTS))
module, name, old = VARIANTS[VARIANT]
setattr(module, name, old)
print('06 before the fix (%s): %s.%s from %s swapped back' % (VARIANT, module.__name__, name, module.__file__),
      flush=True)

if __name__ == '__main__':
    serve(run, 'Serve chapter 06 with one fix taken back.')
