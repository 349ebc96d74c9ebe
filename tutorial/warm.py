"""Start chapter servers without paying for a new Python and a fresh `import sanic` each time.

A test run starts some sixty servers, and most of each start (about 0.3 s of
CPU on these machines) is the interpreter starting and importing Sanic, the
same every time. A *starter* process does that once: it imports Sanic, then,
for each server asked of it, forks, and the child runs the chapter's run.py as
`python run.py ARGS` would: the chapter folder first on sys.path, then
PYTHONPATH (its sitecustomize.py run first, as at start-up), run.py as
__main__, the current folder, environment, arguments and output file asked
for, a process group of its own, the default signal handlers. The starter
reaps its children and reports each exit code. One difference: a server with
several workers forks them (Sanic.start_method) instead of spawning a new Python for each.

Only the test runs use it (the environment variable TUTORIAL_WARM_SERVERS=1,
set by tests/conftest.py; see tutorial/server.py); a learner and a notebook
reader start `python run.py` for real, and so do the tests of run.py's own
start and stop (tests/test_server.py). Linux only (fork, and /proc);
elsewhere servers start the usual way.
"""
from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading

# The starter's own program, run with `python -c`: it reads one request a line
# on stdin, answers {"id", "pid"} when it forked and {"exit", "code"} when a
# child ended, and ends (its children with it) when stdin closes.
STARTER = r'''
import json, os, runpy, selectors, shutil, signal, sys, tempfile, traceback
import sanic, sanic.worker.manager, argparse, socket, asyncio  # what every run.py needs: paid for once here

try:
    import ctypes
    PRCTL = ctypes.CDLL("libc.so.6", use_errno=True).prctl
except Exception:
    PRCTL = None


def script_is_code(request):
    return request["argv"][0] == "-c" and len(request["argv"]) >= 2


def own_frames(tb, request, script):
    """A traceback as Python prints it: from the code's (or the script's) own frames on, not the starter's."""
    while tb is not None and tb.tb_frame.f_code is not child.__code__:
        tb = tb.tb_next
    below = tb.tb_next if tb is not None else None
    tb = below
    while not script_is_code(request) and tb is not None and tb.tb_frame.f_code.co_filename != script:
        tb = tb.tb_next
    return tb or below


def child(request):
    os.setsid()
    if PRCTL is not None:
        PRCTL(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: ends with the starter
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.set_wakeup_fd(-1)
    log = os.open(request["log"], os.O_WRONLY | os.O_APPEND)
    err = os.open(request.get("err", request["log"]), os.O_WRONLY | os.O_APPEND)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(err, 2)
    os.closerange(3, 1024)
    sys.stdin = open(0, closefd=False)
    sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    script = os.path.abspath(request["argv"][0])
    sys.argv = ["-c"] + request["argv"][2:] if script_is_code(request) else request["argv"]
    # sys.path as `python run.py` makes it: the script's folder, then PYTHONPATH, then the standard places;
    # and, as Python does at start-up, the first sitecustomize.py on PYTHONPATH runs
    extra = [folder for folder in request["env"].get("PYTHONPATH", "").split(os.pathsep) if folder]
    sys.path[0:1] = ["" if script_is_code(request) else os.path.dirname(script)] + extra
    # Several workers: Sanic forks them from this warm process instead of spawning a new Python for each
    # (what spawning costs is what the starter is for); each worker still runs the chapter's app. What
    # multiprocessing keeps in a temporary folder then (pymp-*) goes into one the starter removes after it.
    sanic.Sanic.start_method = "fork"
    tempfile.tempdir = request["scratch"]
    code = 0
    try:
        for folder in extra:
            if os.path.isfile(os.path.join(folder, "sitecustomize.py")):
                runpy.run_path(os.path.join(folder, "sitecustomize.py"), run_name="sitecustomize")
                break
        if script_is_code(request):  # python -B -c CODE: the current folder first on sys.path, no bytecode written
            sys.dont_write_bytecode = True
            exec(compile(request["argv"][1], "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
        else:
            runpy.run_path(script, run_name="__main__")
    except SystemExit as stop:
        if isinstance(stop.code, int) or stop.code is None:
            code = stop.code or 0
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    except BaseException as exc:
        traceback.print_exception(type(exc), exc, own_frames(exc.__traceback__, request, script))
        code = 1
    shutil.rmtree(request["scratch"], ignore_errors=True)  # (the starter does too: it may be gone)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def reap(out):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid in scratch:
            shutil.rmtree(scratch.pop(pid), ignore_errors=True)
        out.write(json.dumps({"exit": pid, "code": os.waitstatus_to_exitcode(status)}) + "\n")
        out.flush()


signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C meant for the process that started us (its children reset it)
wake_r, wake_w = os.pipe()
os.set_blocking(wake_w, False)
signal.set_wakeup_fd(wake_w)
signal.signal(signal.SIGCHLD, lambda *a: None)
out = sys.stdout
events = selectors.DefaultSelector()
events.register(0, selectors.EVENT_READ, "request")
events.register(wake_r, selectors.EVENT_READ, "child")
children = set()
scratch = {}  # pid -> its temporary folder
pending = b""  # (read from fd 0 directly: requests sent together arrive in one read, and each is answered)
while True:
    for key, _ in events.select():
        if key.data == "child":
            os.read(wake_r, 512)
            reap(out)
            continue
        data = os.read(0, 1 << 16)
        if not data:  # the process that started us is gone: so are the servers
            for pid in children:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
            for folder in scratch.values():
                shutil.rmtree(folder, ignore_errors=True)
            sys.exit(0)
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            request = json.loads(line)
            request["scratch"] = tempfile.mkdtemp(prefix="w", dir=request["env"].get("TMPDIR"))  # (short: Unix sockets go in it)
            pid = os.fork()
            if pid == 0:
                child(request)
            children.add(pid)
            scratch[pid] = request["scratch"]
            out.write(json.dumps({"id": request["id"], "pid": pid}) + "\n")
            out.flush()
        reap(out)
'''


def wanted() -> bool:
    """Whether this process's servers start warm: asked for (TUTORIAL_WARM_SERVERS=1), and Linux (fork, and
    /proc/PID/fd, through which a server opens the output file of the process that started it)."""
    return (os.environ.get("TUTORIAL_WARM_SERVERS") == "1" and sys.platform.startswith("linux")
            and hasattr(os, "waitstatus_to_exitcode"))


class Starter:
    """The one starter of this process, started on first use."""

    _current = None
    _made = threading.Lock()  # (two threads asking at once get the same starter)

    @classmethod
    def shutdown(cls) -> None:
        """Close this process's starter now (a test run does, before it checks that it left no process)."""
        if cls._current is not None:
            cls._current.close()
            cls._current = None

    @classmethod
    def get(cls) -> "Starter":
        with cls._made:
            if cls._current is None or cls._current.process.poll() is not None:
                cls._current = cls()
            return cls._current

    def __init__(self):
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)  # (a server's sys.path: its chapter folder and the standard places)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        # (a session of its own: what signals its starter's process group, as Jupyter does at a kernel's
        # shutdown, is not for it; it ends when its stdin closes)
        self.process = subprocess.Popen([sys.executable, "-c", STARTER], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env=env, cwd="/",
                                        start_new_session=True)
        self.pids, self.exits = {}, {}
        self.changed = threading.Condition()
        self.next_id = 0
        threading.Thread(target=self._listen, daemon=True, name="warm-starter").start()
        atexit.register(self.close)

    def _listen(self):
        for line in self.process.stdout:
            message = json.loads(line)
            with self.changed:
                if "pid" in message:
                    self.pids[message["id"]] = message["pid"]
                else:
                    self.exits[message["exit"]] = message["code"]
                self.changed.notify_all()
        with self.changed:  # the starter ended: nothing more will be reported
            self.changed.notify_all()

    def start(self, argv, cwd, env, log_path, err_path=None) -> "WarmProcess":
        """`python ARGV`: a script and its arguments, or ["-c", CODE] (as `python -B -c CODE`). Its output goes
        to log_path; its error output too, or to err_path."""
        with self.changed:
            self.next_id += 1
            ask = self.next_id
            self.process.stdin.write(json.dumps({"id": ask, "argv": argv, "cwd": str(cwd), "env": env,
                                                 "log": str(log_path), "err": str(err_path or log_path)}) + "\n")
            self.process.stdin.flush()
            if not self.changed.wait_for(lambda: ask in self.pids or self.process.poll() is not None, 30):
                raise RuntimeError("the warm starter did not answer")
            if ask not in self.pids:
                raise RuntimeError("the warm starter ended (exit code %s)" % self.process.poll())
            return WarmProcess(self, self.pids.pop(ask))

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(10)


class WarmProcess:
    """A server forked by the starter, with what ChapterServer uses of subprocess.Popen."""

    def __init__(self, starter: Starter, pid: int):
        self.starter, self.pid, self.returncode = starter, pid, None

    def poll(self):
        if self.returncode is None:
            with self.starter.changed:
                self.returncode = self.starter.exits.pop(self.pid, None)
        return self.returncode

    def wait(self, timeout=None):
        with self.starter.changed:
            ended = self.starter.changed.wait_for(
                lambda: self.pid in self.starter.exits or self.starter.process.poll() is not None, timeout)
        if not ended:
            raise subprocess.TimeoutExpired("warm server %d" % self.pid, timeout)
        if self.poll() is None:  # the starter is gone, and its children with it
            self.returncode = -9
        return self.returncode
