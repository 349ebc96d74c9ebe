#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import os
import random
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
        # 用户名 + 时间 + 随机数，取 MD5 得到 32 位十六进制的 token。
        # User name + time + a random number, hashed with MD5: a 32-hex-digit token.
        r = str(random.randint(10000, 99999))
        token = getMd5(user + t + r)
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
