#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
"""启动应用 / Start the app.

    python run.py                  # http://127.0.0.1:8000
    python run.py --port 8001
    python run.py --workers 4      # 4 个工作进程 / 4 worker processes
"""
import argparse

from api import be
from core.app import app

# 把后台接口的蓝图挂到应用上。
# Attach the back-office blueprint to the app.
app.blueprint(be.bp)

if __name__ == '__main__':
    parser = argparse.ArgumentParser(description='Serve the tutorial app.')
    # 默认只监听本机：学习用的服务器不该对整个网络开放。
    # Listen on this machine only by default: a learning server should not be open to the network.
    parser.add_argument('--host', default='127.0.0.1', help='address to listen on (default 127.0.0.1)')
    parser.add_argument('--port', type=int, default=8000, help='port to listen on (default 8000)')
    parser.add_argument('--workers', type=int, default=1, help='Sanic worker processes (default 1)')
    args = parser.parse_args()
    # 一个工作进程时直接在本进程里服务，启动更快；多个时由 Sanic 管理工作进程。
    # With one worker, serve from this process (quicker to start); with more, Sanic manages the workers.
    app.run(host=args.host, port=args.port, workers=args.workers,
            single_process=args.workers == 1)
