"""The page `python -m tutorial.diff A B --html` writes, made to be projected.

Projector mode: the code in large type (24 px at a 1,366 px wide window, more on
wider ones), the files in the order the steps teach them with an index at the
top, and the chapter README linked rather than diffed (`--readme` diffs it
too, after the code). The page fits any screen from 1,280 to 1,920 px wide:
long lines wrap where the browser runs out of room, so a Chinese character
(twice as wide as a Latin one) wraps where it really ends. The two versions of
a changed line stand side by side; a block of lines only one version has (new
lines, removed lines, a new or deleted file) takes the whole width, so no half
of the screen stays empty. Every changed line has a +/− mark on a coloured bar
in its gutter, so a change reads without colour too. Each file's column
headings stay at the top while it scrolls. Unchanged lines are hidden except
CONTEXT around each change.
"""
from __future__ import annotations

import difflib
import html

from tutorial.chapters import ROOT, by_key

CONTEXT = 2  # unchanged lines around each change: enough to see where it goes, few enough to fit a screen

MONO = ('"Noto Sans Mono CJK SC", "Source Han Mono SC", "Sarasa Mono SC", "Microsoft YaHei Mono", '
        'Consolas, "SF Mono", Menlo, "DejaVu Sans Mono", monospace')
SANS = ('system-ui, "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
        '"Hiragino Sans GB", sans-serif')

# Colours, as contrast against white (WCAG's ratio). A projector washes out pale tints: yesterday's 1.10:1
# (added) and 1.21:1 (removed) vanished. The line tints are now about 1.5:1 (#99e2aa, #ffc0c7), the changed
# characters about 2:1 (#4fcf72, #ff8f9a), and the code's dark text keeps at least 7.6:1 on every one of
# them. The bar in the gutter is a deep green (#116329, 7.4:1) or red (#b31d28, 6.7:1), as dark as a
# projector can still tell apart, with a white + or − on it: the sign says added or removed without colour.
# A new or deleted file is all one kind, so its lines keep a pale tint (the bar says it) to spare the eyes.
STYLE = """
* { box-sizing: border-box; }
body { margin: 0; padding: 0 12px 24px; font: 20px/1.35 %(sans)s; color: #1b1f23; background: #fff; }
:root { --code: max(24px, 1.6vw); }
header { padding: 6px 0 2px; }
h1 { font-size: 28px; margin: 0; }
h1 .arrow { color: #57606a; padding: 0 6px; }
header p { margin: 2px 0; }
header p.step b { margin-right: 6px; }
.legend, .index, .titles { font-size: 18px; }
.legend > span, .index a { margin-right: 14px; }
.sign { display: inline-block; width: 1.2em; text-align: center; color: #fff; font-weight: 700; }
.sign.add { background: #116329; } .sign.del { background: #b31d28; }
.index .plus { color: #116329; font-weight: 600; } .index .minus { color: #b31d28; font-weight: 600; }
h2 { font: 600 22px %(mono)s; margin: 10px 0 0; padding: 2px 8px; background: #e9ecef; }
h2 small { font: 18px %(sans)s; padding-left: 10px; }
table.diff { width: 100%%; table-layout: fixed; border-collapse: collapse; font: var(--code)/1.3 %(mono)s; }
table.diff col.num { width: 2.1em; }
table.diff col.mark { width: 1.1em; }
table.diff thead th { position: sticky; top: 0; z-index: 1; background: #24292f; color: #fff;
  font: 600 18px %(sans)s; text-align: left; padding: 3px 8px; overflow-wrap: anywhere; }
table.diff td { vertical-align: top; padding: 0 6px; white-space: pre-wrap; overflow-wrap: anywhere;
  word-break: break-word; }
table.diff td.num { color: #57606a; text-align: right; user-select: none; padding: 0 3px;
  font-size: 0.7em; line-height: 1.857; }
table.diff td.mark { padding: 0; text-align: center; font-weight: 700; color: #fff; user-select: none; }
td.mark.add { background: #116329; }
td.mark.del { background: #b31d28; }
td.del { background: #ffc0c7; }
td.add { background: #99e2aa; }
table.one td.add { background: #e3f6e7; } table.one td.del { background: #fde7ea; }
td.del mark { background: #ff8f9a; }
td.add mark, .legend mark { background: #4fcf72; }
mark { color: inherit; padding: 0; text-decoration: underline 2px; text-underline-offset: 3px; }
tr.gap td { background: #f1f3f5; color: #57606a; text-align: center; font: 15px %(sans)s; padding: 1px; }
""" % {"sans": SANS, "mono": MONO}

LEGEND = ('<p class="legend"><span><b class="sign del">−</b> 删掉的行 / <span lang="en">removed</span></span>'
          '<span><b class="sign add">+</b> 新加的行 / <span lang="en">added</span></span>'
          '<span><mark>改动的字</mark> / <span lang="en">changed characters</span></span>'
          '<span>⋯ 改动前后各留 %d 行 / <span lang="en">%d unchanged lines around a change</span></span>'
          '</p>' % (CONTEXT, CONTEXT))


def _en(text: str) -> str:
    return '<span lang="en">%s</span>' % html.escape(text)


def title_of(key: str) -> tuple:
    """(short name, zh title, en title) of a chapter key or final."""
    ch = by_key(key)
    return ("final/" if key.strip("/\\") == "final" else ch.slug), ch.title_zh, ch.title_en


def what_the_steps_do(steps) -> list:
    """The header's lines, one per step: its one sentence (zh, then en), as its README opens, the
    article it follows (linked) or "beyond the articles" (no link), and its README (linked)."""
    lines = []
    for ch in steps:
        source = ('超出文章 / %s' % _en("beyond the articles") if ch.beyond else
                  '文章 / %s: <a href="%s">%s</a>' % (_en("Article"), html.escape(ch.url), html.escape(ch.article)))
        readme = ch.path / "README.md"
        lines.append('<p class="step"><b>%s</b>%s<br>%s<br><small>%s · 讲解 / %s: <a class="readme" href="%s">%s</a>'
                     '</small></p>' % (ch.tag, html.escape(ch.summary_zh), _en(ch.summary_en), source,
                                       _en("README"), html.escape(readme.as_uri()),
                                       html.escape(readme.relative_to(ROOT).as_posix())))
    return lines


def index(files: list) -> str:
    """Each file, with its lines added and removed, linking to its section."""
    items = ['<a href="#file-%s">%s</a> <span class="plus">+%d</span> <span class="minus">−%d</span>'
             % (html.escape(path), html.escape(path), plus, minus) for path, _, _, (plus, minus) in files]
    return '<nav class="index">文件 / %s: %s</nav>' % (_en("Files"), " · ".join(items))


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


SIGN = {"add": "+", "del": "−", "ctx": ""}


def _cells(number, text, kind, span=1) -> str:
    """Line number, +/− gutter and code of one side; None: no line on that side."""
    if number is None:
        return '<td class="num"></td><td class="mark"></td><td class="none"></td>'
    return '<td class="num">%d</td><td class="mark %s">%s</td><td class="%s"%s>%s</td>' % (
        number, kind, SIGN[kind], kind, ' colspan="%d"' % span if span > 1 else "", text)


def _wide(number, text, kind, width) -> str:
    """A line only one version has, across the whole table (`width` columns)."""
    return "<tr>%s</tr>" % _cells(number, html.escape(text), kind, width - 2)


def rows(old: list, new: list) -> list:
    """The rows of one file's two-version table: changes with CONTEXT lines around them."""
    out = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for group in matcher.get_grouped_opcodes(CONTEXT):
        first = group[0]
        if out or first[1] > 0 or first[3] > 0:
            out.append('<tr class="gap"><td colspan="6">⋯ 第 %d 行 / <span lang="en">line %d</span> ⋯</td></tr>'
                       % (first[3] + 1, first[3] + 1))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += ["<tr>%s%s</tr>" % (_cells(i + 1, html.escape(old[i]), "ctx"),
                                           _cells(j + 1, html.escape(new[j]), "ctx"))
                        for i, j in zip(range(i1, i2), range(j1, j2))]
            elif tag == "insert":
                out += [_wide(j + 1, new[j], "add", 6) for j in range(j1, j2)]
            elif tag == "delete":
                out += [_wide(i + 1, old[i], "del", 6) for i in range(i1, i2)]
            else:  # a changed block: its two versions side by side, line by line
                for k in range(max(i2 - i1, j2 - j1)):
                    i, j = i1 + k, j1 + k
                    if i < i2 and j < j2 and difflib.SequenceMatcher(None, old[i], new[j]).ratio() > 0.5:
                        a, b = _changed_spans(old[i], new[j])  # mark the characters that changed
                        left, right = (i + 1, _marked(old[i], a), "del"), (j + 1, _marked(new[j], b), "add")
                    else:
                        left = (i + 1, html.escape(old[i]), "del") if i < i2 else None
                        right = (j + 1, html.escape(new[j]), "add") if j < j2 else None
                    out.append("<tr>%s%s</tr>" % (_cells(*left or (None,) * 3), _cells(*right or (None,) * 3)))
    return out


def table(path: str, old, new, paths: tuple) -> str:
    """One file's table: two versions side by side, or one column for a new or deleted file."""
    if old is not None and new is not None:
        head = "".join('<th colspan="3">%s/%s</th>' % (html.escape(p), html.escape(path)) for p in paths)
        return ('<table class="diff two"><colgroup><col class="num"><col class="mark"><col>'
                '<col class="num"><col class="mark"><col></colgroup><thead><tr>%s</tr></thead><tbody>%s'
                '</tbody></table>' % (head, "\n".join(rows(old.splitlines(), new.splitlines()))))
    kind, text, folder = ("add", new, paths[1]) if old is None else ("del", old, paths[0])
    label = "新文件 / %s" % _en("new file") if old is None else "已删除 / %s" % _en("deleted")
    lines = "\n".join(_wide(n, line, kind, 3) for n, line in enumerate(text.splitlines(), 1))
    return ('<table class="diff one"><colgroup><col class="num"><col class="mark"><col></colgroup>'
            '<thead><tr><th colspan="3">%s: %s/%s</th></tr></thead><tbody>%s</tbody></table>'
            % (label, html.escape(folder), html.escape(path), lines))


def page(before: str, after: str, files: list, paths: tuple, steps=()) -> str:
    """The whole page for the chapters `before` -> `after`; `files` is [(path, old text or None,
    new text or None, (lines added, lines removed))] in the order to show; `paths` names the two
    folders as the reader knows them (chapters/04-login); `steps` are the steps between them."""
    a, b = title_of(before), title_of(after)
    parts = ["<header>",
             '<h1>%s<span class="arrow">→</span>%s</h1>' % (html.escape(a[0]), html.escape(b[0])),
             '<p class="titles">%s → %s · %s → %s</p>' % (html.escape(a[1]), html.escape(b[1]),
                                                          _en(a[2]), _en(b[2])),
             *what_the_steps_do(steps), index(files) if files else "", LEGEND, "</header>"]
    if not files:
        parts.append("<p>两章的代码没有差别 / %s</p>" % _en("The code is the same in both."))
    for path, old, new, (plus, minus) in files:
        parts.append('<section id="file-%s"><h2>%s<small>+%d −%d</small></h2>%s</section>'
                     % (html.escape(path), html.escape(path), plus, minus, table(path, old, new, paths)))
    return ('<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            "<title>%s → %s</title>\n<style>%s</style>\n</head>\n<body>\n%s\n</body>\n</html>\n"
            % (html.escape(a[0]), html.escape(b[0]), STYLE, "\n".join(parts)))
