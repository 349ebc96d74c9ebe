"""A real, headless Chromium for the tests: what a page looks like, what a browser does.

    with chromium(width=1366) as browser:
        browser.get("file:///tmp/page.html")
        browser.execute_script("return document.documentElement.scrollWidth")

It drives the system's Chromium through its ChromeDriver (Debian/Ubuntu:
`sudo apt install chromium chromium-driver`), with Selenium; nothing is
downloaded at run time. `missing()` says, in one sentence, what to install
when they are not there.
"""
from __future__ import annotations

import os
import shutil
import time
import tempfile
from contextlib import contextmanager

# Where Debian/Ubuntu's packages put them; CHROMIUM and CHROMEDRIVER point elsewhere.
CANDIDATES = {
    "CHROMIUM": ("chromium", "chromium-browser", "google-chrome"),
    "CHROMEDRIVER": ("chromedriver",),
}

# As the machine's own probe starts it: no sandbox as root, and no network of its
# own (updates, sync, QUIC), which a closed network would refuse again and again.
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1")


def _find(name: str):
    return os.environ.get(name) or next(filter(None, map(shutil.which, CANDIDATES[name])), None)


def missing() -> str:
    """'' when Chromium, its driver and Selenium are there; otherwise what to install."""
    lacking = [n.lower() for n in CANDIDATES if not _find(n)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        lacking.append("selenium")
    if not lacking:
        return ""
    return ("needs %s: on Debian/Ubuntu `sudo apt install chromium chromium-driver`, and "
            "`python -m pip install -r requirements.txt` for selenium (or set CHROMIUM and CHROMEDRIVER "
            "to where they are)" % " and ".join(lacking))


@contextmanager
def chromium(width: int = 1366, height: int = 900, workdir=None):
    """A headless Chromium window of this size, as a Selenium driver; closed afterwards.
    Its profile and the temporary files of Chromium and its driver go into a new
    folder inside `workdir` (default: the system's temporary folder), removed at the end."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-", dir=workdir)
    # Chromium's own socket (SingletonSocket) goes into TMPDIR, and a Unix socket's path holds about 104 characters
    # at most: a short folder in /tmp, whatever `workdir` is (pytest's grows with every run, /.../pytest-1001/...,
    # and macOS's temporary folder is long to begin with). The driver's scoped_dir* go there too; both folders are
    # removed at the end.
    short = tempfile.mkdtemp(prefix="cr-", dir="/tmp" if os.path.isdir("/tmp") else None)
    options = webdriver.ChromeOptions()
    options.binary_location = _find("CHROMIUM")
    for flag in FLAGS + ("--window-size=%d,%d" % (width, height), "--user-data-dir=" + os.path.join(profile, "profile")):
        options.add_argument(flag)
    env = dict(os.environ, TMPDIR=short, TMP=short, TEMP=short)
    try:
        driver = webdriver.Chrome(service=Service(_find("CHROMEDRIVER"), env=env), options=options)
    except BaseException:
        shutil.rmtree(short, ignore_errors=True)
        shutil.rmtree(profile, ignore_errors=True)
        raise
    try:
        resize(driver, width, height)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(short, ignore_errors=True)
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver, condition: str, what: str, seconds: float = 10):
    """Wait until the page's JavaScript `condition` (a `return ...` statement) is true, looking every 20 ms;
    on a timeout, say `what` was awaited. Returns the condition's value."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, poll_frequency=0.02).until(lambda d: d.execute_script(condition),
                                                                     message=what)


def resize(driver, width: int, height: int) -> None:
    """Make the page's own viewport exactly width x height (a window is a little larger), and wait until
    the page sees it: the browser applies a new window size a moment later, on a busy machine a long one."""
    inner = driver.execute_script(VIEWPORT)
    outer = driver.get_window_size()
    driver.set_window_size(outer["width"] + width - inner[0], outer["height"] + height - inner[1])
    deadline = time.monotonic() + 10
    while driver.execute_script(VIEWPORT) != [width, height]:
        if time.monotonic() > deadline:
            raise TimeoutError("the page's viewport is still %s, not %dx%d" % (driver.execute_script(VIEWPORT),
                                                                              width, height))
        time.sleep(0.01)


VIEWPORT = "return [window.innerWidth, window.innerHeight]"
