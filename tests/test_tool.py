"""core/tool.py: the answer envelope, the parameter check, and (from 01) getMd5."""
import hashlib
import json

import pytest

from support import each_case


def body(response):
    return json.loads(response.body)


def test_ok_wraps_data_with_status_0(chapter, tool):
    res = tool.ok("登录成功")
    assert res.status == 200
    assert body(res) == {"data": "登录成功", "status": 0}


def test_fail_defaults_to_status_1_and_http_200(chapter, tool):
    res = tool.fail("出错了")
    assert (res.status, body(res)) == (200, {"data": "出错了", "status": 1})


def test_fail_takes_body_status_and_http_status(chapter, tool):
    res = tool.fail("退出失败", 401, 401)
    assert (res.status, body(res)) == (401, {"data": "退出失败", "status": 401})


@pytest.mark.beyond_article(
    zh="文章的 ok / fail 把中文输出成 \\uXXXX 转义；各章加了 ensure_ascii=False，不用 jq 终端里也能看到中文。",
    en="The article's ok / fail send Chinese as \\uXXXX escapes; the chapters add ensure_ascii=False, so a "
       "terminal shows it without jq.")
def test_answers_show_chinese_as_utf8_not_escapes(chapter, tool):
    # So a learner's terminal shows 参数错误, not \u53c2\u6570...
    body = tool.fail("参数错误", 400).body
    assert "参数错误".encode("utf-8") in body, "fail('参数错误', 400) should show the Chinese as it is: %s" % body
    assert tool.ok("x").content_type.startswith("application/json")


CHECK_PARAM = [  # (params, req, expected)
    (["account", "password"], {"account": "a", "password": "b"}, True),
    (["account", "password"], {"account": "a", "password": "b", "extra": 1}, True),
    (["account", "password"], {"account": "a"}, False),
    (["account", "password"], {}, False),
    ([], {}, True),
    (["account"], None, False),
    (["account"], ["account"], False),
    (["account"], "account", False),
    (("account",), {"account": 1}, False),  # params must be a list
    ("account", {"account": 1}, False),
]


def test_check_param(chapter, tool):
    def check(params, req, expected):
        assert tool.checkParam(params, req) is expected, (
            "checkParam(%r, %r) should be %s: True only when params is a list, req is a dict "
            "and every name is a key of req" % (params, req, expected))

    each_case(CHECK_PARAM, check, "params, req, expected")


@pytest.mark.since(1)
def test_get_md5_of_text_is_md5_of_its_utf8(chapter, tool):
    def check(source):
        assert tool.getMd5(source) == hashlib.md5(source.encode("utf-8")).hexdigest()

    each_case(["admin", "", "管理员", "admin1795642343" + "12345"], check, "source")


@pytest.mark.since(1)
def test_get_md5_known_value_names_the_admin_session_file(chapter, tool):
    assert tool.getMd5("admin") == "21232f297a57a5a743894a0e4a801fc3"


@pytest.mark.since(1)
def test_get_md5_hashes_bytes_as_they_are(chapter, tool):
    assert tool.getMd5(b"\xff\x00admin") == hashlib.md5(b"\xff\x00admin").hexdigest()


@pytest.mark.since(1)
@pytest.mark.beyond_article(
    zh="文章的 getMd5 遇到无法按 UTF-8 编码的字符（cookie 里的坏字节）会抛 UnicodeEncodeError；"
       "各章用 surrogateescape 把它们还原成原来的字节。",
    en="The article's getMd5 raises UnicodeEncodeError on characters that cannot be UTF-8 (bad bytes from a "
       "cookie); the chapters use surrogateescape to turn them back into their bytes.")
def test_get_md5_does_not_raise_on_undecodable_cookie_text(chapter, tool):
    # A cookie holding the bytes ff fe reaches Python as '\udcff\udcfe'.
    assert tool.getMd5("\udcff\udcfe") == hashlib.md5(b"\xff\xfe").hexdigest()
