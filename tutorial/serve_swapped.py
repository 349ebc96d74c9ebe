"""What tutorial/bench_server.py and tutorial/before_fix.py share: once they
have swapped some of a chapter's functions, serve that chapter's app as its
run.py does (the same options, the same one line when the port is taken).

Imported by those two scripts as a sibling module (they run as scripts, with
tutorial/ first on sys.path).
"""
import argparse
import sys


def serve(run, description: str) -> None:
    """`run`: the chapter's run.py, imported (its app has the blueprint registered)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8000)
    parser.add_argument('--workers', type=int, default=1)
    args = parser.parse_args()
    why = run.cannot_listen(args.host, args.port)  # run.py's check: one line, no traceback
    if why:
        sys.exit('Cannot listen on %s:%s (%s)' % (args.host, args.port, why))
    run.app.run(host=args.host, port=args.port, workers=args.workers, single_process=args.workers == 1)
