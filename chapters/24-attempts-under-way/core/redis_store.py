#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import asyncio
import re
from functools import wraps

try:
    from asyncio import timeout  # Python 3.11 on
except ImportError:  # Python 3.10: the same, from a package that redis-py brings along there
    from async_timeout import timeout

from config import LOGIN_FORGET, LOGIN_FREE_FAILURES, LOGIN_MAX_WAIT, SESSION_TTL

# 会话放在 Redis 里（config.py 里 SESSION_STORE 是 redis://... 时）。连着同一个 Redis 的每一台机器、每一个工作进程
# 看到的都是同样的会话和同样的登录计数。core/session.py 的会话函数决定规则（token 对不对、过期没有、要不要等），
# 这里只负责存取，而且尽量用 Redis 自己会做的事：
#   键的过期时间（TTL）到了，Redis 自己删掉它：不用清理；
#   几步必须一起做的事（“还是这个 token 才删”“还是这个 token 才续期”“两个计数一起算”）写成 Lua 脚本，
#   在 Redis 里一步做完，别的请求插不进来。
# 键和值 / Keys and values:
#   session:<组>:<用户名>          "<token>,<时间>"   和会话文件的内容一样 / as the session file holds it;
#                                                     TTL = SESSION_TTL + 1 秒 / seconds
#   login:account:<账号的 MD5>      "<失败次数>,<最后一次失败的时间>" / "<failures>,<time of the last failure>";
#   login:address:<地址的 MD5>                         TTL = LOGIN_FORGET + 1 秒 / seconds
# Sessions in Redis (when SESSION_STORE in config.py is redis://...). Every
# machine and every worker connected to the same Redis sees the same sessions
# and the same login counters. The session functions in core/session.py make
# the rules (is the token right, has it expired, must the login wait); this
# only stores, and lets Redis do what it already does:
#   a key whose time to live (TTL) is over is deleted by Redis itself: no sweep;
#   steps that must happen together ("delete only while it is still this token",
#   "refresh only while it is still this token", "count both at once") are Lua
#   scripts, which Redis runs in one step that no other request can get into.
# Only commands that every Redis and Valkey server has: GET, SET ... EX, DEL, EVALSHA (with SCRIPT LOAD).

# 连不上或者不回答，就快点放弃：每次存取最多等 1 秒，请求得到 503，而不是一直挂着。
# （整个存取一个计时器，而不是每次读写套接字各一个：每个请求都要存取会话，计时器也是开销。）
# 连接断了（比如 Redis 重启过）只马上重连一次：Redis 回来以后，下一个请求自己连上，不用重启应用。
# 超时不重试：那条命令也许已经执行了，再执行一次就多记了一次失败登录。
# Give up quickly when Redis cannot be reached or does not answer: each store
# operation waits 1 second at most, and the request gets its 503 instead of
# hanging. (One timer for the whole operation rather than one per socket read
# and write: every request touches the session, and timers cost time too.) A
# connection that has broken (Redis restarted, say) is made again once, at once:
# when Redis is back, the next request connects by itself, no restart needed. A
# timeout is not retried: the command may have run, and running it again would
# count a failed login twice.
TIMEOUT = 1

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

# 登录前：账号和地址两个计数一起看，哪一个还要等，就返回要等的秒数（都不用等就是 0）。什么也不记：
# 对错要等密码检查完才知道（ENDED）。规则和文件存储一样（core/file_counters.py 的 loginWait）：
# 前 ARGV[2] 次失败不用等，之后等 1、2、4……秒，最多 ARGV[3] 秒；ARGV[4] 秒没有失败就从头计数。
# Before a login: look at the account's and the address's counters together and
# return the seconds left if either must still wait (else 0). Nothing is recorded:
# right or wrong is known once the password is checked (ENDED). The file store's
# rules (loginWait in core/file_counters.py): ARGV[2] free failures, then waits of
# 1, 2, 4... seconds, at most ARGV[3]; after ARGV[4] seconds without a failure the count starts again.
HOLD = """
local now, free, top, forget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local most = 0
for i, key in ipairs(KEYS) do
  local count, last = 0, 0
  local saved = redis.call('GET', key)
  if saved then
    local c, l = string.match(saved, '^(%d+),(%d+)$')
    if c then count, last = tonumber(c), tonumber(l) end
  end
  if now - last > forget then count = 0 end
  local wait = 0
  if count >= free then wait = math.min(2 ^ (count - free), top) end
  most = math.max(most, last + wait - now)
end
return most
"""

# 一次尝试结束了：错了（ARGV[2] 是 1），两个计数各记一次失败；对了，两个都删掉（从头计数）。
# An attempt has ended: wrong (ARGV[2] is 1) is one failure on both counters; right deletes both (from zero).
ENDED = """
local now, failed, forget = tonumber(ARGV[1]), ARGV[2] == '1', tonumber(ARGV[3])
for i, key in ipairs(KEYS) do
  if failed then
    local count, last = 0, 0
    local c, l = string.match(redis.call('GET', key) or '', '^(%d+),(%d+)$')
    if c then count, last = tonumber(c), tonumber(l) end
    if now - last > forget then count = 0 end
    redis.call('SET', key, (count + 1) .. ',' .. now, 'EX', forget + 1)
  else
    redis.call('DEL', key)
  end
end
return 0
"""

SAVED = re.compile(r'([0-9a-f]{32}),(\d{1,10})')


class StoreUnavailable(Exception):
    """Redis 连不上（停了、网络断了、太慢）：core/app.py 回答 503。
    The session store cannot be reached (stopped, cut off, too slow): core/app.py answers 503."""


# 每次存取最多 TIMEOUT 秒；Redis 连不上时抛出的各种异常（store.unreachable）和超时，统一换成 StoreUnavailable。
# Each store operation gets TIMEOUT seconds at most; whatever Redis raises when
# it cannot be reached (store.unreachable), and a timeout, become StoreUnavailable.
def reachable(method):
    @wraps(method)
    async def call(store, *args):
        try:
            async with timeout(TIMEOUT):
                return await method(store, *args)
        except asyncio.TimeoutError as exc:
            raise StoreUnavailable('session store unavailable: no answer within %s s' % TIMEOUT) from exc
        except store.unreachable as exc:
            raise StoreUnavailable('session store unavailable: %s' % exc) from exc
    return call


class RedisStore:
    def __init__(self, url):
        # redis 包（redis-py，它的 asyncio 客户端）在这里才导入：默认的文件存储用不着它，导入它要花一两百毫秒。
        # The redis package (redis-py, its asyncio client) is imported only here:
        # the default file store has no use for it, and importing it takes a tenth of a second or two.
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError, TimeoutError as RedisTimeoutError

        self.unreachable = (RedisConnectionError, RedisTimeoutError, OSError)
        # decode_responses：读回来的是 str，不是 bytes。/ decode_responses: answers come back as str, not bytes.
        self.redis = Redis.from_url(url, decode_responses=True, socket_connect_timeout=TIMEOUT, socket_timeout=None,
                                    retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)))
        self.clearScript = self.redis.register_script(CLEAR)
        self.refreshScript = self.redis.register_script(REFRESH)
        self.holdScript = self.redis.register_script(HOLD)
        self.endedScript = self.redis.register_script(ENDED)

    # parsed 是 core/session.py 的 _parse 拆出来的 (用户名, 组, token)；用户名已经检查过，可以直接放进键名。
    # parsed is what _parse in core/session.py split: (user, group, token);
    # the user name has been checked, so it can go into the key as it is.
    @staticmethod
    def key(parsed):
        return 'session:%s:%s' % (parsed[1], parsed[0])

    # (token, 时间)，没有这个会话就是 None。/ (token, time), or None when there is no such session.
    @reachable
    async def read(self, parsed):
        found = SAVED.fullmatch(await self.redis.get(self.key(parsed)) or '')
        return (found.group(1), int(found.group(2))) if found else None

    # 写下会话，SESSION_TTL 秒（多留 1 秒，让会话函数自己判断边界上的那一秒）后 Redis 自己删掉它。
    # Store the session; Redis deletes it after SESSION_TTL seconds (one more, so
    # that at the very edge the session functions' own check decides).
    @reachable
    async def write(self, parsed, value):
        await self.redis.set(self.key(parsed), value, ex=SESSION_TTL + 1)

    @reachable
    async def removeIf(self, parsed):
        return await self.clearScript(keys=[self.key(parsed)], args=[parsed[2]]) == 1

    @reachable
    async def refresh(self, parsed, now):
        return await self.refreshScript(keys=[self.key(parsed)], args=[parsed[2], now, SESSION_TTL + 1]) == 1

    # 计数的名字是会话文件夹里的文件名 login_account_<MD5>，键名把 _ 换成 : 就是 login:account:<MD5>。
    # Counter names are the session folder's file names, login_account_<MD5>; the key is the same with : for _.
    @reachable
    async def holdLogin(self, accountName, addressName, now):
        keys = [accountName.replace('_', ':'), addressName.replace('_', ':')]
        return await self.holdScript(keys=keys, args=[now, LOGIN_FREE_FAILURES, LOGIN_MAX_WAIT, LOGIN_FORGET])

    @reachable
    async def loginEnded(self, accountName, addressName, failed, now):
        keys = [accountName.replace('_', ':'), addressName.replace('_', ':')]
        await self.endedScript(keys=keys, args=[now, int(failed), LOGIN_FORGET])

    async def close(self):
        await self.redis.aclose()
