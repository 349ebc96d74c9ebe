#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import os
import re
from urllib.parse import urlsplit

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

# 会话存放的地方（环境变量 SESSION_STORE）：
#   file（默认）：上面的会话文件夹，什么都不用装；
#   Redis 的地址，例如 redis://127.0.0.1:6379/0（主机:端口/库号；rediss:// 是加密连接，unix:///路径 是本机套接字）。
# 几台机器（几个应用实例）要认得同一个会话，就让它们连同一个 Redis。地址写错了，应用启动时说一行就退出。
# Where sessions are kept (the SESSION_STORE environment variable):
#   file (the default): the session folder above; nothing to install;
#   a Redis URL such as redis://127.0.0.1:6379/0 (host:port/database; rediss:// for TLS, unix:///path for a local socket).
# For several machines (app instances) to know the same sessions, point them at the same Redis.
# A malformed value stops the app at start-up with one line saying so.
def checkedStore(value):
    if value == 'file':
        return value
    url = urlsplit(value)
    try:
        url.port  # a port that is not a number raises ValueError
        fine = (url.scheme in ('redis', 'rediss') and bool(url.hostname) and bool(re.fullmatch(r'/?\d*', url.path))
                or url.scheme == 'unix' and bool(url.path))
    except ValueError:
        fine = False
    if not fine:
        # 地址里可能有 Redis 的密码（redis://:密码@主机）：说错在哪里时把它换成 ***，密码不进终端和日志。
        # The URL may hold Redis's password (redis://:password@host): it becomes *** when we say what is wrong,
        # so the password reaches no terminal and no log.
        shown = re.sub(r'^([^:]*:/*[^:/@]*:).*@', r'\1***@', re.sub(r'(password=)[^&#]*', r'\1***', value))
        raise SystemExit('SESSION_STORE 设置错误：%r 既不是 file，也不是 redis://主机:端口/库号 这样的地址。'
                         ' / SESSION_STORE is wrong: %r is neither file nor a Redis URL such as '
                         'redis://localhost:6379/0.' % (shown, shown))
    return value


SESSION_STORE = checkedStore(os.environ.get('SESSION_STORE') or 'file')

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

# 每个工作进程里最多几个登录排队等哈希线程；再来的立刻得到 503 和 Retry-After: 1，而不是排几秒钟的队。
# 带着可信设备 cookie 的登录不受这个限制，而且排在最前面（见 api/be.py 的 HashQueue）。
# At most this many logins per worker wait for a hashing thread; one more is answered 503 with Retry-After: 1 at
# once instead of queueing for seconds. Logins with a trusted device cookie are not limited and go first (HashQueue
# in api/be.py).
PASSWORD_QUEUE = int(os.environ.get('PASSWORD_QUEUE') or 4)

# 登录限速：账号、客户端地址各自前 LOGIN_FREE_FAILURES 次失败不受限，之后每次要等 1、2、4……秒，
# 最多 LOGIN_MAX_WAIT 秒；LOGIN_FORGET 秒没有尝试就从头计数。
# Login throttling, per account and per client address: LOGIN_FREE_FAILURES free failures, then waits of
# 1, 2, 4... seconds, at most LOGIN_MAX_WAIT; after LOGIN_FORGET quiet seconds the count starts again.
LOGIN_FREE_FAILURES = 5
LOGIN_MAX_WAIT = 60
LOGIN_FORGET = 900
# 正在检查的尝试：同一账号（或地址）同时最多还剩几次免费失败就几次，用完以后一次；多出来的排队，最多等 LOGIN_QUEUE 秒。
# 一个计数上最近一次尝试开始 LOGIN_STALE 秒以后，还没结束的尝试都不再算数（工作进程中途死了）。
# Attempts being checked: per account (or address), as many at once as free failures are left, then one; more
# queue, LOGIN_QUEUE seconds at most. LOGIN_STALE seconds after the latest start on a counter, attempts never ended
# there no longer count (a worker died mid-way).
LOGIN_QUEUE = 10
LOGIN_STALE = 60

# 会话有效期（秒），以及多久清理一次过期的会话文件（每个工作进程在后台线程里做，不占用请求；
# 用 Redis 时不用清理：过期的键 Redis 自己会删）。
# How long a session lasts (seconds), and how often expired session files are
# swept away (by each worker, in a background thread, never during a request;
# not with Redis, which deletes expired keys itself).
SESSION_TTL = 3600
# 不管用得多勤，一个会话从登录起最多 SESSION_MAX_AGE 秒（默认 12 小时），到时必须重新登录：
# 偷到的 token 不能靠一直用下去而永远有效。
# However busy, a session lasts SESSION_MAX_AGE seconds from its login at most (12 hours by default), then a new
# login is needed: a stolen token cannot be kept alive for ever by using it.
SESSION_MAX_AGE = int(os.environ.get('SESSION_MAX_AGE') or 12 * 3600)
SWEEP_EVERY = int(os.environ.get('SESSION_SWEEP_EVERY') or 300)

# 滑动会话：受保护的请求会给会话续期，让一直在用的人不掉线；但同一个会话最多每 SESSION_REFRESH 秒
# 续一次，忙碌的页面不会每个请求都重写一遍会话文件。
# Sliding session: a guarded request refreshes the session, so someone who keeps
# using the site stays logged in; but one session is refreshed at most every
# SESSION_REFRESH seconds, so a busy page does not rewrite the file on every request.
SESSION_REFRESH = int(os.environ.get('SESSION_REFRESH') or 60)

# 只有这些组可以出现在 cookie 里。/ The only groups a cookie may name.
GROUPS = ('manage',)

# 设备 cookie（见 core/session.py 的 loginCounters），DEVICE_DAYS 天有效。签名的密钥：部署时用环境变量 DEVICE_SECRET
# 设置（几台机器设成同一个）；不设就自动生成一个，存在会话文件夹里（用 Redis 时存在 Redis 里）。
# Device cookies (loginCounters in core/session.py), valid for DEVICE_DAYS days. The signing key: set DEVICE_SECRET
# when deploying (the same on every machine); unset, one is made and kept in the session folder (or in Redis).
DEVICE_SECRET = os.environ.get('DEVICE_SECRET') or None
DEVICE_DAYS = 180

# 本应用认的主机名：请求的 Host 头（不看端口）必须是其中之一，否则回答 400。一个网页可以让自己的域名临时指向 127.0.0.1
# （DNS 重绑定），浏览器就把它当成同一个网站，让它读到回答；它的请求带的是它自己的域名，在这里就被拒绝了。
# 部署时用环境变量 ALLOWED_HOSTS 设置，逗号分开，例如 ALLOWED_HOSTS=example.com,www.example.com。
# The host names this app answers to: the request's Host header (its port aside) must be one of them, or the
# answer is 400. A web page can point its own domain at 127.0.0.1 for a moment (DNS rebinding) and the browser lets
# it read the answers as if it were this site; its requests carry its own domain name, and are refused here.
# When deploying, set the ALLOWED_HOSTS environment variable, comma-separated: ALLOWED_HOSTS=example.com,www.example.com.
ALLOWED_HOSTS = tuple(name.strip().lower() for name in
                      (os.environ.get('ALLOWED_HOSTS') or '127.0.0.1,localhost,::1').split(',') if name.strip())

# https 部署时设为 1：cookie 加上 Secure，只通过 https 发送。本地教程用 http，所以默认关闭。
# Set to 1 for an https deployment: the cookie gets Secure and travels over https only.
# Off by default because the local tutorial runs on plain http.
COOKIE_SECURE = os.environ.get('COOKIE_SECURE', '') == '1'
