"""Start a chapter's run.py as a real server process, and stop it for sure.

Used by the tests, the notebooks and the benchmark, so that all of them start
the app exactly as a learner does: `python <chapter>/run.py --port N` (in a test
run, through tutorial/warm.py: run.py the same, only the interpreter warm).
"""
from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tutorial import warm as warm_start

PREFIX = "/api/v1/be/"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _find_prctl():
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except Exception:  # not glibc Linux
        return None


# Looked up here, not in the child: between fork and exec the child must not
# load libraries or import modules (another thread may have held their locks).
_prctl = _find_prctl() if sys.platform.startswith("linux") else None


def _die_with_parent():  # pragma: no cover - runs in the child before exec
    """Linux only: the server gets SIGTERM if the process that started it dies
    (a killed Jupyter kernel, an interrupted test run), so it never lingers."""
    if _prctl is not None:
        _prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class ServerFailed(RuntimeError):
    """A server that did not start, or did not stop cleanly; the message holds its whole output."""


# What run.py prints when it cannot listen on its port (and what Python says).
PORT_TAKEN = ("Cannot listen on", "Address already in use")


class ChapterServer:
    """One server process started from `<folder>/run.py`.

    >>> with ChapterServer("final", session_dir=tmp) as server:
    ...     server.url("login")
    """

    def __init__(self, folder, port=None, workers=1, session_dir=None, cwd=None, env=None, options=True,
                 script=None, warm=None):
        """`options=False` starts run.py with no options at all (its defaults: port 8000).
        `script` runs another script that takes the same options (the benchmark's
        store variants), with the chapter folder still the app's home. `warm`: started
        by tutorial/warm.py's starter (the default in a test run) instead of a new Python."""
        self.folder = Path(folder).resolve()
        self.run_py = Path(script).resolve() if script else self.folder / "run.py"
        self.options = options
        self.port = port or (free_port() if options else 8000)
        self._chosen_port = not port and options  # ours to change if another program takes it first
        self.workers = workers
        self.session_dir = Path(session_dir) if session_dir else None
        self.cwd = Path(cwd).resolve() if cwd else self.folder
        self.extra_env = dict(env or {})
        self.warm = warm_start.wanted() if warm is None else warm
        self.process = None
        self._log = None

    @property
    def base(self) -> str:
        return "http://127.0.0.1:%d" % self.port

    def url(self, endpoint: str = "") -> str:
        """Full URL of a back-office endpoint: url("login")."""
        return self.base + PREFIX + endpoint

    @property
    def command(self) -> list:
        # `python chapters/04-login/run.py` when started from above the folder,
        # `python run.py` when started inside it, as a learner types it.
        script = self.run_py
        if self.cwd == self.run_py.parent or self.cwd in self.run_py.parents:
            script = self.run_py.relative_to(self.cwd)
        args = [sys.executable, str(script)]
        if not self.options:
            return args
        args += ["--host", "127.0.0.1", "--port", str(self.port)]
        if self.workers != 1:
            args += ["--workers", str(self.workers)]
        return args

    def start(self, timeout: float = 30.0) -> "ChapterServer":
        """Start the process and wait until it answers."""
        self.launch()
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def launch(self) -> "ChapterServer":
        """Start the process without waiting (to start several at once, then
        `wait_ready` each)."""
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)  # nothing but the chapter folder may provide its modules
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ in the chapter folder
        env["PYTHONIOENCODING"] = "utf-8"
        if self.session_dir is not None:
            env["SESSION_DIR"] = str(self.session_dir)
        env.update(self.extra_env)
        self._log = tempfile.TemporaryFile()
        if self.warm:
            log = "/proc/%d/fd/%d" % (os.getpid(), self._log.fileno())  # (the same file, opened by the server)
            self.process = warm_start.Starter.get().start(self.command[1:], self.cwd, env, log)
            return self
        kwargs = {}
        if os.name == "nt":  # pragma: no cover
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
        else:
            # Its own process group: when Sanic's manager gives up on a clean
            # shutdown it kills its whole process group, which must not be ours
            # (a Jupyter kernel, a test run).
            kwargs["start_new_session"] = True
            if _prctl is not None:
                kwargs["preexec_fn"] = _die_with_parent
        self.process = subprocess.Popen(
            self.command, cwd=str(self.cwd), env=env, stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT, **kwargs)
        return self

    def wait_ready(self, timeout: float) -> None:
        """Wait until *this* server serves (another program may answer on the
        same port): its process is alive, every worker has logged "Worker
        ready" (Sanic logs it once the port is bound), and then it answers
        HTTP (any status). Waiting for every worker also matters for stopping:
        a Ctrl-C while Sanic still waits for a worker to start makes Sanic
        25.12 hang. A port this class chose that another program took in the
        meantime is replaced by another free one (at most three times)."""
        deadline = time.monotonic() + timeout
        changes = 0
        while self.output().count("Worker ready") < self.workers:
            if self.process.poll() is not None:
                if self._chosen_port and changes < 3 and any(s in self.output() for s in PORT_TAKEN):
                    changes += 1
                    self.port = free_port()
                    self.launch()
                    continue
                raise ServerFailed("%s exited with %s before serving; its output:\n%s"
                                   % (shlex.join(self.command), self.process.returncode, self.output()))
            if time.monotonic() > deadline:
                raise ServerFailed("%s did not serve within %ss; its output:\n%s"
                                   % (shlex.join(self.command), timeout, self.output()))
            time.sleep(0.05)
        if self.workers > 1:
            time.sleep(0.2)  # the manager looks for its workers every 0.1 s
        while True:
            if self.process.poll() is not None:
                raise ServerFailed("%s exited with %s before answering; its output:\n%s"
                                   % (shlex.join(self.command), self.process.returncode, self.output()))
            try:
                urllib.request.urlopen(self.base + "/", timeout=1).close()
                return
            except urllib.error.HTTPError:
                return  # a 404 is an answer: the server is up
            except OSError:
                if time.monotonic() > deadline:
                    raise ServerFailed("%s did not answer within %ss; its output:\n%s"
                                       % (shlex.join(self.command), timeout, self.output()))
                time.sleep(0.05)

    def stop(self, timeout: float = 15.0, check: bool = False):
        """Ctrl-C the server as a terminal does (SIGINT to its whole process
        group: the main process and its workers), then make sure it is gone.
        Returns the exit code; with `check`, raises ServerFailed, with the
        server's whole output, unless it stopped cleanly (exit code 0)."""
        p = self.process
        if p is not None and p.poll() is None:
            self._let_workers_start(timeout)
            try:
                if os.name == "nt":  # pragma: no cover
                    p.send_signal(signal.CTRL_BREAK_EVENT)
                else:
                    os.killpg(p.pid, signal.SIGINT)
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                self._kill()
            except ProcessLookupError:
                p.wait()
        if check:
            self.check_stopped()
        return p.returncode if p else None

    def _let_workers_start(self, timeout):
        """A Ctrl-C while Sanic 25.12's manager waits for its workers to start
        makes it hang (sanic-org/sanic issue 2997): a server stopped while it
        is still starting (an interrupted test run) is first let start."""
        deadline = time.monotonic() + timeout
        while (self.workers > 1 and self.process.poll() is None and time.monotonic() < deadline
               and self.output().count("Worker ready") < self.workers):
            time.sleep(0.05)

    def _kill(self):
        if os.name == "nt":  # pragma: no cover
            self.process.kill()
        else:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)  # its workers too
            except ProcessLookupError:
                pass
        self.process.wait()

    def check_stopped(self):
        """Raise ServerFailed, with the server's whole output, if it exited badly."""
        code = self.process.returncode if self.process else None
        if code != 0:
            raise ServerFailed("%s exited with %s; its output:\n%s"
                               % (shlex.join(self.command), code, self.output()))

    def output(self) -> str:
        """Everything the server printed so far.

        The server writes through a copy of the same open file, which shares
        its position: a seek here would move where the server writes next,
        and a line the server writes meanwhile would land over the start of
        the output. os.pread reads without moving it."""
        if not self._log:
            return ""
        if hasattr(os, "pread"):
            fd = self._log.fileno()
            data = os.pread(fd, os.fstat(fd).st_size, 0)
        else:  # pragma: no cover - Windows
            self._log.seek(0)
            data = self._log.read()
        return data.decode("utf-8", "replace")

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, *exc):
        self.stop(check=exc_type is None)
