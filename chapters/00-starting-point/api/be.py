#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
from sanic import Blueprint
from sanic.exceptions import BadRequest

from config import PREFIX
from core.tool import ok, fail, checkParam

# 后台接口的蓝图，所有地址都以 /api/v1/be/ 开头。
# The back-office blueprint: every URL starts with /api/v1/be/.
bp = Blueprint('be', url_prefix=PREFIX['be'])


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
    manageData = {'username': 'admin', 'password': '123456'}

    # 请求体必须是包含 account 和 password 的 JSON 对象。
    # The body must be a JSON object with account and password.
    if not checkParam(['account', 'password'], dat):
        return fail('参数错误', 400)

    if dat['account'] != manageData['username'] or dat['password'] != manageData['password']:
        return fail('用户名或密码错误', 400)

    return ok('登录成功')
