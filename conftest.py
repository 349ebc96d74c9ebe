"""Command-line options of the test suite.

They live here, at the repository root, because pytest reads options only
from a conftest.py it loads before parsing the command line; this one is
always loaded, whatever folder names are given.

    python -m pytest --chapter 04                              # only chapter 04's tests
    python -m pytest tests --project ~/my-blog --step 03       # check your own code
"""


def pytest_addoption(parser):
    from tutorial.chapters import CHAPTERS

    steps = "%s..%s" % (CHAPTERS[0].tag, CHAPTERS[-1].tag)
    group = parser.getgroup("tutorial", "the tutorial's chapters")
    group.addoption("--chapter", action="append", default=[], metavar="NN",
                    help="test only this chapter: %s, its folder name, or final (repeatable)" % steps)
    group.addoption("--project", metavar="FOLDER",
                    help="check your own project (the article's layout: run.py, config.py, core/, api/) "
                         "instead of this repository's chapters; use with --step")
    group.addoption("--step", metavar="NN",
                    help="with --project: the chapter you have reached (%s); runs the tests of "
                         "that step and of every step before it" % steps)

# pytester runs the suite's own command inside the suite (tests/test_check_your_work.py);
# clean_run (tests/clean_run.py) stops what a run left running and, in CI, fails skips.
pytest_plugins = ["pytester", "clean_run"]
