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
    article: str         # article number and section, as the series names it ("" beyond the articles)
    url: str             # link to that article (section), or to the article the step builds on
    title_zh: str
    title_en: str
    touches: tuple       # files this step changes, relative to the previous chapter, in teaching order
    summary_zh: str = ""  # what this step does, in one sentence (its README opens with it)
    summary_en: str = ""
    closes_zh: str = ""   # beyond the articles: the weakness (or the gap) of the previous chapter it closes
    closes_en: str = ""

    @property
    def path(self) -> Path:
        return CHAPTERS_DIR / self.slug

    @property
    def tag(self) -> str:
        """Two-digit step number, as learners type it (`--step 03`)."""
        return "%02d" % self.number

    @property
    def name(self) -> str:
        """The slug without its number: `secret-token`."""
        return self.slug[3:]

    @property
    def beyond(self) -> bool:
        """A step of this repository's own, beyond the articles."""
        return not self.article


BEYOND = "超出文章 / beyond the articles"
ARTICLE_1_09 = ARTICLES + "1.09.md#搞清楚原理到底是个球"
ARTICLE_1_10 = ARTICLES + "1.10.md"


def _own(number, slug, url, title_zh, title_en, touches, summary_zh, summary_en, closes=("", "")):
    return Chapter(number, slug, "", url, title_zh, title_en, touches, summary_zh, summary_en, *closes)


CHAPTERS = (
    Chapter(0, "00-starting-point", "1.05–1.08", ARTICLES + "1.08.md",
            "起点：假登录与工具函数", "Starting point: fake login and tool helpers",
            (), "文章 1.05–1.08 结束时的样子：一个只认 admin / 123456 的假登录。",
            "Where articles 1.05–1.08 leave off: a fake login that knows only admin / 123456."),
    Chapter(1, "01-make-token", "1.09 生成秘钥", ARTICLES + "1.09.md#生成秘钥",
            "makeToken：生成 token 并存成文件", "makeToken: create a token and store it in a file",
            ("core/tool.py", "core/session.py"), "makeToken 生成 token，把它和时间写进会话文件。",
            "makeToken makes a token and writes it, with the time, to a session file."),
    Chapter(2, "02-check-token", "1.10 检查 token 方法", ARTICLES + "1.10.md#检查-token-方法",
            "checkToken：检查 token", "checkToken: validate a token",
            ("core/session.py",), "checkToken 对照会话文件检查客户端带来的 token。",
            "checkToken checks the token a client brings against the session file."),
    Chapter(3, "03-clear-update-token", "1.10 删除 / 更新 token 方法", ARTICLES + "1.10.md#删除-token-方法",
            "clearToken 与 updataToken：删除和续期", "clearToken and updataToken: delete and refresh",
            ("core/session.py",), "clearToken 删除会话，updataToken 给会话续期。",
            "clearToken deletes a session, updataToken refreshes it."),
    Chapter(4, "04-login", "1.10 更新登录接口", ARTICLES + "1.10.md#更新登录接口",
            "登录接口发放 token 与 cookie", "Login hands out a token and a cookie",
            ("api/be.py",), "登录成功时生成会话，token 放进回答和 session cookie。",
            "A successful login makes a session and puts its token in the answer and in the session cookie."),
    Chapter(5, "05-logout", "1.10 制作退出接口", ARTICLES + "1.10.md#制作退出接口",
            "退出接口：检查并清除会话", "Logout: check and clear the session",
            ("api/be.py",), "退出接口检查 session cookie，有效就删除会话。",
            "The logout endpoint checks the session cookie and, when it is valid, deletes the session."),
    _own(6, "06-secret-token", ARTICLE_1_10, "不可猜的 token，比较不看内容", "An unguessable token, compared in constant time",
         ("core/session.py", "api/be.py"),
         "token 改用 128 位密码学随机数，token、账号和密码都用耗时与内容无关的方法比较。",
         "The token becomes 128 cryptographically random bits, and token, account and password are compared in "
         "constant time.",
         ('token 能由用户名和时间离线算出来', 'the token can be rebuilt offline from the name and the time')),
    _own(7, "07-hostile-input", ARTICLE_1_10, "不信任输入：cookie 逐段检查，错误统一格式",
         "Hostile input: every part of the cookie checked, every error in the envelope",
         ("config.py", "core/session.py", "core/app.py"),
         "cookie 的三段在碰文件之前逐一检查，每一种错误都用统一的 JSON 格式回答。",
         "The cookie's three parts are each checked before any file is touched, and every error is answered "
         "in the JSON envelope.",
         ('cookie 直接拼进文件路径；有的错误不在统一格式里', 'the cookie becomes a file path; some errors are outside the envelope')),
    _own(8, "08-atomic-files", ARTICLE_1_10, "多个工作进程：原子地写会话文件", "Several workers: session files written atomically",
         ("core/file_store.py", "core/session.py"),
         "会话文件的读写搬进 core/file_store.py：先写临时文件再一步改名，读到坏文件也只当作没有会话。",
         "Reading and writing session files moves to core/file_store.py: a temporary file renamed in one step, "
         "and a bad file read as no session.",
         ('多个进程会读到写了一半的会话文件', 'several workers read half-written session files')),
    _own(9, "09-checked-logout", ARTICLE_1_10, "退出只删检查过的那个会话", "Logout deletes only the session it checked",
         ("core/file_store.py", "core/session.py"),
         "退出先把会话文件挪到一边再确认，另一个进程刚写下的新会话不会被删掉。",
         "Logout moves the session file aside before it makes sure, so a session another worker has just "
         "written is never deleted.",
         ('退出会删掉另一个进程刚写下的会话', 'logout can delete the session another worker has just written')),
    _own(10, "10-password-hash", ARTICLE_1_10, "密码存成加盐的慢哈希", "The password as a slow salted hash",
         ("config.py", "core/tool.py", "api/be.py"),
         "代码里不再有明文密码，只有它的 PBKDF2 加盐慢哈希。",
         "The code no longer holds the password, only its salted, slow PBKDF2 hash.",
         ('密码明文写在代码里', 'the password is in the code')),
    _own(11, "11-hash-thread", ARTICLE_1_10, "哈希在线程里算，事件循环不停", "The hash in a thread, the event loop free",
         ("config.py", "api/be.py"),
         "慢哈希放到线程里算，登录期间服务器照常回答别的请求。",
         "The slow hash runs in a thread, so the server answers other requests while a login is checked.",
         ('算一次密码哈希，整个进程都停住', 'one password hash stops the whole worker')),
    _own(12, "12-throttle", ARTICLE_1_10, "登录限速：失败太多就回答 429", "Login throttling: too many failures get a 429",
         ("config.py", "core/file_counters.py", "core/file_store.py", "core/session.py", "api/be.py"),
         "按账号、按地址数失败的登录，失败太多就要等，等待期间回答 429。",
         "Failed logins are counted per account and per address; after too many, the next must wait, and "
         "is answered 429 meanwhile.",
         ('可以无限次地猜密码', 'unlimited password guessing')),
    _own(13, "13-counter-locks", ARTICLE_1_10, "计数加锁：同时猜也逃不掉", "Locked counters: guesses at once are counted too",
         ("core/file_counters.py",),
         "读写登录计数时给文件加锁，同时到达的猜测也一个个算进去。",
         "A login counter is locked while it is read and written, so guesses that arrive together are all counted.",
         ('同时到达的猜测没有都算进去', 'guesses that arrive together are not all counted')),
    _own(14, "14-sweep", ARTICLE_1_10, "清理：只删自己的过期文件", "The sweep: only its own expired files",
         ("config.py", "core/file_store.py", "core/file_counters.py", "core/session.py", "api/be.py"),
         "后台定时清理过期的会话和计数，只删能证明是自己写下的文件。",
         "A background sweep removes expired sessions and counters, and only files it can prove it wrote.",
         ('过期的会话和计数永远留在文件夹里', 'expired sessions and counters pile up forever')),
    _own(15, "15-self-repair", ARTICLE_1_10, "坏掉的状态：能修就修，不能修就记一行",
         "Broken state: repaired, or logged in one line",
         ("core/file_store.py", "core/file_counters.py", "core/app.py"),
         "会话文件夹被删了就自己建回来，每个 5xx 都在日志里写一行原因。",
         "A deleted session folder is made again, and every 5xx writes one line with its cause to the log.",
         ('文件夹被删就一直 500，日志里也没有原因', 'a deleted folder means 500s forever, and no log line says why')),
    _own(16, "16-cross-site", ARTICLE_1_10, "拒绝跨站的退出；可以部署的 cookie", "Cross-site logout refused; a cookie fit to deploy",
         ("config.py", "api/be.py"),
         "别的网站上的链接不能让用户退出，cookie 加上 SameSite=Lax，https 部署时可加 Secure。",
         "A link on another site cannot log the user out, and the cookie gets SameSite=Lax, and Secure for https.",
         ('别的网站上的一个链接就能让人退出', 'a link on another site logs the user out')),
    _own(17, "17-guard", ARTICLE_1_09, "受保护的接口和“我是谁”", "Guarded endpoints and \"who am I\"",
         ("core/session.py", "api/be.py"),
         "@needSession 守卫需要登录的接口，GET /api/v1/be/session 回答当前会话是谁的。",
         "@needSession guards the endpoints that need a login, and GET /api/v1/be/session answers whose "
         "session it is.",
         ('没有哪个接口真的要求登录', 'no endpoint actually requires a login')),
    _own(18, "18-sliding-session", ARTICLE_1_09, "滑动会话和一页纸的后台", "A sliding session and a one-page back office",
         ("config.py", "core/session.py", "api/be.py", "core/app.py", "static/admin.html"),
         "一直在用的会话自动续期，/admin/ 有一页在浏览器里用的后台。",
         "A session in use is refreshed by itself, and /admin/ serves a one-page back office for the browser.",
         ('一直在用的会话，一小时后照样过期', 'a session in use still expires after an hour')),
    _own(19, "19-store-shape", ARTICLE_1_09, "会话存储的形状：async 函数，固定的方法", "The store's shape: async functions, fixed methods",
         ("core/session.py", "core/file_store.py", "api/be.py"),
         "行为不变：会话函数变成 async，只通过存储的几个固定方法存取会话。",
         "No change in behaviour: the session functions become async and use the store only through a few "
         "fixed methods.",
         ('（行为不变，为下一步准备）', '(no change in behaviour: it prepares the next step)')),
    _own(20, "20-redis-store", ARTICLE_1_09, "会话放进 Redis，多台机器共用", "Sessions in Redis, shared by several machines",
         ("config.py", "core/redis_store.py", "core/session.py"),
         "SESSION_STORE 设成 Redis 地址时，会话放进 Redis，每台机器都认得。",
         "With SESSION_STORE set to a Redis URL, sessions live in Redis, and every machine knows them.",
         ('每台机器只认自己发出的会话', 'each machine knows only the sessions it issued')),
    _own(21, "21-redis-outage", ARTICLE_1_09, "Redis 停了：很快回答 503，回来就好", "Redis down: a quick 503, and fine once it is back",
         ("core/redis_store.py", "core/session.py", "core/app.py", "config.py"),
         "Redis 连不上或不回答时，一秒内回答 503，Redis 回来后不用重启就恢复。",
         "When Redis cannot be reached or does not answer, requests get a 503 within a second, and all is well "
         "again without a restart once it is back.",
         ('Redis 停了，每个请求都是 500 和一大段调用栈；不回答时请求一直挂着', 'with Redis down every request is a 500 with a traceback; a silent Redis hangs them')),
    _own(22, "22-shared-counters", ARTICLE_1_09, "登录计数也放进 Redis", "Login counters in Redis too",
         ("core/redis_store.py", "core/session.py", "api/be.py", "config.py"),
         "用 Redis 时登录计数也放进 Redis，几台机器一起限速。",
         "With Redis, the login counters move there too, so several machines throttle together.",
         ('用 Redis 时，登录计数仍是每台机器各算各的', 'with Redis, each machine still counts failed logins alone')),
    _own(23, "23-failures-not-attempts", ARTICLE_1_10, "只算失败，不算尝试", "Failures, not attempts",
         ("core/file_counters.py", "core/file_store.py", "core/redis_store.py", "core/session.py", "api/be.py"),
         "检查过密码、确实错了才算一次失败，正在检查的登录不再先算作失败。",
         "A login counts as a failure only once its password has been checked and found wrong, not while it is "
         "being checked.",
         ('同时用正确密码登录的人，被当成失败拒绝（429）', 'right passwords logging in at the same moment are refused '
          '(429) as if they had failed')),
    _own(24, "24-attempts-under-way", ARTICLE_1_10, "同时进行的尝试有上限，多的排队", "Attempts under way: a limit, and a queue",
         ("config.py", "core/file_counters.py", "core/file_store.py", "core/session.py"),
         "同一账号、同一地址同时检查的密码不超过剩下的免费次数，多出来的登录排队等，而不是被拒绝。",
         "For one account or address, no more passwords are checked at once than free failures are left; more "
         "logins queue for their turn instead of being refused.",
         ('同时发出的猜测都在计数之前检查完，几十次一起猜也只算一轮', 'guesses sent at the same moment are all checked before '
          'any is counted: dozens at once cost a single round')),
    _own(25, "25-redis-under-way", ARTICLE_1_09, "Redis 里也限制同时进行的尝试", "Attempts under way in Redis too",
         ("core/redis_store.py",),
         "用 Redis 时，同时进行的尝试也计数、也有上限，和文件存储的规则一样，几台机器一起算。",
         "With Redis, attempts under way are counted and limited too, by the file store's rules, across every "
         "machine.",
         ('用 Redis 时，同时发出的猜测仍然都在计数之前检查完', 'with Redis, guesses sent at the same moment are still all '
          'checked before any is counted')),
    _own(26, "26-device-cookies", ARTICLE_1_09, "设备 cookie：别人猜密码，主人照样登录", "Device cookies: the owner logs in while others guess",
         ("config.py", "core/file_counters.py", "core/file_store.py", "core/redis_store.py", "core/session.py",
          "api/be.py"),
         "登录成功的浏览器得到签名的设备 cookie，带着它登录只受这台设备自己的失败限制。",
         "A browser that has logged in gets a signed device cookie; logging in with it is limited only by that "
         "device's own failures.",
         ('别处的人不停猜密码，账号一直要等，主人也登录不了', 'someone guessing from elsewhere keeps the account waiting, '
          'and the owner cannot log in either')),
    _own(27, "27-any-string", ARTICLE_1_10, "JSON 能带来的任何字符串都有回答", "Any string JSON can carry gets an answer",
         ("core/tool.py", "api/be.py"),
         "账号和密码里单独的代理字符（\\ud800）也能编码：回答在统一格式里，失败照样计数。",
         "A lone surrogate (\\ud800) in the account or password is encoded too: the answer is in the envelope, and "
         "the failure is counted.",
         ('账号是 "\\ud800" 的登录回答 500，日志里一段调用栈，从不限速', 'a login for the account "\\ud800" is a 500 '
          'with a traceback in the log, and never throttled')),
    _own(28, "28-hash-queue", ARTICLE_1_10, "哈希的队有上限，主人排最前", "A bounded queue for the hash, the owner first",
         ("config.py", "api/be.py"),
         "等哈希的登录最多排 PASSWORD_QUEUE 个，再多的立刻回答 503；带可信设备 cookie 的登录排在最前面。",
         "At most PASSWORD_QUEUE logins wait for the hash, more are answered 503 at once; a login with a trusted "
         "device cookie goes first.",
         ('几个地址同时猜密码，主人的登录要排十几秒的队', 'guesses from a few addresses at once make the owner\'s login '
          'queue for over ten seconds')),
    _own(29, "29-own-site", ARTICLE_1_10, "只认自己的网站：跨站登录和陌生主机名", "Our own site only: cross-site logins and "
         "unknown host names", ("config.py", "core/app.py", "api/be.py"),
         "跨站的登录回答 403；Host 不在 ALLOWED_HOSTS 里的请求回答 400。",
         "A cross-site login is answered 403; a request whose Host is not in ALLOWED_HOSTS is answered 400.",
         ('别的网站能替浏览器登录、删掉它的 cookie；DNS 重绑定的网页能登录并读到 token', 'another site can log the browser '
          'in or delete its cookie; a DNS-rebinding page can log in and read the token')),
    _own(30, "30-browser-headers", ARTICLE_1_09, "不许放进框架，不许缓存", "No frames, no caches",
         ("core/app.py",),
         "每个回答都带 frame-ancestors 'none' 和 X-Frame-Options: DENY，接口的回答还带 Cache-Control: no-store。",
         "Every answer says frame-ancestors 'none' and X-Frame-Options: DENY, and the API's say Cache-Control: "
         "no-store too.",
         ('后台页面可以被别的网站放进框架；带 token 的回答可以被缓存', 'another site can frame the back office; answers '
          'with a token may be cached')),
    _own(31, "31-session-lifetime", ARTICLE_1_09, "会话的总寿命", "A session's whole lifetime",
         ("config.py", "core/session.py"),
         "token 记下登录的时刻，会话从登录起最多 SESSION_MAX_AGE 秒（12 小时），用得再勤也要重新登录。",
         "The token records when it logged in, and a session lasts SESSION_MAX_AGE seconds (12 hours) from then, "
         "however busy.",
         ('一直在用的 token 永远有效', 'a token in use stays valid for ever')),
    _own(32, "32-logout-wins", ARTICLE_1_10, "退出不会被续期撤销", "No refresh undoes a logout",
         ("core/file_counters.py", "core/file_store.py"),
         "文件存储的写、续期、删除都加锁，续期先确认还是这个 token 才写，刚退出的会话不会被写回去。",
         "The file store locks while it writes, refreshes or deletes, and a refresh writes only while the file still "
         "holds its token, so a session just logged out is never written back.",
         ('几个工作进程时，和退出同时发生的续期会把会话写回去', 'with several workers, a refresh at the moment of a logout '
          'writes the session back')),
    _own(33, "33-redis-limits", ARTICLE_1_09, "Redis 到了极限：等连接，满了回答 503，不说密码",
         "Redis at its limits: wait for a connection, a 503 when full, no password said",
         ("config.py", "core/redis_store.py"),
         "连接用完时排队等一条（最多 1 秒）；Redis 内存满了回答 503、日志一行；SESSION_STORE 写错时不显示密码。",
         "When every connection is in use a request waits for one (1 second at most); a full Redis is a 503 with one "
         "log line; a mistyped SESSION_STORE is reported without its password.",
         ('Redis 好好的，同时的请求一多就回答 503；Redis 满了是 500 和调用栈；SESSION_STORE 写错时打印出密码',
          'many requests at once get a 503 while Redis is well; a full Redis is a 500 with a traceback; a mistyped '
          'SESSION_STORE prints its password')),
    _own(34, "34-back-office", ARTICLE_1_09, "会把话说清楚的后台页面", "A back office that explains itself",
         ("static/admin.html",),
         "后台页面的每条消息都有中文和英文，429 时按 Retry-After 倒数并停用登录按钮，空密码不发送，成功和失败一眼分得清，"
         "焦点跟着走，连不上服务器也会说。",
         "Every message of the back office in Chinese and English; a 429 counts down its Retry-After with the login "
         "button off; an empty password is never sent; success and failure look different; focus follows; a server "
         "that does not answer is said.",
         ('后台页面只有中文消息，429 不说要等多久，成功也是红色，空密码照样发出去、用掉一次尝试，连不上服务器时什么也不说',
          "the back office speaks Chinese only, a 429 does not say how long to wait, success is red, an empty password "
          "is sent and spends a try, a server that does not answer shows nothing")),
)

LAST = CHAPTERS[-1]


def by_key(key) -> Chapter:
    """Find a chapter by number (3, "3", "03"), slug, name ("secret-token"), or "final" (the last chapter)."""
    key = str(key).strip().rstrip("/\\")
    if key == "final":
        return LAST
    for ch in CHAPTERS:
        if key in (ch.slug, ch.tag, str(ch.number), ch.name) or Path(key).name == ch.slug:
            return ch
    raise KeyError("no chapter %r; known: %s" % (key, ", ".join(c.slug for c in CHAPTERS)))


def step(key) -> int:
    """The number of the step named by `key` (see by_key): `chapter.number >= step("guard")`
    reads "this chapter has the guard"."""
    return key if isinstance(key, int) else by_key(key).number
