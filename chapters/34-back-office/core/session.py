#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import asyncio
import hmac
import os
import re
import secrets
import time

from config import DEVICE_SECRET, GROUPS, LOGIN_FREE_FAILURES, LOGIN_QUEUE, SESSION_DIR, SESSION_MAX_AGE, \
    SESSION_REFRESH, SESSION_STORE, SESSION_TTL
from core.file_store import FileStore
from core.redis_store import RedisStore, StoreUnavailable  # noqa: F401 (StoreUnavailable: for core/app.py)
from core.tool import getMd5

# 会话文件夹，末尾带路径分隔符，文件名直接接在后面。
# The session folder, ending with a path separator so a file name can follow it.
TEMPPATH = os.path.join(SESSION_DIR, '')

# cookie 里三段各自的样子：用户名只许字母、数字和 _ . -，最长 64；token 是 32 位小写十六进制。
# What each part of a cookie may look like: a user name of letters, digits and
# _ . - (at most 64), and a token of 32 lower-case hex digits.
USER = re.compile(r'[A-Za-z0-9_.-]{1,64}')
TOKEN = re.compile(r'[0-9a-f]{32}')


# "用户|组|token" 拆开并检查每一段，得到 (用户, 组, token)；不合格就返回 None，根本不去碰存储。
# 存储只拿到检查过的部分，所以文件路径（或 Redis 的键）里不会有 cookie 带来的 ../ 之类的东西。
# Split "user|group|token" and check each part: (user, group, token), or None
# for anything unexpected, before the store is touched. The store gets only
# checked parts, so no ../ from a cookie ever reaches a file path (or a Redis key).
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


# ---------------------------------------------------------------- the session functions
#
# 会话函数都是 async 的：会话存储可能在网络的另一头（Redis），等它回答的时候，
# 事件循环应该去回答别的请求，所以调用的地方要 await 它们。会话函数只通过 STORE 的几个方法
# （read、write、removeIf、refresh、holdLogin、loginEnded）存取，不管会话放在哪里。
# The session functions are async: the session store may be across the
# network (Redis), and while it answers, the event loop should
# answer other requests; so callers await them. They store and fetch only through
# a few methods of STORE (read, write, removeIf, refresh, holdLogin,
# loginEnded), whatever keeps the sessions.

# 生成（或沿用）token，把 "token,时间" 写进这个用户在这个组的会话文件，
# 返回交给客户端的字符串 "用户|组|token"。
# Make (or reuse) a token, write "token,time" to this user's session file for
# this group, and return the string the client keeps: "user|group|token".
async def makeToken(user, group, token=None):
    t = str(int(time.time()))
    if token is None:
        # token 来自 secrets：128 位密码学安全的随机数（32 位十六进制），无法由用户名和时间推算出来。
        # 文章的 MD5(用户名 + 时间 + 五位随机数) 只有几十万种可能，一秒钟就能全试一遍。
        # The token comes from secrets: 128 random bits from a cryptographically secure
        # source (32 hex digits), which nobody can rebuild from the user name and the time.
        # The article's MD5(user + time + five random digits) has a few hundred thousand
        # possible values, all tried in a second.
        # token 的前 8 位是登录的时刻（十六进制的 Unix 秒），后 24 位是 96 位随机数：续期不换 token，
        # 所以会话的年龄就写在 token 里，见 _born。96 位随机数照样没人猜得出来。
        # The token's first 8 digits are the login's time (Unix seconds in hex), the other 24 are 96 random bits:
        # a refresh keeps the token, so the session's age is in the token itself (see _born). 96 random bits are
        # still far beyond guessing.
        token = '%08x' % int(t) + secrets.token_hex(12)
    # 用户名和组也要合格（和 cookie 的规则一样），不合格的名字根本不写文件。
    # The user and group must pass the cookie's rules too: a bad name writes no file at all.
    parsed = _parse(user + '|' + group + '|' + token) if isinstance(user, str) else None
    if parsed is None:
        raise ValueError('not a valid user, group or token')
    # 会话文件的读、写、删都在 core/file_store.py 里（STORE，见本文件最后）。
    # Reading, writing and deleting session files happens in core/file_store.py (STORE, at the end of this file).
    await STORE.write(parsed, token + ',' + t)
    return user + '|' + group + '|' + token


# 会话的登录时刻，由 token 的前 8 位读出。/ When the session logged in, read from the token's first 8 digits.
def _born(token):
    return int(token[:8], 16)


# 会话太老了吗：登录已超过 SESSION_MAX_AGE 秒（或者登录时刻在将来，这样的 token 不是这里做的）。
# Is the session too old: logged in over SESSION_MAX_AGE seconds ago (or in the future: no token made here).
def _tooOld(token, now):
    return not 0 <= now - _born(token) <= SESSION_MAX_AGE


# 检查客户端带来的 "用户|组|token"，返回状态码：
#   0 有效；1 token 与服务器存的不一致；2 已过期（闲置超过 3600 秒，或者登录已超过 SESSION_MAX_AGE 秒）；
#   4 没有值、格式不对，或者服务器上没有这个会话文件。
# Check the "user|group|token" a client sent. Returns a code:
#   0 valid; 1 the token differs from the stored one; 2 expired (idle over 3600 s, or logged in over SESSION_MAX_AGE s ago);
#   4 no value, wrong shape, or no session file on the server.
async def checkToken(tokenStr):
    parsed = _parse(tokenStr)
    if parsed is None:
        return 4
    # 文件不在、内容不对，都是“没有会话”。/ A missing file and a corrupt one both mean "no session".
    saved = await STORE.read(parsed)
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
    if int(time.time()) - saveTime > SESSION_TTL or _tooOld(saveToken, int(time.time())):
        return 2
    return 0


# 删除会话文件（退出时用），但只删仍然属于这个 token 的那一个：检查和删除之间，
# 另一个工作进程可能刚让同一个账号重新登录。格式不对的值什么也不做。返回是否删掉了。
# Delete the session file (at logout), but only while it still belongs to this
# token: between the check and the delete, another worker may have logged the
# same account in again. A value of the wrong shape does nothing. Returns whether it deleted.
async def clearToken(tokenStr):
    parsed = _parse(tokenStr)
    if parsed is None:
        return False
    return await STORE.removeIf(parsed)


# 续期：保留原来的 token，把时间换成现在，于是会话又能用 3600 秒。名字沿用文章的拼写 updataToken。
# 返回是否续上了。
# Refresh: keep the same token with the current time, so the session lasts
# another 3600 seconds. The name keeps the article's spelling. Returns whether it did.
async def updataToken(tokenStr):
    parsed = _parse(tokenStr)
    if parsed is None:
        return False
    return await STORE.refresh(parsed, str(int(time.time())))


# ---------------------------------------------------------------- login throttling

# 账号和客户端地址分别计数：login_account_<账号的 MD5>、login_address_<地址的 MD5>。
# Account and client address are counted apart: login_account_<MD5>, login_address_<MD5>.
def _loginNames(account, address):
    return ('login_account_' + getMd5(account if isinstance(account, str) else repr(account)),
            'login_address_' + getMd5(address or ''))


# 登录前调用，names 是 loginCounters 给的计数：返回 0 表示可以检查密码（检查完调用 loginEnded）；否则返回还要等的秒数，
# 不必检查密码。哪一个计数要等都要等。允许的尝试都在进行中，就排队等它们结束（最多 LOGIN_QUEUE 秒），而不是拒绝。
# Call before checking a password, with the counters loginCounters gave: 0 means go ahead (then call loginEnded
# with how it went); otherwise the seconds to wait, and no password is checked. Any counter can make it wait.
# While the attempts allowed are all under way, queue for them to end (LOGIN_QUEUE seconds at most), not refuse.
async def holdLogin(names):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LOGIN_QUEUE
    while True:
        wait = await STORE.holdLogin(names, int(time.time()))
        if wait is not None:
            return wait
        if loop.time() > deadline:  # still queued: try again in a second
            return 1
        await asyncio.sleep(0.02)


# 一次尝试结束了：只有检查过的错密码才算一次失败；密码对了，这些计数都从头计数。
# An attempt has ended: only a checked, wrong password is a failure; a right one starts these counters from zero.
async def loginEnded(names, succeeded):
    await STORE.loginEnded(names, not succeeded, int(time.time()))


# ---------------------------------------------------------------- device cookies
# 设备 cookie 是 "账号|随机数|签名"，签名是 HMAC-SHA256(密钥, "账号|随机数")：只有服务器做得出来，也改不了里面的账号。
# A device cookie is "account|nonce|signature", the signature HMAC-SHA256(key, "account|nonce"): only the server
# can make one, and nobody can change the account in it.
DEVICE = re.compile(r'([A-Za-z0-9_.-]{1,64})\|([0-9a-f]{16})\|([0-9a-f]{64})')


async def _signature(account, nonce):
    key = (DEVICE_SECRET or await STORE.secret()).encode()
    return hmac.new(key, (account + '|' + nonce).encode(), 'sha256').hexdigest()


# 登录成功时调用：给这台设备一个新的设备 cookie。/ After a successful login: a new device cookie for this device.
async def makeDevice(account):
    nonce = secrets.token_hex(8)
    return account + '|' + nonce + '|' + await _signature(account, nonce)


# 这次登录用哪些计数：带着这个账号的有效设备 cookie、这台设备自己的失败还不到 LOGIN_FREE_FAILURES 次，就只用它自己的
# 计数（login_device_<随机数的 MD5>）；否则和以前一样，账号和地址两个计数。交给 holdLogin 和 loginEnded。
# The counters of this login: a valid device cookie for this account, whose device has failed fewer than
# LOGIN_FREE_FAILURES times, uses only its own (login_device_<MD5 of its nonce>); anything else, as before, the
# account's and the address's. For holdLogin and loginEnded.
async def loginCounters(account, address, device):
    found = DEVICE.fullmatch(device) if isinstance(device, str) else None
    if found and found.group(1) == account and hmac.compare_digest(
            found.group(3), await _signature(account, found.group(2))):
        name = 'login_device_' + getMd5(found.group(2))
        if await STORE.failures(name, int(time.time())) < LOGIN_FREE_FAILURES:
            return [name]
    return list(_loginNames(account, address))


# 受保护的请求用：会话有效时返回 {'user', 'group', 'expires'}（到期时刻，Unix 秒），否则 None。
# 这是滑动会话：会话的时间已经是 SESSION_REFRESH 秒以前的，就用文章的 updataToken 把它换成现在，
# 于是一直在用的人不会掉线，闲置超过有效期的人会；一分钟里的很多请求也只写一次。
# For a guarded request: {'user', 'group', 'expires'} (when it ends, Unix
# seconds) for a valid session, otherwise None. This is the sliding session:
# when the session's time is SESSION_REFRESH seconds old or more, the article's
# updataToken moves it to now, so someone active stays logged in and someone
# idle for the lifetime does not; many requests in a minute write it once.
async def openSession(tokenStr):
    parsed = _parse(tokenStr)
    saved = await STORE.read(parsed) if parsed else None
    if saved is None:
        return None
    saveToken, saveTime = saved
    now = int(time.time())
    if not hmac.compare_digest(parsed[2], saveToken) or now - saveTime > SESSION_TTL or _tooOld(saveToken, now):
        return None
    if now - saveTime >= SESSION_REFRESH:
        if not await updataToken(tokenStr):
            return None  # (Redis) logged out at this very moment
        saveTime = now
    # 到期：闲置到期和满 SESSION_MAX_AGE，哪个先到算哪个。/ It ends when idle too long or at SESSION_MAX_AGE, whichever comes first.
    expires = min(saveTime + SESSION_TTL, _born(saveToken) + SESSION_MAX_AGE)
    return {'user': parsed[0], 'group': parsed[1], 'expires': expires}


# 清理会话文件夹（只有文件存储需要，见 core/file_store.py）。返回删掉的文件数。
# Sweep the session folder (only the file store needs it: see core/file_store.py). Returns how many files it deleted.
def sweepTokens():
    return STORE.sweep(int(time.time()))


# ---------------------------------------------------------------- the store

# config.py 的 SESSION_STORE 决定会话放在哪里：file 是上面的会话文件夹（core/file_store.py），
# redis://... 是那个 Redis（core/redis_store.py）。两个存储有同样的方法，会话函数只通过它们存取。
# SESSION_STORE in config.py chooses where sessions live: file is the session
# folder above (core/file_store.py), redis://... that Redis (core/redis_store.py).
# Both stores have the same methods, and the session functions use nothing else.
def makeStore(setting):
    return FileStore(TEMPPATH) if setting == 'file' else RedisStore(setting)


STORE = makeStore(SESSION_STORE)
