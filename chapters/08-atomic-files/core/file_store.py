#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import os
import re
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

    # 删除会话文件；已经不在也没关系。/ Delete the session file; one that is already gone is fine.
    def remove(self, parsed):
        try:
            os.remove(self.path(parsed))
        except FileNotFoundError:
            pass

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
