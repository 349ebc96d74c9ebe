#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import logging
import os
import re

from config import LOGIN_FORGET, LOGIN_FREE_FAILURES, LOGIN_MAX_WAIT

try:
    import fcntl  # Linux, macOS
except ImportError:  # Windows
    fcntl = None
    import msvcrt

# 登录计数放在会话文件夹里，所有工作进程共用：每个名字一个小文件，内容是 "失败次数,最后失败的时间"（各 10 位数字）。
# 读、改、写之间给文件加锁（flock；Windows 上 msvcrt.locking），两个进程不会同时改同一个计数；
# 进程崩溃时锁由操作系统释放。这些计数只在一台机器上共用。
# Login counters live in the session folder, shared by every worker: one small
# file per name holding "failures,time of the last failure" (10 digits each). The
# file is locked between read and write (flock; msvcrt.locking on Windows), so two
# processes never change one counter at once; the OS releases the lock if a
# process dies. They are shared on one machine only.

log = logging.getLogger('sanic.error')
NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)
COUNTER = re.compile(rb'(\d{10}),(\d{10})')


# 第 count 次失败之后要等几秒：前几次不等，之后 1、2、4……秒，最多 LOGIN_MAX_WAIT。
# Seconds to wait after `count` failures: none for the first few, then 1, 2, 4..., at most LOGIN_MAX_WAIT.
def loginWait(count):
    if count < LOGIN_FREE_FAILURES:
        return 0
    return min(2 ** (count - LOGIN_FREE_FAILURES), LOGIN_MAX_WAIT)


# 一次尝试要开始了：还要等几秒（0：不用等）。什么也不记：还不知道这次是对是错。
# An attempt is starting: the seconds it must still wait (0: none). Nothing is recorded: right or wrong is not known yet.
def waitFor(path, now):
    opened = _open(path, create=False)  # (no file: no failure yet, and none is written now)
    if opened is None:
        return 0
    fd, saved = opened
    try:
        count, last = saved or (0, 0)
        if now - last > LOGIN_FORGET:
            count = 0
        return max(last + loginWait(count) - now, 0)
    finally:
        _unlockAndClose(fd)


# 一次尝试结束了，这时才知道对错：错了记一次失败；对了从头计数，文件也删掉。
# An attempt has ended, and only now is it known: wrong is one failure; right starts from zero, and deletes the file.
def end(path, now, failed):
    fd, saved = _open(path)
    try:
        count, last = saved or (0, 0)
        if not failed:
            _delete(fd, path)
        else:
            _save(fd, (0 if now - last > LOGIN_FORGET else count) + 1, now)
    finally:
        _unlockAndClose(fd)


# 清理时调用：LOGIN_FORGET 秒没有失败过的计数删掉。返回是否删了。
# For the sweep: delete a counter with no failure for LOGIN_FORGET seconds. Returns whether it did.
def forget(path, now):
    opened = _open(path, create=False)
    if opened is None:
        return False
    fd, saved = opened
    try:
        if saved is None or now - saved[1] <= LOGIN_FORGET:
            return False
        _delete(fd, path)
        return True
    finally:
        _unlockAndClose(fd)


# 不加锁地读一个计数（清理时先看一眼用）：(次数, 时间)，不是计数就是 None。
# Read a counter without locking it (the sweep's first look): (failures, time), or None when it is no counter.
def readCounter(path):
    try:
        fd = os.open(path, os.O_RDONLY | NOFOLLOW)
        try:
            return _parse(os.read(fd, 32))
        finally:
            os.close(fd)
    except OSError:
        return None


# 打开并锁住一个计数文件（没有就新建，只有自己能读写）：(fd, (次数, 时间) 或 None)；
# create=False 时文件不在就返回 None。会话文件夹不见了，就重新建立它（日志里记一行）。
# Open and lock a counter file (made if missing, private to us): (fd, (failures, time) or None);
# with create=False, None when there is no such file. A missing session folder is made again (one log line).
def _open(path, create=True):
    while True:
        try:
            fd = os.open(path, os.O_RDWR | NOFOLLOW | (os.O_CREAT if create else 0), 0o600)
        except FileNotFoundError:
            if not create:
                return None
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            log.warning('session folder %s was missing: created it again', os.path.dirname(path))
            continue
        try:
            _lock(fd)
            if _sameFile(fd, path):
                return fd, _parse(os.read(fd, 32))
        except BaseException:
            os.close(fd)
            raise
        _unlockAndClose(fd)  # deleted while we waited for the lock: start again with the file there now


def _parse(data):
    found = COUNTER.fullmatch(data)
    return (int(found.group(1)), int(found.group(2))) if found else None


def _save(fd, count, last):
    data = b'%010d,%010d' % (count, last)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)
    os.ftruncate(fd, len(data))


# 删掉锁着的计数文件。Windows 不能删除打开着的文件，那就把它清零。
# Delete a counter file while holding its lock. Windows cannot delete an open file: zero it instead.
def _delete(fd, path):
    try:
        os.remove(path)
    except PermissionError:
        _save(fd, 0, 0)


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
