"""Records which Python files a server process opens, to prove which chapter it ran.

The tests start a chapter's run.py with this folder on PYTHONPATH and
CHAPTER_PROBE set to a file name. Python imports this module at start-up (in
the main process and in every Sanic worker), and an audit hook then appends
the path of every .py/.pyc file the process opens to that file. The test reads
it back and checks that config, core/* and api/* came from the chapter folder
it named, and from nowhere else.
"""
import os
import sys

_target = os.environ.get("CHAPTER_PROBE")
if _target:
    # Opened once, before the hook exists; os.write raises no audit event, so the
    # hook cannot call itself.
    _fd = os.open(_target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _record(event, args):
        if event == "open" and args and isinstance(args[0], str) and args[0].endswith((".py", ".pyc")):
            os.write(_fd, (os.path.abspath(args[0]) + "\n").encode("utf-8", "surrogateescape"))

    sys.addaudithook(_record)
