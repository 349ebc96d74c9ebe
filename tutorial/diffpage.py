"""The side-by-side page `python -m tutorial.diff A B --html` writes, made to be projected.

The page fits any screen from 1,280 to 1,920 px wide: the two columns share
the width and long lines wrap where the browser runs out of room, so a
Chinese character (twice as wide as a Latin one) wraps where it really ends.
The font is large, with a stack that has a Chinese-capable monospace font on
every system; each file's column headings stay at the top while it scrolls.
Code comes before the chapter README, and a short legend says what the
colours mean. Unchanged lines are hidden except three around each change.
"""
from __future__ import annotations

import difflib
import html

from tutorial.chapters import CHAPTERS, by_key

CONTEXT = 3

MONO = ('"Noto Sans Mono CJK SC", "Source Han Mono SC", "Sarasa Mono SC", "Microsoft YaHei Mono", '
        'Consolas, "SF Mono", Menlo, "DejaVu Sans Mono", monospace')
SANS = ('system-ui, "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
        '"Hiragino Sans GB", sans-serif')

STYLE = """
* { box-sizing: border-box; }
body { margin: 0; padding: 0 16px 48px; font: 18px/1.45 %(sans)s; color: #1b1f23; background: #fff; }
header { padding: 12px 0 4px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h1 .arrow { color: #6a737d; padding: 0 8px; }
header p { margin: 4px 0; }
header p.step { margin: 8px 0; }
.legend span { padding: 0 6px; margin-right: 10px; border-radius: 3px; }
h2 { font: 600 20px %(mono)s; margin: 28px 0 0; padding: 6px 8px; background: #f1f3f5; }
table.diff { width: 100%%; table-layout: fixed; border-collapse: collapse; font: 18px/1.45 %(mono)s; }
table.diff col.num { width: 3.4em; }
table.diff thead th { position: sticky; top: 0; z-index: 1; background: #24292f; color: #fff;
  font: 600 16px %(sans)s; text-align: left; padding: 6px 8px; overflow-wrap: anywhere; }
table.diff td { vertical-align: top; padding: 0 8px; white-space: pre-wrap; overflow-wrap: anywhere;
  word-break: break-word; }
table.diff td.num { color: #6a737d; text-align: right; user-select: none; padding: 0 6px; }
td.del, .legend .del { background: #ffe3e6; }
td.add, .legend .add { background: #dcfce4; }
td.del mark { background: #f9a7b0; }
td.add mark { background: #8ee6a1; }
mark, .legend mark { color: inherit; padding: 0; }
.legend mark { background: #8ee6a1; }
tr.gap td { background: #f6f8fa; color: #6a737d; text-align: center; font: 15px %(sans)s; padding: 2px; }
""" % {"sans": SANS, "mono": MONO}

LEGEND = ('<p class="legend">'
          '<span class="del">删掉的行 / removed</span>'
          '<span class="add">新加的行 / added</span>'
          '<span><mark>改动的字</mark> / changed characters</span>'
          '没改的行只显示改动前后 %d 行 / unchanged lines: only %d around each change</p>' % (CONTEXT, CONTEXT))


def title_of(key: str) -> tuple:
    """(short name, zh title, en title, article link) of a chapter key or final."""
    ch = by_key(key)
    if key.strip("/\\") == "final":
        return "final/", ch.title_zh, ch.title_en, ch.url
    return ch.slug, ch.title_zh, ch.title_en, ch.url


def what_the_steps_do(before: str, after: str) -> list:
    """The header's lines for the steps from `before` (excluded) to `after`: each step's
    one sentence (zh, then en), as its README opens, and the article it follows, or
    "beyond the articles" and the article it builds on."""
    first, last = by_key(before).number, by_key(after).number
    lines = []
    for ch in CHAPTERS[first + 1:last + 1]:
        source = ('超出文章 / beyond the articles，接着 / building on: <a href="%s">%s</a>' % (
            html.escape(ch.url), html.escape(ch.url.rsplit("/", 1)[-1])) if ch.beyond else
            '文章 / Article: <a href="%s">%s</a>' % (html.escape(ch.url), html.escape(ch.article)))
        lines.append('<p class="step"><b>%s</b> %s<br>%s<br><small>%s</small></p>' % (
            ch.tag, html.escape(ch.summary_zh), html.escape(ch.summary_en), source))
    return lines


def _marked(text: str, spans: list) -> str:
    """`text` escaped, with the (start, end) spans wrapped in <mark>."""
    out, at = [], 0
    for start, end in spans:
        out.append(html.escape(text[at:start]))
        out.append("<mark>%s</mark>" % html.escape(text[start:end]))
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)


def _changed_spans(old: str, new: str) -> tuple:
    """The character spans that differ between two versions of a line."""
    a, b = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag != "equal":
            if i2 > i1:
                a.append((i1, i2))
            if j2 > j1:
                b.append((j1, j2))
    return a, b


def _row(left, right) -> str:
    """One table row from (number, html, class) for each side, or None for no line there."""
    cells = []
    for side in (left, right):
        if side is None:
            cells.append('<td class="num"></td><td class="none"></td>')
        else:
            number, text, kind = side
            cells.append('<td class="num">%d</td><td class="%s">%s</td>' % (number, kind, text))
    return "<tr>%s</tr>" % "".join(cells)


def rows(old: list, new: list) -> list:
    """The rows of one file's table: changes with CONTEXT lines around them."""
    out = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for group in matcher.get_grouped_opcodes(CONTEXT):
        first = group[0]
        if out or first[1] > 0 or first[3] > 0:
            out.append('<tr class="gap"><td colspan="4">⋯ 第 %d 行 / line %d ⋯</td></tr>' % (first[3] + 1,
                                                                                          first[3] + 1))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [_row((i + 1, html.escape(old[i]), "ctx"), (j + 1, html.escape(new[j]), "ctx"))
                        for i, j in zip(range(i1, i2), range(j1, j2))]
                continue
            pairs = max(i2 - i1, j2 - j1)
            for k in range(pairs):
                i, j = i1 + k, j1 + k
                has_old, has_new = i < i2, j < j2
                similar = has_old and has_new and difflib.SequenceMatcher(None, old[i], new[j]).ratio() > 0.5
                if tag == "replace" and similar:  # mark the characters that changed; else the whole line
                    a, b = _changed_spans(old[i], new[j])
                    left, right = _marked(old[i], a), _marked(new[j], b)
                else:
                    left = html.escape(old[i]) if has_old else ""
                    right = html.escape(new[j]) if has_new else ""
                out.append(_row((i + 1, left, "del") if has_old else None,
                                (j + 1, right, "add") if has_new else None))
    return out


def page(before: str, after: str, changes: list, paths: tuple) -> str:
    """The whole page for the chapters `before` -> `after`; `changes` is
    [(path, old text or None, new text or None)], code first; `paths` names
    the two folders as the reader knows them (chapters/04-login)."""
    a, b = title_of(before), title_of(after)
    parts = ["<header>",
             '<h1>%s <span class="arrow">→</span> %s</h1>' % (html.escape(a[0]), html.escape(b[0])),
             "<p>%s · %s → %s · %s</p>" % tuple(html.escape(x) for x in (a[1], a[2], b[1], b[2])),
             *what_the_steps_do(before, after), LEGEND, "</header>"]
    if not changes:
        parts.append("<p>两章完全相同 / The two are identical.</p>")
    for path, old, new in changes:
        left = "%s/%s" % (paths[0], path) if old is not None else "（新文件 / new file）"
        right = "%s/%s" % (paths[1], path) if new is not None else "（已删除 / deleted）"
        parts.append('<section><h2>%s</h2><table class="diff"><colgroup><col class="num"><col>'
                     '<col class="num"><col></colgroup>' % html.escape(path))
        parts.append('<thead><tr><th colspan="2">%s</th><th colspan="2">%s</th></tr></thead><tbody>'
                     % (html.escape(left), html.escape(right)))
        parts += rows((old or "").splitlines(), (new or "").splitlines())
        parts.append("</tbody></table></section>")
    return ('<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            "<title>%s → %s</title>\n<style>%s</style>\n</head>\n<body>\n%s\n</body>\n</html>\n"
            % (html.escape(a[0]), html.escape(b[0]), STYLE, "\n".join(parts)))
