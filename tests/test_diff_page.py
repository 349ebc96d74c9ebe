"""The side-by-side page in a real browser, as an instructor projects it.

Headless Chromium from the system's packages (tutorial/browser.py) opens the
page at projector widths; the page must fit without sideways scrolling, with
both columns on screen, a readable font with a Chinese-capable face first, and
the column headings still visible after scrolling down.
"""
import contextlib
import io
import struct

import pytest

from tutorial import browser
from tutorial.diff import main as diff_main

pytestmark = pytest.mark.repository_only

PAIRS = [("04", "05"), ("11", "12", "--code"), ("11", "12")]  # (12: the largest step)
WIDTHS = (1280, 1366, 1920)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("diff-pages")
    made = {}
    for pair in PAIRS:
        path = folder / ("%s.html" % "-".join(p.strip("-") for p in pair))
        with contextlib.redirect_stdout(io.StringIO()):  # (it prints the page's path)
            assert diff_main([*pair, "--html", str(path)]) == 0
        made[" ".join(pair)] = path
    return made


@pytest.fixture
def window(chromium):
    browser.resize(chromium, 1366, 900)
    return chromium


MEASURE = """
const cols = [...document.querySelectorAll('table.diff thead th')].slice(0, 2).map(th => th.getBoundingClientRect());
const code = document.querySelector('table.diff td.ctx, table.diff td.add, table.diff td.del');
return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
        left: cols[0].left, right: cols[1].right,
        size: parseFloat(getComputedStyle(code).fontSize), family: getComputedStyle(code).fontFamily,
        height: document.documentElement.scrollHeight,
        first: document.querySelector('h2').textContent};
"""


@pytest.mark.parametrize("pair", [" ".join(p) for p in PAIRS])
def test_page_fits_a_projector_with_both_columns(window, pages, pair):
    """The page is loaded once, and the window then takes each projector width in turn."""
    window.get(pages[pair].as_uri())
    for width in WIDTHS:
        browser.resize(window, width, 900)
        m = window.execute_script(MEASURE)
        assert m["inner"] == width
        assert m["scroll"] <= width, "%s is %d px wide in a %d px window" % (pair, m["scroll"], width)
        assert 0 <= m["left"] and m["right"] <= width, "the new chapter's column is cut off at %d px: %s" % (width, m)
        assert m["size"] >= 16 and m["family"].startswith('"Noto Sans Mono CJK SC"'), m
        assert m["first"] != "README.md", "code comes before the chapter README"


def test_column_headings_stay_visible_while_scrolling(window, pages):
    window.get(pages["11 12"].as_uri())
    top = window.execute_script("""
        const table = [...document.querySelectorAll('table.diff')].sort((a, b) => b.offsetHeight - a.offsetHeight)[0];
        if (table.offsetHeight < 2 * window.innerHeight) return 'the tallest table is too short to scroll';
        window.scrollTo(0, table.getBoundingClientRect().top + window.scrollY + table.offsetHeight / 2);
        return table.querySelector('thead th').getBoundingClientRect().top;""")
    assert top == 0


def test_screenshot_is_the_projected_size(window, pages, tmp_path):
    """The page as a projector shows it (look at it: tmp_path/04-05.png)."""
    browser.resize(window, 1366, 900)
    window.get(pages["04 05"].as_uri())
    shot = tmp_path / "04-05.png"
    assert window.save_screenshot(str(shot))
    head = shot.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    assert (width, height) == (1366, 900)
