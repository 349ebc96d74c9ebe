"""A chapter's app with its session store swapped, for the benchmark only.

    BENCH_FOLDER=chapters/05-logout BENCH_STORE=memory python tutorial/bench_server.py --port 8001

It imports the chapter's own run.py (the app with its blueprint) and replaces
the four session functions api/be.py uses with another store's. Everything
else, the HTTP handling included, is the chapter's code. The chapters
themselves stay as the articles have them; this file is not a chapter.

Sanic's worker processes import this file again, so the swap happens at import
time, in every worker.
"""
import argparse
import os
import secrets
import sys
import time


def memory_store():
    """Sessions in a dict of this process: what the article calls keeping them
    in memory. Fast, but each worker process has its own dict, and a restart
    forgets every session."""
    sessions = {}  # (user, group) -> (token, time)

    def makeToken(user, group, token=None):
        token = token or secrets.token_hex(16)
        sessions[(user, group)] = (token, int(time.time()))
        return user + '|' + group + '|' + token

    def parse(tokenStr):
        parts = tokenStr.split('|') if isinstance(tokenStr, str) else []
        return parts if len(parts) == 3 else None

    def checkToken(tokenStr):
        parts = parse(tokenStr)
        saved = parts and sessions.get((parts[0], parts[1]))
        if not saved:
            return 4
        if parts[2] != saved[0]:
            return 1
        return 2 if int(time.time()) - saved[1] > 3600 else 0

    def clearToken(tokenStr):
        parts = parse(tokenStr)
        if parts:
            sessions.pop((parts[0], parts[1]), None)

    def updataToken(tokenStr):
        parts = parse(tokenStr)
        if parts:
            makeToken(*parts)

    return {'makeToken': makeToken, 'checkToken': checkToken, 'clearToken': clearToken, 'updataToken': updataToken}


# The stores the benchmark can measure. "file" is the chapter as it is.
# Redis needs no variant here: from chapter 20 on, final/ itself keeps its
# sessions in Redis when SESSION_STORE says so (the "final (redis)" targets).
STORES = {
    'file': None,
    'memory': memory_store,
}

FOLDER = os.path.abspath(os.environ.get('BENCH_FOLDER', '.'))
STORE = os.environ.get('BENCH_STORE', 'file')
sys.path.insert(0, FOLDER)

import run  # noqa: E402  (the chapter's run.py: its app, with the blueprint registered)
from api import be  # noqa: E402

if STORES[STORE] is not None:
    for name, function in STORES[STORE]().items():
        setattr(be, name, function)

if __name__ == '__main__':
    # Served as the chapter's run.py serves it: the same options, the same one line when the port is taken.
    parser = argparse.ArgumentParser(description='Serve a chapter with another session store.')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8000)
    parser.add_argument('--workers', type=int, default=1)
    args = parser.parse_args()
    why = run.cannot_listen(args.host, args.port)  # run.py's check: one line, no traceback
    if why:
        sys.exit('Cannot listen on %s:%s (%s)' % (args.host, args.port, why))
    run.app.run(host=args.host, port=args.port, workers=args.workers, single_process=args.workers == 1)
