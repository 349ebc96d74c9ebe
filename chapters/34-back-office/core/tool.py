#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import hashlib
import hmac
import secrets
import sys

from sanic.response import json

from config import PASSWORD_ITERATIONS


# 成功：HTTP 200，{"data": data, "status": 0}
# Success: HTTP 200, {"data": data, "status": 0}
def ok(data):
    # ensure_ascii=False：终端里直接显示中文，而不是 \uXXXX 转义。
    # ensure_ascii=False: the terminal shows Chinese as it is, not as \uXXXX escapes.
    return json({'data': data, 'status': 0}, ensure_ascii=False)


# 失败：status 借用 HTTP 状态码的含义（400 参数错误、401 没有权限……），
# HTTP 状态码默认仍是 200，除非调用者另外指定。
# Failure: status borrows an HTTP code's meaning (400 bad parameters, 401 no
# permission...); the HTTP status itself stays 200 unless the caller says otherwise.
def fail(data, statusCode=1, httpCode=200):
    return json({'data': data, 'status': statusCode}, status=httpCode, ensure_ascii=False)


# 参数检查：params 是必需字段名的列表，req 是请求数据；
# 只有 req 是字典并且包含全部字段时才返回 True。
# Parameter check: params lists the required field names, req is the request
# data; True only when req is a dict that has every one of them.
def checkParam(params, req):
    if not isinstance(params, list) or not isinstance(req, dict):
        return False
    return all(name in req for name in params)


# 任何字符串都能变成 UTF-8 字节，不抛异常。cookie 里非 UTF-8 的字节（Python 读成 \udc80-\udcff）还原成原来的字节
# （surrogateescape）；JSON 里还能写出单独的代理字符，比如 "\ud800"，严格的 UTF-8 编码不了它，就把它本身编码（surrogatepass）。
# Any string becomes UTF-8 bytes, never an exception. Non-UTF-8 bytes of a cookie (which Python reads as
# \udc80-\udcff) become their original bytes again (surrogateescape); JSON can also carry a lone surrogate such
# as "\ud800", which strict UTF-8 cannot encode: it is encoded as it is (surrogatepass).
def utf8(text):
    try:
        return text.encode('utf-8', 'surrogateescape')
    except UnicodeEncodeError:
        return text.encode('utf-8', 'surrogatepass')


# 取字符串（按 UTF-8 编码，见 utf8）或字节串的 MD5，返回 32 位十六进制字符串。
# MD5 of a string (as UTF-8, see utf8) or of bytes, as 32 hex characters.
def getMd5(source):
    if isinstance(source, str):
        source = utf8(source)
    return hashlib.md5(source).hexdigest()


# 密码的加盐慢哈希（PBKDF2-SHA256）：pbkdf2_sha256$迭代次数$盐$哈希。
# 盐让相同的密码得到不同的哈希，迭代让每次猜测都很贵。
# A salted, slow hash of a password (PBKDF2-SHA256): pbkdf2_sha256$iterations$salt$hash.
# The salt makes equal passwords hash differently; the iterations make every guess expensive.
def hashPassword(password, iterations=None):
    iterations = iterations or PASSWORD_ITERATIONS
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac('sha256', password.encode('utf-8'), salt, iterations)
    return 'pbkdf2_sha256$%d$%s$%s' % (iterations, salt.hex(), digest.hex())


# 检查密码是否与哈希相符。用 hmac.compare_digest 比较：所用时间与哪一位不同无关，
# 攻击者无法靠计时一位一位地猜。格式不对的哈希一律不相符。
# Does the password match the hash? hmac.compare_digest takes the same time
# wherever the difference is, so timing reveals nothing. A malformed hash never matches.
def checkPassword(password, stored):
    try:
        algorithm, iterations, salt, digest = stored.split('$')
        iterations = int(iterations)
        salt, digest = bytes.fromhex(salt), bytes.fromhex(digest)
    except (AttributeError, ValueError):
        return False
    if algorithm != 'pbkdf2_sha256' or not isinstance(password, str):
        return False
    attempt = hashlib.pbkdf2_hmac('sha256', utf8(password), salt, iterations)
    return hmac.compare_digest(attempt, digest)


# 在本章文件夹里运行 python -m core.tool 新密码，打印它的哈希。
# Run python -m core.tool NEW-PASSWORD in the chapter folder to print its hash.
if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: python -m core.tool NEW-PASSWORD')
    print(hashPassword(sys.argv[1]))
