"""The list of chapters: the one place that says which steps exist.

The top-level README table, the chapter-diff checks and the cumulative tests
all read this list, so adding or renaming a chapter happens here and nowhere
else.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS_DIR = ROOT / "chapters"
FINAL_DIR = ROOT / "final"

ARTICLES = "https://github.com/fengcms/articles/blob/master/webAppDesign/"


@dataclass(frozen=True)
class Chapter:
    number: int
    slug: str            # folder name under chapters/
    article: str         # article number and section, as the series names it
    url: str             # link to that article (section)
    title_zh: str
    title_en: str
    touches: tuple       # files this step changes, relative to the previous chapter

    @property
    def path(self) -> Path:
        return CHAPTERS_DIR / self.slug

    @property
    def tag(self) -> str:
        """Two-digit step number, as learners type it (`--step 03`)."""
        return "%02d" % self.number


CHAPTERS = (
    Chapter(0, "00-starting-point", "1.05–1.08", ARTICLES + "1.08.md",
            "起点：假登录与工具函数", "Starting point: fake login and tool helpers",
            ()),
    Chapter(1, "01-make-token", "1.09 生成秘钥", ARTICLES + "1.09.md#生成秘钥",
            "makeToken：生成 token 并存成文件", "makeToken: create a token and store it in a file",
            ("core/tool.py", "core/session.py")),
    Chapter(2, "02-check-token", "1.10 检查 token 方法", ARTICLES + "1.10.md#检查-token-方法",
            "checkToken：检查 token", "checkToken: validate a token",
            ("core/session.py",)),
    Chapter(3, "03-clear-update-token", "1.10 删除 / 更新 token 方法", ARTICLES + "1.10.md#删除-token-方法",
            "clearToken 与 updataToken：删除和续期", "clearToken and updataToken: delete and refresh",
            ("core/session.py",)),
    Chapter(4, "04-login", "1.10 更新登录接口", ARTICLES + "1.10.md#更新登录接口",
            "登录接口发放 token 与 cookie", "Login hands out a token and a cookie",
            ("api/be.py",)),
    Chapter(5, "05-logout", "1.10 制作退出接口", ARTICLES + "1.10.md#制作退出接口",
            "退出接口：检查并清除会话", "Logout: check and clear the session",
            ("api/be.py",)),
    Chapter(6, "06-hardening", "超出文章 / beyond the articles", ARTICLES + "1.10.md",
            "加固会话：攻击与修补", "Hardening the session: attacks and fixes",
            ("config.py", "core/app.py", "core/tool.py", "core/session.py", "api/be.py")),
    Chapter(7, "07-guarded-routes", "超出文章 / beyond the articles", ARTICLES + "1.09.md#搞清楚原理到底是个球",
            "用上会话：受保护的接口、滑动续期和浏览器", "Using the session: guarded routes, a sliding session, a browser",
            ("config.py", "core/app.py", "core/session.py", "api/be.py", "static/admin.html")),
    Chapter(8, "08-redis-store", "超出文章 / beyond the articles", ARTICLES + "1.09.md#搞清楚原理到底是个球",
            "会话放进 Redis：多台机器共用", "Sessions in Redis, shared by several machines",
            ("config.py", "core/app.py", "core/session.py", "core/redis_store.py", "api/be.py")),
)

LAST = CHAPTERS[-1]


def by_key(key: str) -> Chapter:
    """Find a chapter by number ("3", "03"), slug, or "final" (the last chapter)."""
    key = str(key).strip().rstrip("/\\")
    if key == "final":
        return LAST
    for ch in CHAPTERS:
        if key in (ch.slug, ch.tag, str(ch.number)) or Path(key).name == ch.slug:
            return ch
    raise KeyError("no chapter %r; known: %s" % (key, ", ".join(c.slug for c in CHAPTERS)))
