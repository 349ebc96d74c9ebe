#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import hmac
import logging
import os
import re
import secrets
import tempfile
import time

from config import GROUPS, LOGIN_FORGET, LOGIN_FREE_FAILURES, LOGIN_MAX_WAIT, SESSION_DIR, SESSION_REFRESH, \
    SESSION_STORE, SESSION_TTL
from core.redis_store import RedisStore, StoreUnavailable  # noqa: F401 (StoreUnavailable: for core/app.py)
from core.tool import getMd5

try:
    import fcntl  # Linux, macOS
except ImportError:  # Windows
    fcntl = None
    import msvcrt

# 写进服务器日志（和 Sanic 自己的错误信息在一起）。/ Writes to the server log, next to Sanic's own errors.
log = logging.getLogger('sanic.error')

# 会话文件夹，末尾带路径分隔符，文件名直接接在后面。只有运行服务器的用户能读写它。
# The session folder, ending with a path separator so a file name can follow it.
# Only the user running the server may read or write it.
TEMPPATH = os.path.join(SESSION_DIR, '')
os.makedirs(TEMPPATH, mode=0o700, exist_ok=True)
NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)

# cookie 里三段各自的样子：用户名只许字母、数字和 _ . -，最长 64；token 是 32 位小写十六进制。
# What each part of a cookie may look like: a user name of letters, digits and
# _ . - (at most 64), and a token of 32 lower-case hex digits.
USER = re.compile(r'[A-Za-z0-9_.-]{1,64}')
TOKEN = re.compile(r'[0-9a-f]{32}')

# 会话文件夹里本应用自己的三种文件名：会话文件、登录计数、临时文件（写一半或挪到一边的）。
# 清理只认这三种，别的文件一概不碰。
# The three kinds of names this app writes in the session folder: sessions, login
# counters, and temporary files (half-written or moved aside). The sweep knows
# these three and touches nothing else.
SESSION_NAME = re.compile(r'(%s)_[0-9a-f]{32}' % '|'.join(re.escape(g) for g in GROUPS))
COUNTER_NAME = re.compile(r'login_(account|address)_[0-9a-f]{32}')
TEMP_NAME = re.compile(r'\.tmp-[a-z0-9_]{8}')


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
        fd = os.open(path, os.O_RDONLY | NOFOLLOW)
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


# 会话文件夹不见了（被人删掉）：重新建立它，并在日志里记一行。
# The session folder is gone (someone deleted it): make it again, and say so in the log.
def _recreateFolder():
    os.makedirs(TEMPPATH, mode=0o700, exist_ok=True)
    log.warning('session folder %s was missing: created it again', TEMPPATH)


# 先写到同一文件夹里的临时文件，再一步改名替换：别的进程要么读到旧内容，要么读到新内容，
# 永远不会读到写了一半的文件。
# Write to a temporary file in the same folder, then rename it over the old one
# in one step: another process reads either the old content or the new, never a half-written file.
def _write(path, text):
    try:
        fd, tmp = tempfile.mkstemp(dir=TEMPPATH, prefix='.tmp-')
    except FileNotFoundError:
        _recreateFolder()
        fd, tmp = tempfile.mkstemp(dir=TEMPPATH, prefix='.tmp-')
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# ---------------------------------------------------------------- the session functions
#
# 从这一章起，会话函数都是 async 的：会话可能放在 Redis 里，读写它要经过网络，
# 等 Redis 回答的时候，事件循环应该去回答别的请求，所以调用的地方要 await 它们。
# 文件存储用不着等，但两种存储用同一套函数，api/be.py 不用管会话放在哪里。
# From this chapter on the session functions are async: the session may live in
# Redis, reading and writing it goes over the network, and while Redis answers,
# the event loop should answer other requests; so callers await them. The file
# store has nothing to wait for, but both stores share the same functions, and
# api/be.py need not know where sessions are kept.

# 生成（或沿用）token，存下来，返回 "用户|组|token"。
# token 来自 secrets：128 位密码学安全的随机数，无法由用户名和时间推算出来。
# Make (or reuse) a token, store it, and return "user|group|token". The token
# comes from secrets: 128 random bits from a cryptographically secure source,
# which nobody can rebuild from the user name and the time.
async def makeToken(user, group, token=None):
    t = str(int(time.time()))
    if token is None:
        token = secrets.token_hex(16)
    parsed = _parse(user + '|' + group + '|' + token) if isinstance(user, str) else None
    if parsed is None:
        raise ValueError('not a valid user, group or token')
    await STORE.write(parsed, token + ',' + t)
    return user + '|' + group + '|' + token


# 返回值与文章相同：0 有效；1 token 不对；2 过期；4 没有值、格式不对或没有会话。
# token 用 hmac.compare_digest 比较，耗时与哪一位不同无关。
# The same codes as the article: 0 valid; 1 wrong token; 2 expired; 4 no value,
# wrong shape or no session. The token is compared with hmac.compare_digest,
# whose time does not depend on where the difference is.
async def checkToken(tokenStr):
    parsed = _parse(tokenStr)
    if parsed is None:
        return 4
    saved = await STORE.read(parsed)
    if saved is None:
        return 4
    saveToken, saveTime = saved
    if not hmac.compare_digest(parsed[2], saveToken):
        return 1
    if int(time.time()) - saveTime > SESSION_TTL:
        return 2
    return 0


# 把 path 挪到一边（改名是原子的：同一时刻只有一个进程能挪走它），挪走之后再读它：
# 正是要删的那个就删掉；不是（比如别的进程刚登录，写了新的）就放回原处——除非原处已经又有了更新的文件。
# 这样，检查和删除之间别的进程写下的新会话，永远不会被误删。返回是否删掉了。
# Move path aside (a rename is atomic: only one process can move it away), then
# read what was moved: delete it if it is the one meant; otherwise (another
# worker has just logged in and written a new one) put it back, unless a newer
# file is in its place by now. So a session written by another worker between
# the check and the delete is never deleted. Returns whether it deleted.
def _removeIf(path, read, isTheOne):
    aside = TEMPPATH + '.tmp-' + secrets.token_hex(4)
    try:
        os.rename(path, aside)
    except OSError:
        return False  # already gone (another worker took it), or not ours to move
    saved = read(aside)
    if saved is not None and isTheOne(saved):
        _discard(aside)
        return True
    try:
        os.link(aside, path)  # put it back; fails if a newer file is there now, which then stays
        os.remove(aside)
    except (FileExistsError, FileNotFoundError):
        _discard(aside)
    return False


def _discard(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


# 删除会话（退出时用），但只删仍然属于这个 token 的那一个。格式不对的值什么也不做。
# 返回是否删掉了。
# Delete the session (at logout), but only while it still belongs to this
# token. A value of the wrong shape does nothing. Returns whether it deleted.
async def clearToken(tokenStr):
    parsed = _parse(tokenStr)
    if parsed is None:
        return False
    return await STORE.removeIf(parsed)


# 续期：同一个 token，时间换成现在。名字沿用文章的拼写。返回是否续上了
# （Redis 里，会话刚被退出或者换了 token，就不续）。
# Refresh: same token, current time. The name keeps the article's spelling.
# Returns whether it did (in Redis, not for a session that has just logged out
# or has another token by now).
async def updataToken(tokenStr):
    parsed = _parse(tokenStr)
    if parsed is None:
        return False
    return await STORE.refresh(parsed, str(int(time.time())))


# 受保护的请求用：会话有效时返回 {'user', 'group', 'expires'}（到期时刻，Unix 秒），否则 None。
# 这是滑动会话：会话的时间已经是 SESSION_REFRESH 秒以前的，就用文章的 updataToken 把它换成现在，
# 于是一直在用的人不会掉线，闲置超过有效期的人会；一分钟里的很多请求也只写一次文件。
# For a guarded request: {'user', 'group', 'expires'} (when it ends, Unix
# seconds) for a valid session, otherwise None. This is the sliding session:
# when the session's time is SESSION_REFRESH seconds old or more, the article's
# updataToken moves it to now, so someone active stays logged in and someone
# idle for the lifetime does not; many requests in a minute write the file once.
async def openSession(tokenStr):
    parsed = _parse(tokenStr)
    saved = await STORE.read(parsed) if parsed else None
    if saved is None:
        return None
    saveToken, saveTime = saved
    now = int(time.time())
    if not hmac.compare_digest(parsed[2], saveToken) or now - saveTime > SESSION_TTL:
        return None
    if now - saveTime >= SESSION_REFRESH:
        if not await updataToken(tokenStr):
            return None  # (Redis) logged out at this very moment
        saveTime = now
    return {'user': parsed[0], 'group': parsed[1], 'expires': saveTime + SESSION_TTL}


# ---------------------------------------------------------------- login throttling

# 第 count 次失败之后，下一次尝试要等多少秒：前几次不等，之后 1、2、4……秒，最多 LOGIN_MAX_WAIT。
# How long the next attempt waits after `count` failures: nothing for the first
# few, then 1, 2, 4... seconds, at most LOGIN_MAX_WAIT.
def loginWait(count):
    if count < LOGIN_FREE_FAILURES:
        return 0
    return min(2 ** (count - LOGIN_FREE_FAILURES), LOGIN_MAX_WAIT)


def _lock(fd):
    if fcntl:
        fcntl.flock(fd, fcntl.LOCK_EX)
    else:
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)


def _unlockAndClose(fd):
    if fcntl is None:  # Windows unlocks the locked byte explicitly
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    os.close(fd)  # closing the file releases the lock


COUNTER = re.compile(rb'(\d{10}),(\d{10})')


# 计数文件的内容 "失败次数,时间"（各 10 位数字）→ (次数, 时间)；不是这个格式就是 None。
# A counter file's content "failures,time" (10 digits each) as (failures, time); None when not that format.
def _parseCounter(data):
    found = COUNTER.fullmatch(data)
    return (int(found.group(1)), int(found.group(2))) if found else None


# 不加锁地读一个计数文件（清理时先看一眼用）。/ Read a counter file without locking it (the sweep's first look).
def _readCounter(path):
    try:
        fd = os.open(path, os.O_RDONLY | NOFOLLOW)
        try:
            return _parseCounter(os.read(fd, 32))
        finally:
            os.close(fd)
    except OSError:
        return None


# fd 和 path 还是同一个文件吗？（等锁的时候，文件可能被别的进程删掉、又新建了一个。）
# Are fd and path still the same file? (While waiting for the lock, another
# process may have deleted the file, and perhaps made a new one.)
def _sameFile(fd, path):
    try:
        there = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (there.st_ino, there.st_dev) == (mine.st_ino, mine.st_dev)


# 登录计数放在会话文件夹里，所有工作进程共用：每个名字一个小文件，内容是 "失败次数,最后尝试的时间"。
# 读、改、写之间给文件加锁（flock；Windows 上 msvcrt.locking），两个进程不会同时改同一个计数；
# 进程崩溃时锁由操作系统释放。这些计数只在一台机器上共用；要几台机器共用，就用 Redis（core/redis_store.py）。
# Login counters live in the session folder, shared by every worker: one small
# file per name holding "failures,time of the last attempt". The file is locked
# between read and write (flock; msvcrt.locking on Windows), so two processes
# never change one counter at once; the OS releases the lock if a process dies.
# They are shared on one machine only; for several machines, use Redis
# (core/redis_store.py).
class FolderCounters:
    # 打开并锁住一个计数文件，返回 (fd, path, (次数, 时间) 或 None)；create=False 时文件不在就返回 None。
    # Open and lock a counter file: (fd, path, (failures, time) or None when the
    # content is not a counter); with create=False, None when there is no such file.
    def _open(self, name, create=True):
        path = TEMPPATH + name
        flags = os.O_RDWR | NOFOLLOW | (os.O_CREAT if create else 0)
        while True:
            try:
                fd = os.open(path, flags, 0o600)
            except FileNotFoundError:
                if not create:
                    return None
                _recreateFolder()
                continue
            try:
                _lock(fd)
                if _sameFile(fd, path):
                    return fd, path, _parseCounter(os.read(fd, 32))
            except BaseException:
                os.close(fd)
                raise
            _unlockAndClose(fd)  # deleted while we waited for the lock: start again with the file there now

    def _save(self, fd, count, last):
        data = b'%010d,%010d' % (count, last)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, data)
        os.ftruncate(fd, len(data))

    # 删掉锁着的计数文件。Windows 不能删除打开着的文件，那就把它清零。
    # Delete a counter file while holding its lock. Windows cannot delete an open file: zero it instead.
    def _delete(self, fd, path):
        try:
            os.remove(path)
        except PermissionError:
            self._save(fd, 0, 0)

    # 一次尝试要开始了：该等就返回还要等的秒数（什么也不记）；不用等就先把它记成一次失败，返回 0。
    # An attempt is about to start: if it must wait, return the seconds left (and
    # record nothing); otherwise count it as a failure in advance and return 0.
    def reserve(self, name):
        fd, path, saved = self._open(name)
        try:
            count, last = saved or (0, 0)
            now = int(time.time())
            if now - last > LOGIN_FORGET:
                count = 0
            wait = last + loginWait(count) - now
            if wait > 0:
                return wait
            self._save(fd, count + 1, now)
            return 0
        finally:
            _unlockAndClose(fd)

    # 退回 reserve 记下的那一次（这次尝试根本没有进行）。/ Give back the attempt reserve counted (it never took place).
    def release(self, name):
        fd, path, saved = self._open(name)
        try:
            count, last = saved or (0, 0)
            self._save(fd, max(count - 1, 0), last)
        finally:
            _unlockAndClose(fd)

    # 密码对了：从头计数，文件也删掉。/ The password was right: start from zero, and delete the file.
    def clear(self, name):
        fd, path, _ = self._open(name)
        try:
            self._delete(fd, path)
        finally:
            _unlockAndClose(fd)

    # 清理时调用：LOGIN_FORGET 秒没有尝试过的计数删掉。返回是否删了。
    # For the sweep: delete a counter with no attempt for LOGIN_FORGET seconds. Returns whether it did.
    def forget(self, name, now):
        opened = self._open(name, create=False)
        if opened is None:
            return False
        fd, path, saved = opened
        try:
            if saved is None or now - saved[1] <= LOGIN_FORGET:
                return False
            self._delete(fd, path)
            return True
        finally:
            _unlockAndClose(fd)


COUNTERS = FolderCounters()


def _loginNames(account, address):
    return ('login_account_' + getMd5(account if isinstance(account, str) else repr(account)),
            'login_address_' + getMd5(address or ''))


# 登录前调用：返回 0 表示可以检查密码（这次先算作失败）；否则返回还要等的秒数，不必检查密码。
# 账号和客户端地址分别计数，哪一个要等都要等。
# Call before checking a password: 0 means go ahead (the attempt counts as a
# failure until loginSucceeded); otherwise the seconds to wait, and no password
# is checked. Account and client address are counted apart; either can make it wait.
async def holdLogin(account, address):
    return await STORE.holdLogin(*_loginNames(account, address), int(time.time()))


# 密码正确：这个账号和这个地址都从头计数。/ Right password: the account and the address start from zero.
async def loginSucceeded(account, address):
    await STORE.loginSucceeded(*_loginNames(account, address))


# ---------------------------------------------------------------- the two stores

# 文件存储：第 01–07 章的会话文件夹，文件和内容都和第 07 章一样。会话函数只通过下面这几个方法存取，
# core/redis_store.py 的 RedisStore 有同样的方法。
# The file store: the session folder of chapters 01-07, same files, same
# content as chapter 07. The session functions store and fetch only through
# these methods; RedisStore in core/redis_store.py has the same ones.
class FileStore:
    async def read(self, parsed):
        return _read(parsed[3])

    async def write(self, parsed, value):
        _write(parsed[3], value)

    async def removeIf(self, parsed):
        token = parsed[2]
        return _removeIf(parsed[3], _read, lambda saved: hmac.compare_digest(saved[0], token))

    # 和第 07 章一样，用文章的 makeToken 重写会话文件。/ As in chapter 07: the article's makeToken rewrites the file.
    async def refresh(self, parsed, now):
        await makeToken(parsed[0], parsed[1], parsed[2])
        return True

    async def holdLogin(self, accountName, addressName, now):
        wait = COUNTERS.reserve(accountName)
        if wait:
            return wait
        wait = COUNTERS.reserve(addressName)
        if wait:
            COUNTERS.release(accountName)
        return wait

    async def loginSucceeded(self, accountName, addressName):
        for name in (accountName, addressName):
            COUNTERS.clear(name)


# config.py 的 SESSION_STORE 决定用哪一种：file 是上面的文件夹，redis://... 是那个 Redis。
# SESSION_STORE in config.py chooses: file is the folder above, redis://... that Redis.
def makeStore(setting):
    return FileStore() if setting == 'file' else RedisStore(setting)


STORE = makeStore(SESSION_STORE)


# ---------------------------------------------------------------- the sweep

# 清理：删掉过期的会话文件、很久没用的登录计数，以及被丢下的临时文件，免得文件夹无限变大。
# 只删能证明是自己的文件：名字符合上面三种之一，而且会话和计数的内容格式也对；别的文件一个都不碰。
# 它在后台线程里运行（见 api/be.py），不占用任何请求；Redis 用不着它。返回删掉的文件数。
# Sweep: delete expired sessions, login counters unused for long, and abandoned
# temporary files, so the folder does not grow without bound. Only files it can
# prove are its own: a name of one of the three kinds above and, for sessions and
# counters, content of the right format; every other file is left alone. It runs
# in a background thread (see api/be.py), never during a request; Redis needs
# none of it. Returns how many files it deleted.
def sweepTokens():
    now = int(time.time())
    removed = 0
    with os.scandir(TEMPPATH) as entries:
        for entry in entries:
            try:
                removed += _sweepOne(entry, now)
            except OSError:
                pass  # another process removed or replaced it meanwhile
    return removed


# 一个文件：能证明是自己的、而且过期了，才删。返回 1（删了）或 0。
# One file: deleted only when it is provably ours and out of date. Returns 1 (deleted) or 0.
def _sweepOne(entry, now):
    if not entry.is_file(follow_symlinks=False):
        return 0
    name = entry.name
    if SESSION_NAME.fullmatch(name):
        saved = _read(entry.path)
        if saved is None or now - saved[1] <= SESSION_TTL:
            return 0
        return int(_removeIf(entry.path, _read, lambda saved: now - saved[1] > SESSION_TTL))
    if COUNTER_NAME.fullmatch(name):
        saved = _readCounter(entry.path)
        if saved is None or now - saved[1] <= LOGIN_FORGET:
            return 0
        return int(COUNTERS.forget(name, now))
    if TEMP_NAME.fullmatch(name) and now - entry.stat(follow_symlinks=False).st_mtime > SESSION_TTL:
        os.remove(entry.path)
        return 1
    return 0
