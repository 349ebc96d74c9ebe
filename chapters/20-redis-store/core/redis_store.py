#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import re

from config import SESSION_TTL

# 会话放在 Redis 里（config.py 里 SESSION_STORE 是 redis://... 时）。连着同一个 Redis 的每一台机器、每一个工作进程
# 看到的都是同样的会话。core/session.py 的会话函数决定规则（token 对不对、过期没有），
# 这里只负责存取，而且尽量用 Redis 自己会做的事：
#   键的过期时间（TTL）到了，Redis 自己删掉它：不用清理；
#   几步必须一起做的事（“还是这个 token 才删”“还是这个 token 才续期”）写成 Lua 脚本，
#   在 Redis 里一步做完，别的请求插不进来。
# 键和值 / Keys and values:
#   session:<组>:<用户名>          "<token>,<时间>"   和会话文件的内容一样 / as the session file holds it;
#                                                     TTL = SESSION_TTL + 1 秒 / seconds
# Sessions in Redis (when SESSION_STORE in config.py is redis://...). Every
# machine and every worker connected to the same Redis sees the same sessions.
# The session functions in core/session.py make the rules (is the token right,
# has it expired); this only stores, and lets Redis do what it already does:
#   a key whose time to live (TTL) is over is deleted by Redis itself: no sweep;
#   steps that must happen together ("delete only while it is still this token",
#   "refresh only while it is still this token") are Lua scripts, which Redis
#   runs in one step that no other request can get into.
# Only commands that every Redis and Valkey server has: GET, SET ... EX, DEL, EVALSHA (with SCRIPT LOAD).

# 退出：键里存的还是这个 token 才删（另一台机器刚登录写下的新会话不会被删）。返回删了几个键（0 或 1）。
# Logout: delete the key only while it still holds this token (a new session
# another machine has just written stays). Returns the number of keys deleted (0 or 1).
CLEAR = """
local saved = redis.call('GET', KEYS[1])
if saved and string.sub(saved, 1, 33) == ARGV[1] .. ',' then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# 续期：键里存的还是这个 token，才把时间换成现在、TTL 重新算起。刚退出（键已删）或者又登录了（token 变了），
# 就什么也不做、返回 0：续期永远不会把退出了的会话写回去。
# Refresh: only while the key still holds this token, store the new time and
# start the TTL again. Just logged out (no key) or logged in again (another
# token): change nothing, return 0. A refresh never writes back a session that
# has logged out.
REFRESH = """
local saved = redis.call('GET', KEYS[1])
if saved and string.sub(saved, 1, 33) == ARGV[1] .. ',' then
  redis.call('SET', KEYS[1], ARGV[1] .. ',' .. ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""

SAVED = re.compile(r'([0-9a-f]{32}),(\d{1,10})')


class RedisStore:
    def __init__(self, url):
        # redis 包（redis-py，它的 asyncio 客户端）在这里才导入：默认的文件存储用不着它，导入它要花一两百毫秒。
        # The redis package (redis-py, its asyncio client) is imported only here:
        # the default file store has no use for it, and importing it takes a tenth of a second or two.
        from redis.asyncio import Redis

        # decode_responses：读回来的是 str，不是 bytes。/ decode_responses: answers come back as str, not bytes.
        self.redis = Redis.from_url(url, decode_responses=True)
        self.clearScript = self.redis.register_script(CLEAR)
        self.refreshScript = self.redis.register_script(REFRESH)

    # parsed 是 core/session.py 的 _parse 拆出来的 (用户名, 组, token)；用户名已经检查过，可以直接放进键名。
    # parsed is what _parse in core/session.py split: (user, group, token);
    # the user name has been checked, so it can go into the key as it is.
    @staticmethod
    def key(parsed):
        return 'session:%s:%s' % (parsed[1], parsed[0])

    # (token, 时间)，没有这个会话就是 None。/ (token, time), or None when there is no such session.
    async def read(self, parsed):
        found = SAVED.fullmatch(await self.redis.get(self.key(parsed)) or '')
        return (found.group(1), int(found.group(2))) if found else None

    # 写下会话，SESSION_TTL 秒（多留 1 秒，让会话函数自己判断边界上的那一秒）后 Redis 自己删掉它。
    # Store the session; Redis deletes it after SESSION_TTL seconds (one more, so
    # that at the very edge the session functions' own check decides).
    async def write(self, parsed, value):
        await self.redis.set(self.key(parsed), value, ex=SESSION_TTL + 1)

    async def removeIf(self, parsed):
        return await self.clearScript(keys=[self.key(parsed)], args=[parsed[2]]) == 1

    async def refresh(self, parsed, now):
        return await self.refreshScript(keys=[self.key(parsed)], args=[parsed[2], now, SESSION_TTL + 1]) == 1

    async def close(self):
        await self.redis.aclose()
