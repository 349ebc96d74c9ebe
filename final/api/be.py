#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import hmac

from sanic import Blueprint
from sanic.exceptions import BadRequest

from config import COOKIE_SECURE, MANAGER, PREFIX
from core.session import makeToken, checkToken, clearToken, updataToken, sweepTokens
from core.tool import ok, fail, checkParam, checkPassword

# 后台接口的蓝图，所有地址都以 /api/v1/be/ 开头。
# The back-office blueprint: every URL starts with /api/v1/be/.
bp = Blueprint('be', url_prefix=PREFIX['be'])

# session cookie 的属性：HttpOnly（网页脚本读不到）、SameSite=Lax（别的网站发起的
# POST 不带它）、Secure 由配置决定（https 部署时打开）。设置和删除用同一套属性。
# The session cookie's attributes: HttpOnly (page scripts cannot read it),
# SameSite=Lax (not sent with POSTs started by other sites), Secure from the
# configuration (on for https). Setting and deleting use the same attributes.
COOKIE = {'path': '/', 'httponly': True, 'secure': COOKIE_SECURE, 'samesite': 'Lax'}


# 删除 cookie：同名、同属性、空值、立即过期（Max-Age=0）。
# Delete the cookie: same name and attributes, empty value, expiring at once (Max-Age=0).
def dropCookie(res):
    res.add_cookie('session', '', max_age=0, **COOKIE)
    return res


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
        return dropCookie(fail('参数错误', 400))

    # 账号和密码都用与内容无关的时间比较，而且两个都比完再下结论：
    # 回答的快慢不会透露账号对不对、密码对了几位。
    # Account and password are both compared in constant time, and both before
    # deciding: how fast the answer comes reveals neither.
    account, password = dat['account'], dat['password']
    rightAccount = isinstance(account, str) and hmac.compare_digest(
        account.encode('utf-8', 'surrogateescape'), manageData['username'].encode('utf-8'))
    rightPassword = checkPassword(password, manageData['password'])
    if not (rightAccount and rightPassword):
        return dropCookie(fail('用户名或密码错误', 400))

    # 登录成功：顺便清理过期的会话文件，再生成新会话。
    # Logged in: sweep expired session files away, then make the new session.
    sweepTokens()
    token = makeToken(account, 'manage')
    res = ok(token)
    res.add_cookie('session', token, **COOKIE)
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
    return dropCookie(res)
