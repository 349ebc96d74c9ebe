"""Chapters share module names; each test must get its own chapter's code."""
import sys

import pytest

from tutorial.chapters import by_key, step
from tutorial.loader import APP_PACKAGES, WrongChapter, load_app

pytestmark = pytest.mark.repository_only


def test_loading_one_chapter_after_another_gives_each_its_own_code():
    two, three, two_again = load_app(by_key("02").path), load_app(by_key("03").path), load_app(by_key("02").path)
    s2, s3 = two.module("core.session"), three.module("core.session")
    assert s2 is not s3
    assert not hasattr(s2, "clearToken") and hasattr(s3, "clearToken")
    assert not hasattr(two_again.module("core.session"), "clearToken")
    assert s2.__file__.startswith(str(by_key("02").path))
    assert s3.__file__.startswith(str(by_key("03").path))
    # and nothing of theirs stays behind for the next import to pick up by mistake
    assert not [n for n in sys.modules if n.split(".")[0] in APP_PACKAGES]


def test_a_module_from_elsewhere_is_caught(tmp_path, monkeypatch):
    """If a chapter's import resolved to another folder, load_app says so."""
    chapter = by_key("02").path
    loaded = load_app(chapter)
    loaded.modules["core.session"] = load_app(by_key("03").path).module("core.session")
    with pytest.raises(WrongChapter, match="03-clear-update-token"):
        loaded.assert_from_folder()


def test_each_chapter_app_is_a_different_object(chapter, app):
    # the `app` fixture already proved api/be.py came from this chapter
    assert app.name == "webapp"
    routes = sorted(r.path for r in app.router.routes)
    expected = ["api/v1/be/login"] + (["api/v1/be/logout"] if chapter.number >= 5 else []) + (
        ["api/v1/be/session"] if chapter.number >= step("guard") else []) + (
        ["admin"] if chapter.number >= step("sliding-session") else [])
    assert routes == sorted(expected)
