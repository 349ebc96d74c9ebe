#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import os
from urllib.parse import urlsplit

from sanic import Sanic
from sanic.exceptions import SanicException
from sanic.log import error_logger

from config import ALLOWED_HOSTS, PREFIX
from core.session import StoreUnavailable
from core.tool import fail

# 现在的 Sanic 要求应用有一个名字，不带名字的 Sanic() 会报错。
# Today's Sanic requires an app name; a bare Sanic() raises an error.
app = Sanic('webapp')

# 登录请求只有几十个字节；默认允许 100 MB 的请求体，没必要。
# A login body is a few dozen bytes; the default limit of 100 MB is far more than needed.
app.config.REQUEST_MAX_SIZE = 64 * 1024

MESSAGES = {400: '参数错误', 401: '没有权限', 404: '接口不存在', 405: '请求方法错误', 413: '请求太大'}


# 每个请求先看 Host 头：不是 ALLOWED_HOSTS（config.py）里的主机名，就回答 400，接口根本不运行。
# Every request first shows its Host header: a name not in ALLOWED_HOSTS (config.py) gets a 400, and no endpoint runs.
@app.on_request
async def knownHost(request):
    if request.route is None:  # 没有这个接口（或者请求头太大）：404（413）不变 / no endpoint (or a head too large): 404 (413) stands
        return
    try:
        name = urlsplit('//' + request.host).hostname
    except ValueError:  # such as '[' alone
        name = None
    if name not in ALLOWED_HOSTS:
        return fail('主机名不被允许', 400, 400)


# 每个回答都告诉浏览器两件事。
#   不许放进别的网站的框架（iframe）里：否则别的网站可以把后台页面叠在自己的按钮下面，骗用户点到“退出”（点击劫持）。
#   CSP 的 frame-ancestors 'none' 是现在的写法，X-Frame-Options: DENY 给老浏览器。
#   接口的回答（里面有 token 或会话）不许存进任何缓存（浏览器的、代理的）：Cache-Control: no-store；
#   Vary: Cookie 说明回答随 cookie 而变，不能把一个人的回答给另一个人。
# Every answer tells the browser two things.
#   Not inside another site's frame (iframe): otherwise another site can lay the back office under buttons of its
#   own and trick the user into clicking "log out" (clickjacking). CSP frame-ancestors 'none' says so today,
#   X-Frame-Options: DENY to older browsers.
#   The API's answers (they carry tokens and sessions) go into no cache, the browser's or a proxy's:
#   Cache-Control: no-store; Vary: Cookie says the answer depends on the cookie, so one person's is never another's.
@app.on_response
async def browserRules(request, response):
    response.headers['Content-Security-Policy'] = "frame-ancestors 'none'"
    response.headers['X-Frame-Options'] = 'DENY'
    if request.path.startswith(PREFIX['be']):
        response.headers['Cache-Control'] = 'no-store'
        response.headers['Vary'] = 'Cookie'


# 服务器自己出了错（5xx）：在服务器日志里写一行原因，后面跟着完整的调用栈，
# 运维的人才知道发生了什么（磁盘满了、会话文件夹只读……）。客户端什么细节也看不到。
# The server itself failed (5xx): write one line with the cause to the server
# log, followed by the traceback, so whoever runs it can see what happened (a
# full disk, a read-only session folder...). The client sees none of it.
def report(request, exception):
    where = '%s %s' % (request.method, request.path) if request is not None else '-'
    error_logger.error('%s failed: %s: %s', where, type(exception).__name__, exception, exc_info=exception)


# 所有错误回答都用统一格式 {"data": ..., "status": ...}，包括不存在的地址和错误的请求方法；
# 意料之外的异常回答 500，但不把内部细节交给客户端，只写进服务器日志。
# Every error answer uses the envelope, unknown paths and wrong methods included;
# an unexpected exception is a 500 that reveals nothing of the inside to the
# client, and is reported in the server log.
#
# 会话服务（Redis）连不上是另一回事：回答 503 {"data": "会话服务暂时不可用", "status": 503}，日志里只写一行原因，
# 不附调用栈（原因已经清楚，Redis 停着的时候每个请求都来一大段调用栈，只会把日志淹没）。
# Redis 回来以后，下一个请求就又正常了，不用重启应用。
# The session store (Redis) being unreachable is another matter: answer 503
# {"data": "会话服务暂时不可用", "status": 503} (session service unavailable for
# now) and write one line with the cause, without the traceback (the cause is
# clear, and a traceback per request while Redis is down would drown the log).
# Once Redis is back, the next request works again: no restart needed.
@app.exception(Exception)
async def answerInEnvelope(request, exception):
    if isinstance(exception, StoreUnavailable):
        error_logger.error('%s %s failed: %s', request.method, request.path, exception)
        return fail('会话服务暂时不可用', 503, 503)
    status = exception.status_code if isinstance(exception, SanicException) else 500
    if status >= 500:
        report(request, exception)
    return fail(MESSAGES.get(status, '服务器错误' if status >= 500 else '请求错误'), status, status)


# 一页纸的后台：浏览器打开 http://127.0.0.1:8000/admin/ 就是登录表单、“我是谁”和退出按钮。
# 页面和接口同一个来源（同一主机、同一端口），所以浏览器会把 session cookie 带给接口。
# The one-page back office: http://127.0.0.1:8000/admin/ in a browser shows a
# login form, "who am I" and a logout button. The page and the API share one
# origin (host and port), so the browser sends the session cookie to the API.
PAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'static', 'admin.html')
app.static('/admin/', PAGE, name='admin')
