#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import asyncio
import re
import secrets
from functools import wraps

try:
    from asyncio import timeout  # Python 3.11 on
except ImportError:  # Python 3.10: the same, from a package that redis-py brings along there
    from async_timeout import timeout

from config import LOGIN_FORGET, LOGIN_FREE_FAILURES, LOGIN_MAX_WAIT, LOGIN_STALE, SESSION_TTL

# 会话放在 Redis 里（config.py 里 SESSION_STORE 是 redis://... 时）。连着同一个 Redis 的每一台机器、每一个工作进程
# 看到的都是同样的会话和同样的登录计数。core/session.py 的会话函数决定规则（token 对不对、过期没有、要不要等），
# 这里只负责存取，而且尽量用 Redis 自己会做的事：
#   键的过期时间（TTL）到了，Redis 自己删掉它：不用清理；
#   几步必须一起做的事（“还是这个 token 才删”“还是这个 token 才续期”“两个计数一起算”）写成 Lua 脚本，
#   在 Redis 里一步做完，别的请求插不进来。
# 键和值 / Keys and values:
#   session:<组>:<用户名>          "<token>,<时间>"   和会话文件的内容一样 / as the session file holds it;
#                                                     TTL = SESSION_TTL + 1 秒 / seconds
#   login:account:<账号的 MD5>      "<失败次数>,<最后失败的时间>,<进行中>,<开始的时间>" /
#                                   "<failures>,<last failure>,<under way>,<when one last started>";
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

# 每个工作进程最多 POOL 条到 Redis 的连接。同时在等 Redis 的请求比这还多时，多出来的排队等一条空出来的连接
# （也算在上面的 TIMEOUT 秒里），而不是马上失败：Redis 好好的，就不该回答 503。
# At most POOL connections to Redis per worker. When more requests than that wait for Redis at once, the others
# queue for a connection to come free (within the TIMEOUT above) instead of failing at once: while Redis is well,
# no request should get a 503.
POOL = 50

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

# 计数的值是 "失败次数,最后失败的时间,进行中,开始的时间"，和文件存储一样（core/file_counters.py）。
# 两个脚本都先这样读出四个数：ARGV[4] 秒没有失败就从头计数，ARGV[5] 秒前开始、没有结束的尝试不再算。
# A counter's value is "failures,last failure,under way,when one last started", as in the file store
# (core/file_counters.py). Both scripts read its four numbers first: failures are forgotten after ARGV[4]
# quiet seconds, attempts never ended after ARGV[5].
READ = """
local now, forget, stale = tonumber(ARGV[1]), tonumber(ARGV[4]), tonumber(ARGV[5])
local function read(key)
  local c, l, r, s = string.match(redis.call('GET', key) or '', '^(%d+),(%d+),(%d+),(%d+)$')
  c, l, r, s = tonumber(c or 0), tonumber(l or 0), tonumber(r or 0), tonumber(s or 0)
  if now - l > forget then c = 0 end
  if now - s > stale then r = 0 end
  return c, l, r, s
end
"""

# 登录前：两个计数一起看。哪一个还要等，就返回要等的秒数；允许的尝试都在进行中（前 ARGV[2] 次失败之内，
# 剩几次就几次，之后一次），就返回 -1（稍后再问）；都可以，两边各记一次进行中，返回 0。
# 等待的规则和文件存储一样（loginWait）：前 ARGV[2] 次失败不用等，之后 1、2、4……秒，最多 ARGV[3] 秒。
# Before a login: both counters together. The seconds left if either must wait; -1 (ask again soon) if the
# attempts allowed are all under way (the free failures left, then one); else one more under way on both,
# and 0. The file store's waits (loginWait): ARGV[2] free failures, then 1, 2, 4... seconds, at most ARGV[3].
HOLD = READ + """
local free, top = tonumber(ARGV[2]), tonumber(ARGV[3])
local state = {}
for i, key in ipairs(KEYS) do
  local c, l, r, s = read(key)
  local wait = 0
  if c >= free then wait = math.min(2 ^ (c - free), top) end
  if l + wait - now > 0 then return l + wait - now end
  if r >= math.max(free - c, 1) then return -1 end
  state[i] = {c, l, r}
end
for i, key in ipairs(KEYS) do
  local c, l, r = unpack(state[i])
  redis.call('SET', key, c .. ',' .. l .. ',' .. (r + 1) .. ',' .. now, 'EX', forget + 1)
end
return 0
"""

# 一次尝试结束了：进行中的少一次；错了（ARGV[2] 是 1）各记一次失败，对了从头计数（没有进行中的就删掉）。
# An attempt has ended: one fewer under way; wrong (ARGV[2] is 1) is one failure on both, right starts from
# zero (deleting a counter with nothing under way).
ENDED = READ + """
local failed = ARGV[2] == '1'
for i, key in ipairs(KEYS) do
  local c, l, r, s = read(key)
  r = math.max(r - 1, 0)
  if failed then c, l = c + 1, now elseif r == 0 then c = -1 else c, l = 0, 0 end
  if c < 0 then redis.call('DEL', key) else redis.call('SET', key, c .. ',' .. l .. ',' .. r .. ',' .. s, 'EX', forget + 1) end
end
return 0
"""

SAVED = re.compile(r'([0-9a-f]{32}),(\d{1,10})')


class StoreUnavailable(Exception):
    """Redis 连不上（停了、网络断了、太慢）或者满了：core/app.py 回答 503。
    The session store cannot be reached (stopped, cut off, too slow) or is full: core/app.py answers 503."""


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
        except store.full as exc:  # maxmemory reached, and Redis evicts nothing (noeviction)
            raise StoreUnavailable('session store full: %s' % exc) from exc
    return call


class RedisStore:
    def __init__(self, url):
        # redis 包（redis-py，它的 asyncio 客户端）在这里才导入：默认的文件存储用不着它，导入它要花一两百毫秒。
        # The redis package (redis-py, its asyncio client) is imported only here:
        # the default file store has no use for it, and importing it takes a tenth of a second or two.
        from redis.asyncio import BlockingConnectionPool, Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError, OutOfMemoryError, \
            TimeoutError as RedisTimeoutError

        self.unreachable = (RedisConnectionError, RedisTimeoutError, OSError)
        # Redis 的内存用到了 maxmemory，又不许删别的键（noeviction）：写入都回答 OOM。也回答 503，日志里一行。
        # Redis has used its maxmemory and may evict nothing (noeviction): every write is refused with OOM. A 503
        # too, with one log line.
        self.full = OutOfMemoryError
        # decode_responses：读回来的是 str，不是 bytes。BlockingConnectionPool：连接用完了就等（见上面的 POOL）。
        # decode_responses: answers come back as str, not bytes. BlockingConnectionPool: wait when all are in use (POOL).
        self.redis = Redis.from_pool(BlockingConnectionPool.from_url(
            url, max_connections=POOL, timeout=TIMEOUT, decode_responses=True, socket_connect_timeout=TIMEOUT,
            socket_timeout=None, retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))))
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
    async def holdLogin(self, names, now):
        keys = [name.replace('_', ':') for name in names]
        wait = await self.holdScript(keys=keys, args=[now, LOGIN_FREE_FAILURES, LOGIN_MAX_WAIT, LOGIN_FORGET,
                                                      LOGIN_STALE])
        return None if wait < 0 else wait

    @reachable
    async def loginEnded(self, names, failed, now):
        keys = [name.replace('_', ':') for name in names]
        await self.endedScript(keys=keys, args=[now, int(failed), 0, LOGIN_FORGET, LOGIN_STALE])

    # 一个计数现在的失败次数（设备 cookie 还可信吗）。/ A counter's failures now (is a device still trusted?).
    @reachable
    async def failures(self, name, now):
        found = re.match(r'(\d+),(\d+)', await self.redis.get(name.replace('_', ':')) or '')
        return int(found.group(1)) if found and now - int(found.group(2)) <= LOGIN_FORGET else 0

    # 签设备 cookie 的密钥：第一次要用时生成，存在 Redis 里，连着这个 Redis 的每台机器都用它（SET NX：先放进去的算数）。
    # The key that signs device cookies: made when first needed and kept in Redis for every machine (SET NX: the first wins).
    @reachable
    async def secret(self):
        await self.redis.set('device:secret', secrets.token_hex(32), nx=True)
        return await self.redis.get('device:secret')

    async def close(self):
        await self.redis.aclose()
