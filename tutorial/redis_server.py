"""A throwaway Redis (or Valkey) server on a free port, stopped for sure.

Used by the tests, notebooks/06-two-machines.ipynb and the benchmark:

    with RedisServer() as redis:
        ChapterServer(FINAL_DIR, env={"SESSION_STORE": redis.url})

It runs `redis-server --port N --bind 127.0.0.1 --save '' --appendonly no --dir
<a temporary folder>`: nothing is written to disk, and the folder is removed
when it stops. `stop()` then `start()` again restarts it on the same port,
empty (a Redis that went down and came back).
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from tutorial.server import _die_with_parent, free_port

BINARIES = ("redis-server", "valkey-server")
INSTALL = ("needs redis-server (or valkey-server), which is not installed: Debian/Ubuntu `sudo apt install "
           "redis-server`, macOS `brew install redis`, Windows: in WSL or a container (docker run -p 6379:6379 redis)")


def find_binary():
    """The path of redis-server (or valkey-server), or None."""
    for name in BINARIES:
        path = shutil.which(name)
        if path:
            return path
    return None


def ping(port: int, timeout: float = 0.5) -> bool:
    """Does a Redis server answer PING on 127.0.0.1:port?"""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    def __init__(self, port: int = None, binary: str = None, workdir=None):
        """`workdir`: where its (empty) data folder goes; default: the system's temporary folder."""
        self.workdir = workdir
        self.binary = binary or find_binary()
        if self.binary is None:
            raise FileNotFoundError("This " + INSTALL)
        self.port = port or free_port()
        self.folder = None
        self.process = None
        self._log = None

    @property
    def url(self) -> str:
        return "redis://127.0.0.1:%d/0" % self.port

    @property
    def command(self) -> list:
        return [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self.folder, "--loglevel", "warning"]

    def version(self) -> str:
        """"redis-server 7.0.15" (or valkey-server's), from `--version`."""
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True, timeout=30).stdout
        found = re.search(r"v=(\S+)", out)
        return "%s %s" % (os.path.basename(self.binary), found.group(1) if found else out.strip())

    def start(self, timeout: float = 20.0) -> "RedisServer":
        """Start it and wait until it answers PING. On the first start, a port
        another program took meanwhile is exchanged for a free one."""
        if self.folder is None:
            self.folder = tempfile.mkdtemp(prefix="redis-", dir=self.workdir)
        first = self.process is None
        for attempt in range(3):
            self._launch()
            deadline = time.monotonic() + timeout
            while not ping(self.port):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.02)
            else:
                return self
            self.stop()
            if not (first and "in use" in self.output()) or attempt == 2:
                raise RuntimeError("%s did not start:\n%s" % (" ".join(self.command), self.output()))
            self.port = free_port()
        return self

    def _launch(self) -> None:
        self._log = tempfile.TemporaryFile()
        kwargs = {}
        if os.name != "nt":
            kwargs["start_new_session"] = True  # a Ctrl-C in a terminal or a kernel is not for it
            if sys.platform.startswith("linux"):
                kwargs["preexec_fn"] = _die_with_parent  # gone with whatever started it
        self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=self._log,
                                        stderr=subprocess.STDOUT, **kwargs)

    def stop(self, timeout: float = 10.0):
        """Stop the server (SIGTERM: Redis shuts down at once, saving nothing). Returns its exit code."""
        p = self.process
        if p is None or p.poll() is not None:
            return p.returncode if p else None
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        return p.returncode

    def close(self) -> None:
        """Stop it and remove its folder."""
        self.stop()
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def output(self) -> str:
        if not self._log:
            return ""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
