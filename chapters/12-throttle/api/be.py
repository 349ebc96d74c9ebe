#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import asyncio
import hmac
from concurrent.futures import ThreadPoolExecutor

from sanic import Blueprint
from sanic.exceptions import BadRequest

from config import MANAGER, PASSWORD_THREADS, PREFIX
from core.session import makeToken, checkToken, clearToken, updataToken, holdLogin, loginSucceeded
from core.tool import ok, fail, checkParam, checkPassword

# 后台接口的蓝图，所有地址都以 /api/v1/be/ 开头。
# The back-office blueprint: every URL starts with /api/v1/be/.
bp = Blueprint('be', url_prefix=PREFIX['be'])

# 算密码哈希的线程。PBKDF2 计算时会释放 GIL，所以它在线程里算的时候，事件循环照常回答别的请求。
# The threads that compute password hashes. PBKDF2 releases the GIL while it
# works, so the event loop keeps answering other requests meanwhile.
HASHING = ThreadPoolExecutor(PASSWORD_THREADS, thread_name_prefix='password-hash')


# 在哈希线程里检查密码，等它算完；等待期间事件循环是空闲的。
# Check the password in a hashing thread and wait for it; the event loop is free meanwhile.
async def passwordMatches(password, stored):
    return await asyncio.get_running_loop().run_in_executor(HASHING, checkPassword, password, stored)


# 登录 / Log in
@bp.route('login', methods=['POST'])
async def login(request):
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
        res = fail('参数错误', 400)
        res.cookies.delete_cookie('session', secure=False)
        return res

    # 限速：这个账号或这个地址最近失败太多次，就立刻回答 429，Retry-After 说要等几秒；不检查密码，
    # 所以被限速的尝试几乎不花服务器的时间。
    # Throttling: too many recent failures of this account or address are answered 429 at once, with the
    # seconds to wait in Retry-After; no password is checked, so a throttled attempt costs almost nothing.
    account, password = dat['account'], dat['password']
    address = request.client_ip
    wait = holdLogin(account, address)
    if wait:
        res = fail('登录尝试过多，请稍后再试', 429, 429)
        res.headers['Retry-After'] = str(wait)
        res.cookies.delete_cookie('session', secure=False)
        return res

    # 账号和密码都用与内容无关的时间比较，而且两个都比完再下结论：
    # 回答的快慢不会透露账号对不对、密码对了几位。
    # Account and password are both compared in constant time, and both before
    # deciding: how fast the answer comes reveals neither.
    rightAccount = isinstance(account, str) and hmac.compare_digest(
        account.encode('utf-8', 'surrogateescape'), manageData['username'].encode('utf-8'))
    rightPassword = await passwordMatches(password, manageData['password'])
    if not (rightAccount and rightPassword):
        res = fail('用户名或密码错误', 400)
        res.cookies.delete_cookie('session', secure=False)
        return res

    # 密码对了：这个账号和这个地址的失败计数清零。/ The right password: the account's and the address's counts start again.
    loginSucceeded(account, address)

    # 登录成功：生成会话，token 既放在回答里，也放进 session cookie。
    # 文章那种 res.cookies['session'] = token 的写法在今天的 Sanic 里会抛 TypeError，
    # 要用 add_cookie。它默认加 Secure（只走 https），而 http 上的 curl、浏览器、
    # httpx 都不会把 Secure cookie 送回来，所以像文章一样只设 HttpOnly：
    # secure=False，samesite=None（不加 SameSite 属性）。
    # Logged in: make a session; the token goes both in the answer and in the
    # session cookie. The article's res.cookies['session'] = token raises TypeError
    # on today's Sanic, so use add_cookie. It adds Secure by default (https only),
    # and clients on plain http never send a Secure cookie back, so set only
    # HttpOnly as the article did: secure=False, samesite=None (no SameSite).
    token = makeToken(account, 'manage')
    res = ok(token)
    res.add_cookie('session', token, httponly=True, secure=False, samesite=None)
    return res


# 退出 / Log out
@bp.route('logout', methods=['GET'])
async def logout(request):
    # 用 .get 取 cookie 得到字符串（或 None）；用 request.cookies['session'] 会得到列表。
    # .get gives the cookie as a string (or None); request.cookies['session'] gives a list.
    token = request.cookies.get('session')
    res = fail('退出失败', 401, 401)
    if checkToken(token) == 0:
        clearToken(token)
        res = ok('退出成功')
    # 无论成功失败，都让客户端删掉 session cookie。
    # Success or not, the client deletes its session cookie.
    res.cookies.delete_cookie('session', secure=False)
    return res
