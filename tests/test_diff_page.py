"""The page an instructor projects, in a real browser (projector mode, the default of --html).

Headless Chromium from the system's packages (tutorial/browser.py) opens the
page at projector sizes. A small step fits two screens of a 1,366 x 768
projector with the code at 24 px or more; no page scrolls sideways at 1,280 to
1,920 px and no line is cut; a Chinese-capable monospace font comes first; the
column headings stay visible while a long file scrolls. Each page is loaded
once and the window then takes each size in turn.
"""
import base64
import contextlib
import io
import struct

import pytest

from tutorial import browser
from tutorial.diff import main as diff_main

pytestmark = pytest.mark.repository_only

# two small steps, an article's (16 code lines) and one of ours (22); the largest step with its README
PAGES = {"04 05": ("04", "05"), "29 30": ("29", "30"), "11 12 --readme": ("11", "12", "--readme")}
WIDTHS = (1280, 1366, 1920)
SCREEN = (1366, 768)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("diff-pages")
    made = {}
    for name, args in PAGES.items():
        path = folder / ("%s.html" % name.replace(" --", "-").replace(" ", "-"))
        with contextlib.redirect_stdout(io.StringIO()):  # (it prints the page's path)
            assert diff_main([*args, "--html", str(path)]) == 0
        made[name] = path
    return made


@pytest.fixture
def window(chromium):
    browser.resize(chromium, *SCREEN)
    yield chromium
    browser.resize(chromium, 1366, 900)  # (the size the other browser tests find it at)


MEASURE = """
const code = [...document.querySelectorAll('table.diff td.ctx, table.diff td.add, table.diff td.del')];
const heads = [...document.querySelectorAll('table.diff thead th')].map(th => th.getBoundingClientRect());
return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
        height: document.documentElement.scrollHeight,
        sizes: [...new Set(code.map(td => parseFloat(getComputedStyle(td).fontSize)))],
        family: getComputedStyle(code[0]).fontFamily,
        cut: code.filter(td => td.scrollWidth > td.clientWidth).map(td => td.textContent.slice(0, 60)),
        left: Math.min(...heads.map(r => r.left)), right: Math.max(...heads.map(r => r.right)),
        files: [...document.querySelectorAll('section')].map(s => s.id.slice(5))};
"""


def measured(window, width, height=SCREEN[1]):
    """The page's measures with the window at width x height; checks what holds at every width."""
    browser.resize(window, width, height)
    m = window.execute_script(MEASURE)
    assert m["inner"] == width
    assert m["scroll"] <= width, "the page is %d px wide in a %d px window" % (m["scroll"], width)
    assert not m["cut"], "lines cut off at %d px: %s" % (width, m["cut"])
    assert 0 <= m["left"] and m["right"] <= width, "a column is off screen at %d px: %s" % (width, m)
    assert min(m["sizes"]) >= 24, "the code is %s px at %d px" % (m["sizes"], width)
    assert m["family"].startswith('"Noto Sans Mono CJK SC"'), m["family"]
    return m


def full_page_png(window, height):
    """A screenshot of the whole page, as tall as the page, at the window's width."""
    shot = window.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": SCREEN[0], "height": height, "scale": 1}})
    return base64.b64decode(shot["data"])


@pytest.mark.parametrize("name", ["04 05", "29 30"])
def test_a_small_step_fits_two_projector_screens(window, pages, name, tmp_path_factory):
    """At 1,366 x 768 the whole page of a small step is at most two screens high, with the code at 24 px
    or more; the screenshot the test takes is the page as projected (look at it: its path is printed)."""
    window.get(pages[name].as_uri())
    m = measured(window, *SCREEN)
    assert m["height"] <= 2 * SCREEN[1], "%s is %d px high: more than two screens" % (name, m["height"])
    png = full_page_png(window, m["height"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (SCREEN[0], m["height"])
    shot = tmp_path_factory.getbasetemp() / ("diff-%s.png" % name.replace(" ", "-"))
    shot.write_bytes(png)
    print("%s: %d px high at %dx%d, code at %s px: %s" % (name, m["height"], *SCREEN, m["sizes"], shot))
    for width in WIDTHS:
        measured(window, width)


def test_the_largest_step_with_its_readme_fits_every_width(window, pages):
    """Step 12 (the most code) with --readme: the README's long lines and tables fit too, the README comes
    last, and a long file's column headings stay at the top while it scrolls."""
    window.get(pages["11 12 --readme"].as_uri())
    for width in WIDTHS:
        m = measured(window, width)
    assert m["files"][-1] == "README.md" and len(m["files"]) > 2
    top = window.execute_script("""
        const table = [...document.querySelectorAll('table.diff')].sort((a, b) => b.offsetHeight - a.offsetHeight)[0];
        if (table.offsetHeight < 2 * window.innerHeight) return 'the tallest table is too short to scroll';
        window.scrollTo(0, table.getBoundingClientRect().top + window.scrollY + table.offsetHeight / 2);
        return table.querySelector('thead th').getBoundingClientRect().top;""")
    assert top == 0
