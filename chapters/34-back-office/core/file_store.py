#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import hmac
import logging
import os
import re
import secrets
import tempfile

from config import GROUPS, LOGIN_FORGET, SESSION_TTL
from core import file_counters as counters
from core.tool import getMd5

# 写进服务器日志（和 Sanic 自己的错误信息在一起）。/ Writes to the server log, next to Sanic's own errors.
log = logging.getLogger('sanic.error')

# O_NOFOLLOW：文件如果是指向别处的符号链接，就拒绝打开。/ O_NOFOLLOW: refuse a file that is a symbolic link.
NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)
TOKEN = re.compile(r'[0-9a-f]{32}')

# 会话文件夹里本应用自己的三种文件名：会话文件、登录计数、临时文件（写一半或挪到一边的）。
# 清理只认这三种，别的文件一概不碰。
# The three kinds of names this app writes in the session folder: sessions, login
# counters, and temporary files (half-written or moved aside). The sweep knows
# these three and touches nothing else.
SESSION_NAME = re.compile(r'(%s)_[0-9a-f]{32}' % '|'.join(re.escape(g) for g in GROUPS))
COUNTER_NAME = re.compile(r'login_(account|address|device)_[0-9a-f]{32}')
TEMP_NAME = re.compile(r'\.tmp-[a-z0-9_]{8}')


# 会话放在一个文件夹里：每个用户、每个组一个文件 <组>_<用户名的 MD5>，内容 "token,时间"。
# 会话函数（core/session.py）只通过几个 async 方法存取（read、write、removeIf、refresh、holdLogin、
# loginEnded）；文件用不着等，但别的存储（Redis）要等网络。以 _ 开头的方法是这个存储自己的事。
# Sessions in a folder: one file per user and group, <group>_<MD5 of the user
# name>, holding "token,time". The session functions (core/session.py) use only a
# few async methods (read, write, removeIf, refresh, holdLogin, loginEnded);
# files need no waiting, but another store (Redis) waits for the network. Methods
# starting with _ are this store's own business.
class FileStore:
    def __init__(self, folder):
        # 只有运行服务器的用户能读写这个文件夹。/ Only the user running the server may read or write the folder.
        self.folder = os.path.join(folder, '')
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        # 写、续期、删除会话时锁住这个文件（读不用锁）：续期在锁里先确认文件里还是这个 token 才写，
        # 所以另一个进程刚退出（删了文件）或又登录了（换了 token）的会话，续期不会把旧的写回去。
        # Writing, refreshing and deleting a session hold this file locked (reading does not): a refresh makes sure,
        # inside the lock, that the file still holds this token before it writes, so it never writes back a
        # session another worker has just logged out (deleted) or logged in again (another token).
        self.lockPath = self.folder + 'session_lock'

    # parsed 是会话函数检查过的 (用户名, 组, token)，所以路径一定在会话文件夹里面。
    # parsed is the (user, group, token) the session functions have checked, so the path is always inside the folder.
    def path(self, parsed):
        return self.folder + parsed[1] + '_' + getMd5(parsed[0])

    async def read(self, parsed):
        return self._read(self.path(parsed))

    async def write(self, parsed, value):
        with counters.locked(self.lockPath):
            self._write(self.path(parsed), value)

    # 删除会话，但只删仍然属于这个 token 的那一个。/ Delete the session, but only while it still holds this token.
    async def removeIf(self, parsed):
        with counters.locked(self.lockPath):
            return self._removeIf(self.path(parsed), lambda saved: hmac.compare_digest(saved[0], parsed[2]))

    # 续期：文件里还是这个 token，才把时间换成 now 重写文件；刚退出或又登录了就什么也不做。返回是否续上了。
    # Refresh: only while the file still holds this token, rewrite it with the time now; just logged out or logged
    # in again: do nothing. Returns whether it did.
    async def refresh(self, parsed, now):
        path = self.path(parsed)
        with counters.locked(self.lockPath):
            saved = self._read(path)
            if saved is None or not hmac.compare_digest(saved[0], parsed[2]):
                return False
            self._write(path, parsed[2] + ',' + now)
        return True

    # 登录计数（core/file_counters.py）：这些计数哪个还要等，就返回要等的秒数；允许的尝试都在进行中，就返回 None；
    # 都可以，就各记一次进行中的尝试，返回 0。尝试结束时才记下失败（或者从头计数）。
    # Login counters (core/file_counters.py): the seconds to wait if any says so; None if the attempts allowed
    # are all under way; else one more under way on each, and 0. A failure is recorded (or the count started
    # again) only when the attempt ends.
    async def holdLogin(self, names, now):
        return counters.start([self.folder + name for name in names], now)

    async def loginEnded(self, names, failed, now):
        for name in names:
            counters.end(self.folder + name, now, failed)

    # 一个计数现在的失败次数（设备 cookie 还可信吗）。/ A counter's failures now (is a device still trusted?).
    async def failures(self, name, now):
        return counters.failures(self.folder + name, now)

    # 签设备 cookie 的密钥：第一次要用时生成，存在会话文件夹里（0600）；几个进程同时生成时，先放进去的算数。
    # The key that signs device cookies: made when first needed, kept in the session folder (0600); the first in place wins.
    async def secret(self):
        path = self.folder + 'device_secret'
        if not os.path.exists(path):
            if not os.path.isdir(self.folder):
                self._recreateFolder()
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix='.tmp-')
            with os.fdopen(fd, 'w') as f:
                f.write(secrets.token_hex(32))
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                os.remove(tmp)
        with open(path) as f:
            return f.read().strip()

    # 读会话文件，得到 (token, 时间)。文件不在、是空的、内容不对、是符号链接，都当作没有会话：返回 None，不抛异常。
    # os.open/os.read/os.close 只是三个系统调用：每个请求都要做，比 open() 构造带缓冲的文本读取器省得多。
    # Read a session file as (token, time). Missing, empty, corrupt or a symbolic
    # link all mean "no session": None, never an exception. os.open/os.read/os.close
    # are three system calls; every request does this, and open() would build a buffered text reader each time.
    def _read(self, path):
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
    def _recreateFolder(self):
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        log.warning('session folder %s was missing: created it again', self.folder)

    # 先写到同一文件夹里的临时文件（只有自己能读写，0600），再一步改名替换：
    # 别的进程要么读到旧内容，要么读到新内容，永远不会读到写了一半的文件。
    # Write to a temporary file in the same folder (private to us, 0600), then rename
    # it over the old one in one step: another process reads either the old content
    # or the new, never a half-written file.
    def _write(self, path, text):
        try:
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix='.tmp-')
        except FileNotFoundError:
            self._recreateFolder()
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix='.tmp-')
        try:
            with os.fdopen(fd, 'w') as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise

    # 把 path 挪到一边（改名是原子的：同一时刻只有一个进程能挪走它），挪走之后再读它：
    # 正是要删的那个就删掉；不是（别的进程刚登录，写了新的）就放回原处，除非原处已经又有了更新的文件。
    # 这样，检查和删除之间别的进程写下的新会话，永远不会被误删。返回是否删掉了。
    # Move path aside (a rename is atomic: only one process can move it away), then
    # read what was moved: delete it if it is the one meant; otherwise (another
    # worker has just logged in and written a new one) put it back, unless a newer
    # file is in its place by now. So a session written by another worker between
    # the check and the delete is never deleted. Returns whether it deleted.
    def _removeIf(self, path, isTheOne):
        aside = self.folder + '.tmp-' + secrets.token_hex(4)
        try:
            os.rename(path, aside)
        except OSError:
            return False  # already gone (another worker took it), or not ours to move
        saved = self._read(aside)
        if saved is not None and isTheOne(saved):
            _discard(aside)
            return True
        try:
            os.link(aside, path)  # put it back; fails if a newer file is there now, which then stays
            os.remove(aside)
        except (FileExistsError, FileNotFoundError):
            _discard(aside)
        return False

    # 清理：删掉过期的会话文件、很久没用的登录计数，以及被丢下的临时文件，免得文件夹无限变大。
    # 只删能证明是自己的文件：名字符合上面三种之一，而且会话和计数的内容格式也对；别的文件一个都不碰。
    # 它在后台线程里运行（见 api/be.py），不占用任何请求。返回删掉的文件数。
    # Sweep: delete expired sessions, login counters unused for long, and abandoned
    # temporary files, so the folder does not grow without bound. Only files it can
    # prove are its own: a name of one of the three kinds above and, for sessions and
    # counters, content of the right format; every other file is left alone. It runs
    # in a background thread (see api/be.py), never during a request. Returns how many files it deleted.
    def sweep(self, now):
        removed = 0
        with os.scandir(self.folder) as entries:
            for entry in entries:
                try:
                    removed += self._sweepOne(entry, now)
                except OSError:
                    pass  # another process removed or replaced it meanwhile
        return removed

    # 一个文件：能证明是自己的、而且过期了，才删。返回 1（删了）或 0。
    # One file: deleted only when it is provably ours and out of date. Returns 1 (deleted) or 0.
    def _sweepOne(self, entry, now):
        if not entry.is_file(follow_symlinks=False):
            return 0
        name = entry.name
        if SESSION_NAME.fullmatch(name):
            saved = self._read(entry.path)
            if saved is None or now - saved[1] <= SESSION_TTL:
                return 0
            with counters.locked(self.lockPath):
                return int(self._removeIf(entry.path, lambda saved: now - saved[1] > SESSION_TTL))
        if COUNTER_NAME.fullmatch(name):
            saved = counters.readCounter(entry.path)
            if saved is None or now - max(saved[1], saved[3]) <= LOGIN_FORGET:
                return 0
            return int(counters.forget(entry.path, now))
        if TEMP_NAME.fullmatch(name) and now - entry.stat(follow_symlinks=False).st_mtime > SESSION_TTL:
            os.remove(entry.path)
            return 1
        return 0


def _discard(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
