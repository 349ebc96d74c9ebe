#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import hmac
import os
import re
import secrets
import tempfile

from core.tool import getMd5

# O_NOFOLLOW：文件如果是指向别处的符号链接，就拒绝打开。/ O_NOFOLLOW: refuse a file that is a symbolic link.
NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)
TOKEN = re.compile(r'[0-9a-f]{32}')


# 会话放在一个文件夹里：每个用户、每个组一个文件 <组>_<用户名的 MD5>，内容 "token,时间"。
# 几个工作进程同时读写同一个文件也不会出错：写是原子的（先写临时文件再改名），读从不抛异常。
# Sessions in a folder: one file per user and group, <group>_<MD5 of the user
# name>, holding "token,time". Several workers reading and writing one file at
# once is safe: a write is atomic (a temporary file, then a rename), and a read never raises.
class FileStore:
    def __init__(self, folder):
        # 只有运行服务器的用户能读写这个文件夹。/ Only the user running the server may read or write the folder.
        self.folder = os.path.join(folder, '')
        os.makedirs(self.folder, mode=0o700, exist_ok=True)

    # parsed 是会话函数检查过的 (用户名, 组, token)，所以路径一定在会话文件夹里面。
    # parsed is the (user, group, token) the session functions have checked, so the path is always inside the folder.
    def path(self, parsed):
        return self.folder + parsed[1] + '_' + getMd5(parsed[0])

    def read(self, parsed):
        return self._read(self.path(parsed))

    def write(self, parsed, value):
        self._write(self.path(parsed), value)

    # 删除会话，但只删仍然属于这个 token 的那一个。/ Delete the session, but only while it still holds this token.
    def removeIf(self, parsed):
        return self._removeIf(self.path(parsed), lambda saved: hmac.compare_digest(saved[0], parsed[2]))

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

    # 先写到同一文件夹里的临时文件（只有自己能读写，0600），再一步改名替换：
    # 别的进程要么读到旧内容，要么读到新内容，永远不会读到写了一半的文件。
    # Write to a temporary file in the same folder (private to us, 0600), then rename
    # it over the old one in one step: another process reads either the old content
    # or the new, never a half-written file.
    def _write(self, path, text):
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


def _discard(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
