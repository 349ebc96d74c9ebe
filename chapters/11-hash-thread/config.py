#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import os

# 接口前缀：后台接口都以 PREFIX['be'] 开头，前台接口以 PREFIX['fe'] 开头。
# URL prefixes: back-office endpoints start with PREFIX['be'], front-end ones with PREFIX['fe'].
PREFIX = {
    'be': '/api/v1/be/',
    'fe': '/api/v1/fe/',
}

# 会话文件放在本章自己的 temp/ 文件夹。路径由本文件的位置算出，而不是当前目录，
# 所以无论从哪个目录启动，会话文件都在同一个地方。
# 设置环境变量 SESSION_DIR 可以换一个文件夹（测试和笔记本用它，免得往仓库里写文件）。
# Session files live in this chapter's own temp/ folder. The path comes from this
# file's location, not from the current directory, so it is the same wherever you
# start the app. The SESSION_DIR environment variable moves them elsewhere (the
# tests and notebooks use it so they never write into the repository).
SESSION_DIR = os.environ.get('SESSION_DIR') or os.path.join(os.path.dirname(os.path.abspath(__file__)), 'temp')

# 管理员账号。密码不写明文，只存它加盐的慢哈希 pbkdf2_sha256$迭代次数$盐$哈希，
# 默认仍是 admin / 123456。换密码：在本文件夹运行 python -m core.tool 新密码，
# 把打印出的哈希放进环境变量 MANAGER_PASSWORD_HASH（或替换下面的默认值）。
# The manager account. The password is not in the code, only its salted, slow
# hash pbkdf2_sha256$iterations$salt$hash; the default is still admin / 123456.
# To change it, run python -m core.tool NEW-PASSWORD in this folder and put the
# printed hash in the MANAGER_PASSWORD_HASH environment variable (or below).
MANAGER = {
    'username': 'admin',
    'password': os.environ.get('MANAGER_PASSWORD_HASH') or (
        'pbkdf2_sha256$600000$faefc5464a1116bb4effa2c2e7ed4151'
        '$beaf2713bb289e13d34b59c6844d4bca7695097b96ef4498875ca69e898a6d95'),
}

# 新密码哈希的迭代次数（工作量）：越大越难暴力破解，每次登录也越慢。
# 校验时用的是哈希里记录的次数，所以改这个值不会让旧哈希失效。
# Work factor (PBKDF2 iterations) for new password hashes: higher is harder to
# brute-force and makes each login slower. Checking uses the count stored in
# the hash, so changing this does not invalidate existing hashes.
PASSWORD_ITERATIONS = int(os.environ.get('PASSWORD_ITERATIONS') or 600000)

# 每个工作进程里同时计算密码哈希的线程数。哈希在线程里算，事件循环照常回答别的请求；
# 在 2 核的机器上，1 个工作进程配 1 个线程，正好给事件循环留下一个核。
# 规则：工作进程数 × 线程数 小于核数。
# Threads per worker process that compute password hashes. The hash runs in a
# thread so the event loop keeps answering other requests; on 2 cores, 1 worker
# with 1 thread leaves one core to the event loop. Rule: workers × threads < cores.
PASSWORD_THREADS = int(os.environ.get('PASSWORD_THREADS') or 1)

# 只有这些组可以出现在 cookie 里。/ The only groups a cookie may name.
GROUPS = ('manage',)
