"""Sanic's multi-worker Ctrl-C bug (https://github.com/sanic-org/sanic/pull/3145), made to happen every time.

    python tests/sanic_pr_3145.py sanic     # Sanic's own signal handler
    python tests/sanic_pr_3145.py run.py    # with final/run.py's workaround
    python tests/sanic_pr_3145.py twice     # run.py's handler, two Ctrl-C in a row

Sanic's WorkerManager reads the state it shares with its workers (a
multiprocessing proxy dict) every 0.1 s in its monitor loop. Its SIGINT handler
stops the workers at once, writing that same state over the same connection.
When the signal arrives while the loop waits for an answer, the two
conversations interleave: the loop gets another call's answer, or half of one.
Here the manager process answers that read slowly and sends the SIGINT itself
while it is answering, so the handler always runs in the middle of the read.

Prints one line: "broken: ..." when the loop's read went wrong, or "clean"
(the read got its own answer, and the worker was stopped afterwards).
"twice": the first Ctrl-C only posts the stop message; the second kills, as
Sanic's own second Ctrl-C does (a manager stuck waiting for workers that died
while starting must still be stoppable): the process group is killed, this
process with it, after printing "posted".
Started by tests/test_server.py (in a process group of its own); Linux or macOS (fork).
"""
import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

from sanic.worker.manager import WorkerManager

SANIC_HANDLER = WorkerManager.shutdown_signal
MAIN_PID = os.getpid()
signalled = []  # in the manager process: the SIGINT is sent once


class AnswersSlowly(dict):
    """A worker's state whose reading, in the manager process, sends the main
    process a SIGINT and then takes half a second: the signal lands while the
    main process waits for this answer."""

    def __reduce__(self):
        if os.getpid() != MAIN_PID and not signalled:  # in the manager process, answering a read
            signalled.append(True)
            os.kill(MAIN_PID, signal.SIGINT)
            time.sleep(0.5)
        return (AnswersSlowly, (dict(self),))


def idle():
    """The worker: Ctrl-C stops it (a real worker sets its own handlers)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    time.sleep(30)


def twice(manager, subscriber):
    manager.shutdown_signal(signal.SIGINT, None)
    if subscriber.poll(5) and subscriber.recv() == "__TERMINATE__" and next(manager.processes).is_alive():
        print("posted", flush=True)
    manager.shutdown_signal(signal.SIGINT, None)  # kills the process group
    print("not killed")


def main(which):
    if which in ("run.py", "twice"):
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "final"))
        import run  # noqa: F401  (installs its handler on WorkerManager)
        assert WorkerManager.shutdown_signal is not SANIC_HANDLER
    context = multiprocessing.get_context("fork")
    with context.Manager() as sync_manager:
        state = sync_manager.dict()
        publisher, subscriber = context.Pipe()
        manager = WorkerManager(1, idle, {}, context, (publisher, subscriber), state)  # installs the handler
        manager.start()
        process = next(manager.processes)
        if which == "twice":
            return twice(manager, subscriber)
        state[process.name] = AnswersSlowly(state[process.name], state="ACKED")
        try:
            manager._sync_states()  # the monitor loop's read; SIGINT arrives during it
            after = dict(state[process.name])
            if after.get("state") not in ("ACKED", "TERMINATED") or after.get("pid") != process.pid:
                raise RuntimeError("the shared state now reads %r" % (after,))
            for _ in range(50):  # the monitor loop goes on until it gets the stop message
                if manager._poll_monitor() is not None:
                    break
            deadline = time.monotonic() + 10
            while process.is_alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            if process.is_alive():
                raise RuntimeError("the worker was not stopped")
        except BaseException as exc:  # noqa: B902 - whatever it is, it is the bug
            print("broken: %s: %s" % (type(exc).__name__, str(exc).splitlines()[0] if str(exc) else ""))
            return
        finally:
            for p in manager.processes:
                p._current_process.kill()
        print("clean")


if __name__ == "__main__":
    main(sys.argv[1])
