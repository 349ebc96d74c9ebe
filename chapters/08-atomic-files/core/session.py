#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import hmac
import os
import re
import secrets
import time

from config import GROUPS, SESSION_DIR
from core.file_store import FileStore

# 会话文件夹，末尾带路径分隔符，文件名直接接在后面。
# The session folder, ending with a path separator so a file name can follow it.
TEMPPATH = os.path.join(SESSION_DIR, '')

# cookie 里三段各自的样子：用户名只许字母、数字和 _ . -，最长 64；token 是 32 位小写十六进制。
# What each part of a cookie may look like: a user name of letters, digits and
# _ . - (at most 64), and a token of 32 lower-case hex digits.
USER = re.compile(r'[A-Za-z0-9_.-]{1,64}')
TOKEN = re.compile(r'[0-9a-f]{32}')


# "用户|组|token" 拆开并检查每一段，得到 (用户, 组, token)；不合格就返回 None，根本不去碰存储。
# 存储只拿到检查过的部分，所以文件路径里不会有 cookie 带来的 ../ 之类的东西。
# Split "user|group|token" and check each part: (user, group, token), or None
# for anything unexpected, before the store is touched. The store gets only
# checked parts, so no ../ from a cookie ever reaches a file path.
def _parse(tokenStr):
    if not isinstance(tokenStr, str):
        return None
    parts = tokenStr.split('|')
    if len(parts) != 3:
        return None
    user, group, token = parts
    if not USER.fullmatch(user) or group not in GROUPS or not TOKEN.fullmatch(token):
        return None
    return user, group, token


# 生成（或沿用）token，把 "token,时间" 写进这个用户在这个组的会话文件，
# 返回交给客户端的字符串 "用户|组|token"。
# Make (or reuse) a token, write "token,time" to this user's session file for
# this group, and return the string the client keeps: "user|group|token".
def makeToken(user, group, token=None):
    t = str(int(time.time()))
    if token is None:
        # token 来自 secrets：128 位密码学安全的随机数（32 位十六进制），无法由用户名和时间推算出来。
        # 文章的 MD5(用户名 + 时间 + 五位随机数) 只有几十万种可能，一秒钟就能全试一遍。
        # The token comes from secrets: 128 random bits from a cryptographically secure
        # source (32 hex digits), which nobody can rebuild from the user name and the time.
        # The article's MD5(user + time + five random digits) has a few hundred thousand
        # possible values, all tried in a second.
        token = secrets.token_hex(16)
    # 用户名和组也要合格（和 cookie 的规则一样），不合格的名字根本不写文件。
    # The user and group must pass the cookie's rules too: a bad name writes no file at all.
    parsed = _parse(user + '|' + group + '|' + token) if isinstance(user, str) else None
    if parsed is None:
        raise ValueError('not a valid user, group or token')
    # 会话文件的读、写、删都在 core/file_store.py 里（STORE，见本文件最后）。
    # Reading, writing and deleting session files happens in core/file_store.py (STORE, at the end of this file).
    STORE.write(parsed, token + ',' + t)
    return user + '|' + group + '|' + token


# 检查客户端带来的 "用户|组|token"，返回状态码：
#   0 有效；1 token 与服务器存的不一致；2 已过期（超过 3600 秒）；
#   4 没有值、格式不对，或者服务器上没有这个会话文件。
# Check the "user|group|token" a client sent. Returns a code:
#   0 valid; 1 the token differs from the stored one; 2 expired (over 3600 s);
#   4 no value, wrong shape, or no session file on the server.
def checkToken(tokenStr):
    parsed = _parse(tokenStr)
    if parsed is None:
        return 4
    # 文件不在、内容不对，都是“没有会话”。/ A missing file and a corrupt one both mean "no session".
    saved = STORE.read(parsed)
    if saved is None:
        return 4
    saveToken, saveTime = saved

    # 先比 token 再看时间：token 不对时，它有没有过期都无关紧要。
    # 用 hmac.compare_digest 比较，耗时与哪一位不同无关：!= 在第一个不同的字符就停下，
    # 量回答的快慢就能一位一位地猜。
    # Compare the token before the time: a wrong token is wrong whether or not it expired.
    # hmac.compare_digest takes the same time wherever the difference is: != stops at
    # the first differing character, so timing the answers could guess it one by one.
    if not hmac.compare_digest(parsed[2], saveToken):
        return 1
    if int(time.time()) - saveTime > 3600:
        return 2
    return 0


# 删除这个用户在这个组的会话文件（退出登录时用）。格式不对的字符串什么也不做。
# Delete this user's session file for this group (used at logout). A string of
# the wrong shape does nothing.
def clearToken(tokenStr):
    parsed = _parse(tokenStr)
    if parsed is not None:
        STORE.remove(parsed)


# 续期：保留原来的 token，把时间换成现在，于是会话又能用 3600 秒。
# 名字沿用文章的拼写 updataToken，方便对照原文。
# Refresh: keep the same token with the current time, so the session lasts
# another 3600 seconds. The name keeps the article's spelling, updataToken,
# so you can follow the text.
def updataToken(tokenStr):
    parsed = _parse(tokenStr)
    if parsed is not None:
        user, group, token = parsed
        makeToken(user, group, token)


# 会话文件放在会话文件夹里，由 core/file_store.py 的 FileStore 读、写、删。
# Session files live in the session folder, read, written and deleted by FileStore in core/file_store.py.
STORE = FileStore(TEMPPATH)
