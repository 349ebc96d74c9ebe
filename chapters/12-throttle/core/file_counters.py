#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import os
import re

from config import LOGIN_FORGET, LOGIN_FREE_FAILURES, LOGIN_MAX_WAIT

# 登录计数放在会话文件夹里，所有工作进程共用：每个名字一个小文件，内容是 "失败次数,最后尝试的时间"（各 10 位数字）。
# Login counters live in the session folder, shared by every worker: one small
# file per name holding "failures,time of the last attempt" (10 digits each).

NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)
COUNTER = re.compile(rb'(\d{10}),(\d{10})')


# 第 count 次失败之后要等几秒：前几次不等，之后 1、2、4……秒，最多 LOGIN_MAX_WAIT。
# Seconds to wait after `count` failures: none for the first few, then 1, 2, 4..., at most LOGIN_MAX_WAIT.
def loginWait(count):
    if count < LOGIN_FREE_FAILURES:
        return 0
    return min(2 ** (count - LOGIN_FREE_FAILURES), LOGIN_MAX_WAIT)


# 一次尝试要开始了：该等就返回要等的秒数，什么也不记；不用等就先记成一次失败，返回 0。
# An attempt is starting: the seconds to wait (nothing recorded), or 0 with the attempt counted as a failure in advance.
def reserve(path, now):
    fd, saved = _open(path)
    try:
        count, last = saved or (0, 0)
        if now - last > LOGIN_FORGET:
            count = 0
        wait = last + loginWait(count) - now
        if wait > 0:
            return wait
        _save(fd, count + 1, now)
        return 0
    finally:
        os.close(fd)


# 退回 reserve 记下的那一次（这次尝试根本没有进行）。/ Give back the attempt reserve counted (it never took place).
def release(path):
    fd, saved = _open(path)
    try:
        count, last = saved or (0, 0)
        _save(fd, max(count - 1, 0), last)
    finally:
        os.close(fd)


# 密码对了：从头计数，文件也删掉。/ The password was right: start from zero, and delete the file.
def clear(path):
    fd, _ = _open(path)
    try:
        _delete(fd, path)
    finally:
        os.close(fd)


# 打开一个计数文件（没有就新建，只有自己能读写）：(fd, (次数, 时间) 或 None)。
# Open a counter file (made if missing, private to us): (fd, (failures, time) or None).
def _open(path):
    fd = os.open(path, os.O_RDWR | NOFOLLOW | os.O_CREAT, 0o600)
    return fd, _parse(os.read(fd, 32))


def _parse(data):
    found = COUNTER.fullmatch(data)
    return (int(found.group(1)), int(found.group(2))) if found else None


def _save(fd, count, last):
    data = b'%010d,%010d' % (count, last)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)
    os.ftruncate(fd, len(data))


# 删掉计数文件。Windows 不能删除打开着的文件，那就把它清零。
# Delete a counter file. Windows cannot delete an open file: zero it instead.
def _delete(fd, path):
    try:
        os.remove(path)
    except PermissionError:
        _save(fd, 0, 0)
