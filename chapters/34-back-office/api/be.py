#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import asyncio
import hmac
from collections import deque
from contextlib import asynccontextmanager
from concurrent.futures import ThreadPoolExecutor
from functools import wraps
from urllib.parse import urlsplit

from sanic import Blueprint
from sanic.exceptions import BadRequest
from sanic.log import error_logger

from config import COOKIE_SECURE, DEVICE_DAYS, MANAGER, PASSWORD_QUEUE, PASSWORD_THREADS, PREFIX, SESSION_STORE, \
    SWEEP_EVERY
# 会话函数是 async 的（会话存储可能要经过网络），所以下面调用它们时都要 await。
# The session functions are async (the session store may be over the network): await them.
from core.session import makeToken, checkToken, clearToken, updataToken, sweepTokens, holdLogin, loginEnded, \
    openSession, loginCounters, makeDevice
from core.tool import ok, fail, checkParam, checkPassword, utf8

# 后台接口的蓝图，所有地址都以 /api/v1/be/ 开头。
# The back-office blueprint: every URL starts with /api/v1/be/.
bp = Blueprint('be', url_prefix=PREFIX['be'])

# session cookie 的属性：HttpOnly（网页脚本读不到）、SameSite=Lax（别的网站发起的
# POST 不带它）、Secure 由配置决定（https 部署时打开）。设置和删除用同一套属性。
# The session cookie's attributes: HttpOnly (page scripts cannot read it),
# SameSite=Lax (not sent with POSTs started by other sites), Secure from the
# configuration (on for https). Setting and deleting use the same attributes.
COOKIE = {'path': '/', 'httponly': True, 'secure': COOKIE_SECURE, 'samesite': 'Lax'}
# 设备 cookie：同样的属性，只发给登录接口，DEVICE_DAYS 天有效（见 core/session.py 的 loginCounters）。
# The device cookie: the same attributes, sent to the login only, for DEVICE_DAYS days (loginCounters in core/session.py).
DEVICE = dict(COOKIE, path=PREFIX['be'] + 'login', max_age=DEVICE_DAYS * 24 * 3600)

# 算密码哈希的线程。PBKDF2 计算时会释放 GIL，所以它在线程里算的时候，事件循环照常回答别的请求。
# The threads that compute password hashes. PBKDF2 releases the GIL while it
# works, so the event loop keeps answering other requests meanwhile.
HASHING = ThreadPoolExecutor(PASSWORD_THREADS, thread_name_prefix='password-hash')


# 删除 cookie：同名、同属性、空值、立即过期（Max-Age=0）。
# Delete the cookie: same name and attributes, empty value, expiring at once (Max-Age=0).
def dropCookie(res):
    res.add_cookie('session', '', max_age=0, **COOKIE)
    return res


# 在哈希线程里检查密码，等它算完；等待期间事件循环是空闲的。
# Check the password in a hashing thread and wait for it; the event loop is free meanwhile.
async def passwordMatches(password, stored):
    return await asyncio.get_running_loop().run_in_executor(HASHING, checkPassword, password, stored)


# 等哈希线程的登录排成两队：带着可信设备 cookie 的（主人）排在前面，而且不限人数；别的最多 PASSWORD_QUEUE 个，
# 队满了（full）登录立刻回答 503。于是一群地址同时猜密码，主人也只等正在算的那一个哈希，而不是整条队。
# Logins waiting for a hashing thread form two queues: those with a trusted device cookie (the owner) go first,
# however many; the others, PASSWORD_QUEUE at most: when full, a login is answered 503 at once. So while many
# addresses guess at once, the owner waits for the hash being computed, not for the whole queue.
class HashQueue:
    def __init__(self, threads, limit):
        self.free, self.limit = threads, limit
        self.first, self.rest = deque(), deque()

    # 线程都在忙，排队的也满了。/ Every thread is busy and the queue is full.
    def full(self):
        return not self.free and len(self.rest) >= self.limit

    # async with HASHES.turn(trusted): 轮到这个登录用哈希线程了。/ this login's turn for a hashing thread.
    @asynccontextmanager
    async def turn(self, trusted):
        if self.free:
            self.free -= 1
        else:
            queue, turn = self.first if trusted else self.rest, asyncio.get_running_loop().create_future()
            queue.append(turn)
            try:
                await turn
            except asyncio.CancelledError:  # the client went away while it waited
                if turn in queue:
                    queue.remove(turn)
                elif not turn.cancelled():
                    self.next()  # its turn had come: hand it on
                raise
        try:
            yield
        finally:
            self.next()

    # 一个哈希算完了：线程交给排在最前面的登录，没有人等就空着。/ A hash is done: the thread goes to the first in line.
    def next(self):
        for queue in (self.first, self.rest):
            while queue:
                turn = queue.popleft()
                if not turn.done():  # (done: cancelled, its client gone)
                    turn.set_result(None)
                    return
        self.free += 1


HASHES = HashQueue(PASSWORD_THREADS, PASSWORD_QUEUE)


# 登录 / Log in
@bp.route('login', methods=['POST'])
async def login(request):
    # 别的网站上的网页不能替用户登录（把浏览器登进攻击者的账号，即登录 CSRF），也不能借登录失败删掉用户的 cookie：
    # 跨站的登录请求回答 403，什么也不动。规则和退出一样（crossSite，见下面）。
    # A page on another site can neither log the browser in (into an account of the attacker's: login CSRF) nor
    # delete the user's cookie through a failed login: a cross-site login is answered 403 and changes nothing.
    # The rule is the logout's (crossSite, below).
    if crossSite(request):
        return fail('拒绝跨站请求', 403, 403)

    # request.json 不看 Content-Type（curl -d 也行），但请求体不是 JSON 时会抛出
    # BadRequest。这里把它当成“参数错误”，而不是让服务器回答 500。
    # request.json ignores the Content-Type (curl -d works), but raises BadRequest
    # when the body is not JSON. Treat that as bad parameters instead of a 500.
    try:
        dat = request.json
    except BadRequest:
        dat = None
    manageData = MANAGER

    # 请求体必须是包含 account 和 password 的 JSON 对象。
    # 登录失败时顺便删掉客户端旧的 session cookie。
    # The body must be a JSON object with account and password.
    # A failed login also deletes any old session cookie on the client.
    if not checkParam(['account', 'password'], dat):
        return dropCookie(fail('参数错误', 400))

    # 限速：这个账号或这个地址最近失败太多次，就立刻回答 429，Retry-After 说要等几秒；不检查密码，
    # 所以被限速的尝试几乎不花服务器的时间。
    # Throttling: too many recent failures of this account or address are answered 429 at once, with the
    # seconds to wait in Retry-After; no password is checked, so a throttled attempt costs almost nothing.
    account, password = dat['account'], dat['password']
    address = request.client_ip
    counters = await loginCounters(account, address, request.cookies.get('device'))
    # 服务器忙：等哈希的登录已经排满了，立刻回答 503，一秒后再试。可信设备（只有自己的计数）不受影响。
    # The server is busy: the queue for the hash is full, so answer 503 at once; try again in a second.
    # A trusted device (counted on its own) is never turned away.
    trusted = counters[0].startswith('login_device_')
    if not trusted and HASHES.full():
        res = fail('服务器忙，请稍后再试', 503, 503)
        res.headers['Retry-After'] = '1'
        return res
    wait = await holdLogin(counters)
    if wait:
        res = fail('登录尝试过多，请稍后再试', 429, 429)
        res.headers['Retry-After'] = str(wait)
        return dropCookie(res)

    # 账号和密码都用与内容无关的时间比较，而且两个都比完再下结论：
    # 回答的快慢不会透露账号对不对、密码对了几位。JSON 能带来的任何字符串都能比（utf8 见 core/tool.py）。
    # Account and password are both compared in constant time, and both before
    # deciding: how fast the answer comes reveals neither. Any string JSON can carry compares (utf8: core/tool.py).
    rightAccount = isinstance(account, str) and hmac.compare_digest(
        utf8(account), manageData['username'].encode('utf-8'))
    rightPassword = False
    try:
        async with HASHES.turn(trusted):
            rightPassword = await passwordMatches(password, manageData['password'])
    finally:
        # 这次尝试结束了（出错、客户端断开也算结束）：错了记一次失败，对了这个账号和这个地址都从头计数。
        # The attempt has ended (an error or a client gone ends it too): wrong is one failure; right starts both again.
        await loginEnded(counters, rightAccount and rightPassword)
    if not (rightAccount and rightPassword):
        return dropCookie(fail('用户名或密码错误', 400))

    # 登录成功：生成会话，token 既放在回答里，也放进 session cookie（属性见上面的 COOKIE）。
    # Logged in: a new session; the token goes in the answer and in the session cookie (attributes: COOKIE above).
    token = await makeToken(account, 'manage')
    res = ok(token)
    res.add_cookie('session', token, **COOKIE)
    res.add_cookie('device', await makeDevice(account), **DEVICE)
    return res


# 这个请求是不是别的网站发起的？浏览器会在 Sec-Fetch-Site 里说明（same-origin：本站；none：
# 用户自己输入地址或用书签）；老浏览器没有这个头时，看 Origin 或 Referer 的主机是否就是本站。
# 什么都没带的请求（curl、脚本）不算跨站。
# Was this request started by another site? Browsers say so in Sec-Fetch-Site
# (same-origin: this site; none: typed in or a bookmark); for older browsers
# without it, the host of Origin or Referer must be this site's. A request with
# none of them (curl, a script) is not cross-site.
def crossSite(request):
    site = request.headers.get('sec-fetch-site')
    if site is not None:
        return site not in ('same-origin', 'none')
    source = request.headers.get('origin') or request.headers.get('referer')
    if source:
        return urlsplit(source).netloc != request.host
    return False


# 退出 / Log out
@bp.route('logout', methods=['GET'])
async def logout(request):
    # 别的网站上的一个链接不能让用户退出：跨站的退出请求回答“退出失败”，会话和 cookie 都不动。
    # A link on another site cannot log the user out: a cross-site logout is
    # answered "退出失败", and neither the session nor the cookie is touched.
    if crossSite(request):
        return fail('退出失败', 401, 401)

    # 用 .get 取 cookie 得到字符串（或 None）；用 request.cookies['session'] 会得到列表。
    # .get gives the cookie as a string (or None); request.cookies['session'] gives a list.
    token = request.cookies.get('session')
    res = fail('退出失败', 401, 401)
    if await checkToken(token) == 0:
        await clearToken(token)
        res = ok('退出成功')
    # 无论成功失败，都让客户端删掉 session cookie。
    # Success or not, the client deletes its session cookie.
    return dropCookie(res)


# 守卫：给需要登录的后台接口加上 @needSession。它读 session cookie，会话无效就直接回答
# HTTP 401 {"data": "没有权限", "status": 401}，接口本身根本不会运行；有效就顺便续期，
# 并把会话放进 request.ctx.session 交给接口。登录和退出不加它：登录本来就没有会话，退出有自己的回答。
# The guard: put @needSession on every back-office endpoint that needs a login.
# It reads the session cookie; without a valid session it answers HTTP 401
# {"data": "没有权限", "status": 401} and the endpoint never runs; with one, it
# refreshes it and hands it to the endpoint as request.ctx.session. Login and
# logout go without it: login has no session yet, and logout keeps its own answers.
def needSession(handler):
    @wraps(handler)
    async def guarded(request, *args, **kwargs):
        session = await openSession(request.cookies.get('session'))
        if session is None:
            return fail('没有权限', 401, 401)
        request.ctx.session = session
        return await handler(request, *args, **kwargs)
    return guarded


# 我是谁：当前会话的用户、组和到期时刻。/ Who am I: the session's user, group, and when it ends.
@bp.route('session', methods=['GET'])
@needSession
async def whoAmI(request):
    return ok(request.ctx.session)


# 每个工作进程启动后，每隔 SWEEP_EVERY 秒在后台线程里清理一次会话文件夹，请求不必等它。
# 会话放在 Redis 里时不用清理：过期的键 Redis 自己删掉。
# Once each worker has started, it sweeps the session folder every SWEEP_EVERY
# seconds in a background thread; no request waits for it. With sessions in
# Redis there is nothing to sweep: Redis deletes expired keys itself.
@bp.after_server_start
async def startSweeping(app):
    if SESSION_STORE == 'file':
        app.add_task(sweepForever(), name='session-sweep')


async def sweepForever():
    while True:
        await asyncio.sleep(SWEEP_EVERY)
        try:
            await asyncio.to_thread(sweepTokens)
        except Exception:
            error_logger.exception('sweeping the session folder failed')
