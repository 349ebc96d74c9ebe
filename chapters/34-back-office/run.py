#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
"""启动应用 / Start the app.

    python run.py                  # http://127.0.0.1:8000
    python run.py --port 8001
    python run.py --workers 4      # 4 个工作进程 / 4 worker processes
"""
import argparse
import os
import socket
import sys

from sanic.worker.manager import WorkerManager

from api import be
from core.app import app

# 把后台接口的蓝图挂到应用上。
# Attach the back-office blueprint to the app.
app.blueprint(be.bp)


# ---- 绕过 Sanic 的一个缺陷，Sanic 修好后删掉这一段 / A workaround for a Sanic bug: delete it once Sanic is fixed.
# https://github.com/sanic-org/sanic/pull/3145
# 多个工作进程时，Sanic 在 Ctrl-C 的信号处理函数里直接停止工作进程，要读写它与工作进程共享的状态；
# 信号若恰好打断了主循环里对同一状态的读取，连接就乱了：偶尔报 UnpicklingError 等错误，退出码为 1。
# 这里的处理函数只给 Sanic 的主循环发一条“停止”消息，由主循环在两次读取之间停止工作进程。
# With several workers, Sanic's Ctrl-C handler stops the workers itself, reading and writing the
# state it shares with them; when the signal interrupted a read of that state in its main loop,
# the connection is garbled: now and then an UnpicklingError (or another error) and exit code 1.
# This handler only posts a "stop" message; Sanic's main loop stops the workers between two reads.
SANIC_SHUTDOWN_SIGNAL = WorkerManager.shutdown_signal


def sanic_pr_3145_shutdown_signal(manager, signum, frame):
    if getattr(manager, 'stop_asked', False):  # 第二次 Ctrl-C：像 Sanic 一样强行结束 / a second Ctrl-C kills, as in Sanic
        manager._shutting_down = True
        return SANIC_SHUTDOWN_SIGNAL(manager, signum, frame)
    manager.stop_asked = True
    manager.monitor_publisher.send('__TERMINATE__')


WorkerManager.shutdown_signal = sanic_pr_3145_shutdown_signal
# ---- 绕过结束 / end of the workaround


def cannot_listen(host, port):
    """端口能用时返回 None，否则返回原因。/ None if we can listen on host:port, else why not."""
    try:
        family = socket.AF_INET6 if ':' in host else socket.AF_INET
        socket.create_server((host, port), family=family).close()
        return None
    except (OSError, OverflowError) as err:
        return os.strerror(err.errno) if getattr(err, 'errno', None) else str(err)


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description='Serve the tutorial app.')
    # 默认只监听本机：学习用的服务器不该对整个网络开放。
    # Listen on this machine only by default: a learning server should not be open to the network.
    parser.add_argument('--host', default='127.0.0.1', help='address to listen on (default 127.0.0.1)')
    parser.add_argument('--port', type=int, default=8000, help='port to listen on (default 8000)')
    parser.add_argument('--workers', type=int, default=1, help='Sanic worker processes (default 1)')
    args = parser.parse_args()
    # 端口被占用（比如另一个服务器还开着）时，只说一句该怎么办，而不是一大段 Traceback。
    # A port in use (another server still running, say) gets one sentence on what to do, not a traceback.
    why = cannot_listen(args.host, args.port)
    if why:
        other = args.port + 1 if 0 <= args.port < 65535 else 8000
        where = '%s:%s' % (args.host, args.port)
        sys.exit('无法监听 %s（%s），请用 --port 换一个端口，例如 --port %d'
                 ' / Cannot listen on %s (%s): choose another port with --port, e.g. --port %d'
                 % (where, why, other, where, why, other))
    # 一个工作进程时直接在本进程里服务，启动更快；多个时由 Sanic 管理工作进程。
    # With one worker, serve from this process (quicker to start); with more, Sanic manages the workers.
    app.run(host=args.host, port=args.port, workers=args.workers,
            single_process=args.workers == 1)
