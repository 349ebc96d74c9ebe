#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import hmac
import os
import re
import secrets
import tempfile
import time

from config import GROUPS, SESSION_DIR, SESSION_TTL, SWEEP_EVERY
from core.tool import getMd5

# 会话文件夹，末尾带路径分隔符，文件名直接接在后面。只有运行服务器的用户能读写它。
# The session folder, ending with a path separator so a file name can follow it.
# Only the user running the server may read or write it.
TEMPPATH = os.path.join(SESSION_DIR, '')
os.makedirs(TEMPPATH, mode=0o700, exist_ok=True)

# cookie 里三段各自的样子：用户名只许字母、数字和 _ . -，最长 64；token 是 32 位小写十六进制。
# What each part of a cookie may look like: a user name of letters, digits and
# _ . - (at most 64), and a token of 32 lower-case hex digits.
USER = re.compile(r'[A-Za-z0-9_.-]{1,64}')
TOKEN = re.compile(r'[0-9a-f]{32}')

_lastSweep = 0


# "用户|组|token" 拆开并检查每一段；不合格就返回 None，根本不去碰文件。
# 路径只由检查过的部分拼成（已知的组名 + 用户名的 MD5），所以一定在会话文件夹里面。
# Split "user|group|token" and check each part; anything unexpected gives None,
# before any file is touched. The path is made only of checked parts (a known
# group and the MD5 of the user name), so it is always inside the session folder.
def _parse(tokenStr):
    if not isinstance(tokenStr, str):
        return None
    parts = tokenStr.split('|')
    if len(parts) != 3:
        return None
    user, group, token = parts
    if not USER.fullmatch(user) or group not in GROUPS or not TOKEN.fullmatch(token):
        return None
    return user, group, token, TEMPPATH + group + '_' + getMd5(user)


# 读会话文件，得到 (token, 时间)。文件不在、是空的、内容不对，都当作没有会话：返回 None，不抛异常。
# O_NOFOLLOW：会话文件如果是指向别处的符号链接，就拒绝打开。os.open/os.read 只是三个系统调用，
# 每个请求都要做，比 open() 构造带缓冲的文本读取器省得多。
# Read a session file as (token, time). Missing, empty or corrupt all mean "no
# session": None, never an exception. O_NOFOLLOW refuses a session file that is a
# symbolic link pointing elsewhere. os.open/os.read/os.close are three system calls;
# every request does this, and open() would build a buffered text reader each time.
def _read(path):
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0))
        try:
            data = os.read(fd, 64)
        finally:
            os.close(fd)
        saveToken, saveTime = data.decode('ascii').strip().split(',')
        if TOKEN.fullmatch(saveToken) and saveTime.isdigit():
            return saveToken, int(saveTime)
    except (OSError, ValueError):
        pass
    return None


# 先写到同一文件夹里的临时文件，再一步改名替换：别的进程要么读到旧内容，要么读到新内容，
# 永远不会读到写了一半的文件。
# Write to a temporary file in the same folder, then rename it over the old one
# in one step: another process reads either the old content or the new, never a half-written file.
def _write(path, text):
    fd, tmp = tempfile.mkstemp(dir=TEMPPATH, prefix='.tmp-')
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# 生成（或沿用）token，写进会话文件，返回 "用户|组|token"。
# token 来自 secrets：128 位密码学安全的随机数，无法由用户名和时间推算出来。
# Make (or reuse) a token, store it, and return "user|group|token". The token
# comes from secrets: 128 random bits from a cryptographically secure source,
# which nobody can rebuild from the user name and the time.
def makeToken(user, group, token=None):
    t = str(int(time.time()))
    if token is None:
        token = secrets.token_hex(16)
    parsed = _parse(user + '|' + group + '|' + token) if isinstance(user, str) else None
    if parsed is None:
        raise ValueError('not a valid user, group or token')
    _write(parsed[3], token + ',' + t)
    return user + '|' + group + '|' + token


# 返回值与文章相同：0 有效；1 token 不对；2 过期；4 没有值、格式不对或没有会话。
# token 用 hmac.compare_digest 比较，耗时与哪一位不同无关。
# The same codes as the article: 0 valid; 1 wrong token; 2 expired; 4 no value,
# wrong shape or no session. The token is compared with hmac.compare_digest,
# whose time does not depend on where the difference is.
def checkToken(tokenStr):
    parsed = _parse(tokenStr)
    if parsed is None:
        return 4
    saved = _read(parsed[3])
    if saved is None:
        return 4
    saveToken, saveTime = saved
    if not hmac.compare_digest(parsed[2], saveToken):
        return 1
    if int(time.time()) - saveTime > SESSION_TTL:
        return 2
    return 0


# 删除会话文件（退出时用）。格式不对的值什么也不做，文件不在也没关系。
# Delete the session file (at logout). A value of the wrong shape does nothing; a missing file is fine.
def clearToken(tokenStr):
    parsed = _parse(tokenStr)
    if parsed is not None:
        try:
            os.remove(parsed[3])
        except FileNotFoundError:
            pass


# 续期：同一个 token，时间换成现在。名字沿用文章的拼写。
# Refresh: same token, current time. The name keeps the article's spelling.
def updataToken(tokenStr):
    parsed = _parse(tokenStr)
    if parsed is not None:
        makeToken(parsed[0], parsed[1], parsed[2])


# 清理：删掉过期的会话文件和写了一半被丢下的临时文件，免得文件夹无限变大。
# 登录时顺便调用，但每 SWEEP_EVERY 秒最多一次。返回删掉的文件数。
# Sweep: delete expired session files and temporary files left behind, so the
# folder does not grow without bound. Login calls it, at most once every
# SWEEP_EVERY seconds. Returns how many files it deleted.
def sweepTokens(force=False):
    global _lastSweep
    now = int(time.time())
    if not force and now - _lastSweep < SWEEP_EVERY:
        return 0
    _lastSweep = now
    removed = 0
    for entry in os.scandir(TEMPPATH):
        if not entry.is_file() or entry.name == '.gitignore':
            continue
        saved = None if entry.name.startswith('.tmp-') else _read(entry.path)
        try:
            age = now - (saved[1] if saved else int(entry.stat().st_mtime))
            if age > SESSION_TTL:
                os.remove(entry.path)
                removed += 1
        except OSError:
            pass  # another process removed or replaced it meanwhile
    return removed
