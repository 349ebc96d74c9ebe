#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import logging
import os
import re
from contextlib import contextmanager

from config import LOGIN_FORGET, LOGIN_FREE_FAILURES, LOGIN_MAX_WAIT, LOGIN_STALE

try:
    import fcntl  # Linux, macOS
except ImportError:  # Windows
    fcntl = None
    import msvcrt

# 登录计数放在会话文件夹里，所有工作进程共用：每个名字一个小文件，内容是 "失败次数,最后失败的时间,进行中,开始的时间"。
# 读、改、写之间给文件加锁（flock；Windows 上 msvcrt.locking），两个进程不会同时改同一个计数；
# 进程崩溃时锁由操作系统释放。这些计数只在一台机器上共用。
# Login counters live in the session folder, shared by every worker: one small
# file per name holding "failures,last failure,attempts under way,when one last started". The
# file is locked between read and write (flock; msvcrt.locking on Windows), so two
# processes never change one counter at once; the OS releases the lock if a
# process dies. They are shared on one machine only.

log = logging.getLogger('sanic.error')
NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)
COUNTER = re.compile(rb'(\d{10}),(\d{10}),(\d{4}),(\d{10})')


# 第 count 次失败之后要等几秒：前几次不等，之后 1、2、4……秒，最多 LOGIN_MAX_WAIT。
# Seconds to wait after `count` failures: none for the first few, then 1, 2, 4..., at most LOGIN_MAX_WAIT.
def loginWait(count):
    if count < LOGIN_FREE_FAILURES:
        return 0
    return min(2 ** (count - LOGIN_FREE_FAILURES), LOGIN_MAX_WAIT)


# 同时可以进行几次尝试：剩下几次免费失败就几次，用完以后每次等过只能一次；同时开始的猜测也超不过失败计数的允许。
# Attempts allowed under way at once: the free failures left, then one after each wait; guesses started together
# can never add up to more than the failure count allows.
def allowed(count):
    return LOGIN_FREE_FAILURES - count if count < LOGIN_FREE_FAILURES else 1


# 一次尝试要开始了（账号和地址的计数一起看，总按这个顺序加锁，两个进程不会互相等死）：哪个该等就返回要等的秒数；
# 允许的都在进行中就返回 None（稍后再问）；否则两边各记一次进行中，返回 0。
# An attempt starts (the account's and the address's counters together, always locked in this order, so no two
# processes wait for each other): the seconds to wait if either must; None if the attempts allowed are all
# under way (ask again soon); else one more under way on each, and 0.
def start(paths, now):
    opened, recorded = [_open(path) for path in paths], False
    try:
        states = [_current(saved, now) for _, saved in opened]
        wait = max(last + loginWait(count) - now for count, last, running, since in states)
        if wait > 0:
            return wait
        if any(running >= allowed(count) for count, last, running, since in states):
            return None
        for (fd, _), (count, last, running, since) in zip(opened, states):
            _save(fd, count, last, running + 1, now)
        recorded = True
        return 0
    finally:
        for (fd, saved), path in zip(opened, paths):
            if saved is None and not recorded:  # (made just now, for nothing: a refused attempt leaves no file)
                _delete(fd, path)
            _unlockAndClose(fd)


# 一次尝试结束了，这时才知道对错：错了记一次失败；对了从头计数（没有别的在进行中，文件也删掉）。
# An attempt has ended, and only now is it known: wrong is one failure; right starts from zero (no file if idle).
def end(path, now, failed):
    fd, saved = _open(path)
    try:
        count, last, running, since = _current(saved, now)
        if failed:
            _save(fd, count + 1, now, max(running - 1, 0), since)
        elif running > 1:
            _save(fd, 0, 0, running - 1, since)
        else:
            _delete(fd, path)
    finally:
        _unlockAndClose(fd)


# 现在的四个数：LOGIN_FORGET 秒没有失败就从头计数；LOGIN_STALE 秒前开始、没有结束的尝试不再算（进程死了）。
# Now's four numbers: failures are forgotten after LOGIN_FORGET quiet seconds, attempts never ended after LOGIN_STALE.
def _current(saved, now):
    count, last, running, since = saved or (0, 0, 0, 0)
    return (0 if now - last > LOGIN_FORGET else count), last, (0 if now - since > LOGIN_STALE else running), since


# 现在的失败次数（文件不在就是 0，也不会因此新建文件）。/ The failures now (0 without a file, and none is made).
def failures(path, now):
    opened = _open(path, create=False)
    if opened is None:
        return 0
    fd, saved = opened
    _unlockAndClose(fd)
    return _current(saved, now)[0]


# 清理时调用：LOGIN_FORGET 秒没有失败过的计数删掉。返回是否删了。
# For the sweep: delete a counter with no failure for LOGIN_FORGET seconds. Returns whether it did.
def forget(path, now):
    opened = _open(path, create=False)
    if opened is None:
        return False
    fd, saved = opened
    try:
        if saved is None or now - max(saved[1], saved[3]) <= LOGIN_FORGET:
            return False
        _delete(fd, path)
        return True
    finally:
        _unlockAndClose(fd)


# 不加锁地读一个计数（清理时先看一眼用）：它的四个数，不是计数就是 None。
# Read a counter without locking it (the sweep's first look): its four numbers, or None when it is no counter.
def readCounter(path):
    try:
        fd = os.open(path, os.O_RDONLY | NOFOLLOW)
        try:
            return _parse(os.read(fd, 64))
        finally:
            os.close(fd)
    except OSError:
        return None


# 打开并锁住一个计数文件（没有就新建，只有自己能读写）：(fd, 四个数或 None)；
# create=False 时文件不在就返回 None。会话文件夹不见了，就重新建立它（日志里记一行）。
# Open and lock a counter file (made if missing, private to us): (fd, its four numbers or None);
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
                return fd, _parse(os.read(fd, 64))
        except BaseException:
            os.close(fd)
            raise
        _unlockAndClose(fd)  # deleted while we waited for the lock: start again with the file there now


# with locked(path): 锁住 path（没有就新建）直到 with 结束；会话文件用它（core/file_store.py）。
# with locked(path): hold path locked (made if missing) for the with block; the session files use it (core/file_store.py).
@contextmanager
def locked(path):
    fd, _ = _open(path)
    try:
        yield
    finally:
        _unlockAndClose(fd)


def _parse(data):
    found = COUNTER.fullmatch(data)
    return tuple(int(n) for n in found.groups()) if found else None


def _save(fd, count, last, running, since):
    data = b'%010d,%010d,%04d,%010d' % (count, last, running, since)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)
    os.ftruncate(fd, len(data))


# 删掉锁着的计数文件。Windows 不能删除打开着的文件，那就把它清零。
# Delete a counter file while holding its lock. Windows cannot delete an open file: zero it instead.
def _delete(fd, path):
    try:
        os.remove(path)
    except PermissionError:
        _save(fd, 0, 0, 0, 0)


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
