"""The notebooks' setup in one line, and their clean stop.

    import sys; sys.path.insert(0, "..")   # the repository root (the notebooks live in notebooks/)
    from tutorial.notebook import start, stop, show
    server = start("final")                # python final/run.py --port <free port>, sessions in a temporary folder
    ...
    stop(server)                           # Ctrl-C it; raises with its whole output unless it stopped cleanly

Session files go to a temporary folder per server (SESSION_DIR), never into the
repository; the folder is removed when the server is stopped, and the server
and its folder go away with the kernel too (atexit, and tutorial.server's
processes die with their parent).
"""
from __future__ import annotations

import atexit
import tempfile
from pathlib import Path

from tutorial.chapters import FINAL_DIR, ROOT, by_key
from tutorial.server import ChapterServer
from tutorial.show import show  # noqa: F401  (for the notebooks: from tutorial.notebook import show)

__all__ = ["start", "start_all", "stop", "show"]


def _folder(key) -> Path:
    return FINAL_DIR if str(key) == "final" else by_key(key).path


def _prepare(key, **options) -> ChapterServer:
    temp = tempfile.TemporaryDirectory(prefix="sessions-")
    server = ChapterServer(_folder(key), session_dir=Path(temp.name), cwd=ROOT, **options)
    server.temp = temp
    atexit.register(_quietly_stop, server)
    return server


def start(key="final", **options) -> ChapterServer:
    """A running server of chapter `key` (its number, slug or name, as `by_key` takes them:
    "17", "17-guard", "guard"; or "final"), started from the repository's root as a learner
    does; `options` are ChapterServer's (workers, env...)."""
    return _prepare(key, **options).start()


def start_all(keys, **options) -> dict:
    """Several servers at once: {key: server}, all answering."""
    servers = {key: _prepare(key, **options).launch() for key in keys}
    for server in servers.values():
        server.wait_ready(60)
    return servers


def stop(*servers) -> list:
    """Ctrl-C each server as a terminal does and remove its session folder.
    Returns the exit codes; raises, with a server's whole output, unless each stopped cleanly (0)."""
    codes = []
    for server in servers:
        codes.append(server.stop(check=True))
        server.temp.cleanup()
    return codes


def _quietly_stop(server):
    server.stop()
    server.temp.cleanup()
