#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import hmac
import os
import secrets
import time

from config import SESSION_DIR
from core.tool import getMd5

# 会话文件夹，末尾带路径分隔符，文件名直接接在后面。
# The session folder, ending with a path separator so a file name can follow it.
TEMPPATH = os.path.join(SESSION_DIR, '')
os.makedirs(TEMPPATH, exist_ok=True)


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
    # 文件名：组名_用户名的MD5，例如 manage_21232f297a57a5a743894a0e4a801fc3。
    # 文章用 os.system('echo ...') 写文件；这里用 Python 自己写，Windows 上也能用，
    # 而且 cookie 里的内容永远不会经过 shell。
    # File name: group_MD5-of-user, e.g. manage_21232f297a57a5a743894a0e4a801fc3.
    # The article writes it with os.system('echo ...'); Python's own file writing
    # works on Windows too, and no shell ever sees data from a cookie.
    tokenPath = TEMPPATH + group + '_' + getMd5(user)
    with open(tokenPath, 'w') as f:
        f.write(token + ',' + t)
    return user + '|' + group + '|' + token


# 检查客户端带来的 "用户|组|token"，返回状态码：
#   0 有效；1 token 与服务器存的不一致；2 已过期（超过 3600 秒）；
#   4 没有值、格式不对，或者服务器上没有这个会话文件。
# Check the "user|group|token" a client sent. Returns a code:
#   0 valid; 1 the token differs from the stored one; 2 expired (over 3600 s);
#   4 no value, wrong shape, or no session file on the server.
def checkToken(tokenStr):
    if tokenStr is None:
        return 4
    parts = tokenStr.split('|')
    if len(parts) != 3:
        return 4
    user, group, token = parts
    tokenPath = TEMPPATH + group + '_' + getMd5(user)
    if not os.path.exists(tokenPath):
        return 4

    with open(tokenPath) as f:
        saveToken, saveTime = f.read().strip().split(',')

    # 先比 token 再看时间：token 不对时，它有没有过期都无关紧要。
    # 用 hmac.compare_digest 比较，耗时与哪一位不同无关：!= 在第一个不同的字符就停下，
    # 量回答的快慢就能一位一位地猜。它只比较 ASCII 的 str，所以两边都先变成字节。
    # Compare the token before the time: a wrong token is wrong whether or not it expired.
    # hmac.compare_digest takes the same time wherever the difference is: != stops at
    # the first differing character, so timing the answers could guess it one by one.
    # It compares only ASCII str, so both sides become bytes first.
    if not hmac.compare_digest(token.encode('utf-8', 'surrogateescape'),
                               saveToken.encode('utf-8', 'surrogateescape')):
        return 1
    if int(time.time()) - int(saveTime) > 3600:
        return 2
    return 0


# 删除这个用户在这个组的会话文件（退出登录时用）。格式不对的字符串什么也不做。
# Delete this user's session file for this group (used at logout). A string of
# the wrong shape does nothing.
def clearToken(tokenStr):
    parts = tokenStr.split('|')
    if len(parts) == 3:
        user, group = parts[0], parts[1]
        tokenPath = TEMPPATH + group + '_' + getMd5(user)
        # 文章用 os.system('rm ...')；os.remove 在 Windows 上也能用，不经过 shell。
        # 文件已经不在也没关系。
        # The article runs os.system('rm ...'); os.remove works on Windows too and
        # involves no shell. A file that is already gone is fine.
        try:
            os.remove(tokenPath)
        except FileNotFoundError:
            pass


# 续期：保留原来的 token，把时间换成现在，于是会话又能用 3600 秒。
# 名字沿用文章的拼写 updataToken，方便对照原文。
# Refresh: keep the same token with the current time, so the session lasts
# another 3600 seconds. The name keeps the article's spelling, updataToken,
# so you can follow the text.
def updataToken(tokenStr):
    parts = tokenStr.split('|')
    if len(parts) == 3:
        user, group, token = parts
        makeToken(user, group, token)
