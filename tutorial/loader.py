"""Import one chapter's app into this Python process, and prove where it came from.

Every chapter has modules of the same names (`config`, `core.*`, `api.*`). In
one process, `import core.session` gives whichever chapter was imported first,
and every chapter's tests silently run that one. `load_app` removes those
names from `sys.modules`, imports them from the chosen folder only, puts the
folder's modules aside, removes the names again, and checks the file of every
module it got.
"""
from __future__ import annotations

import importlib
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

# The top-level names a project with the article's layout defines.
APP_PACKAGES = ("config", "core", "api", "run")
# The modules the article's layout has, in an order that imports cleanly.
APP_MODULES = ("config", "core.tool", "core.session", "core.app", "api.be")


class WrongChapter(AssertionError):
    """A module came from somewhere other than the folder that was asked for."""


def _forget_app_modules() -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in APP_PACKAGES:
            del sys.modules[name]


def module_origin(module: ModuleType) -> list:
    """The file(s) a module was loaded from (a namespace package has only folders)."""
    if getattr(module, "__file__", None):
        return [Path(module.__file__).resolve()]
    return [Path(p).resolve() for p in getattr(module, "__path__", [])]


@dataclass
class LoadedApp:
    folder: Path
    modules: dict = field(default_factory=dict)   # name -> module
    problems: dict = field(default_factory=dict)  # name -> why it could not be imported
    errors: dict = field(default_factory=dict)    # name -> the exception that stopped it (with its traceback)
    app: object = None

    def has(self, name: str) -> bool:
        return name in self.modules

    def module(self, name: str) -> ModuleType:
        if name not in self.modules:
            why = self.problems.get(name, "not imported")
            raise ModuleNotFoundError("%s: %s (in %s)" % (name, why, self.folder))
        return self.modules[name]

    def assert_from_folder(self) -> None:
        """Every module this app uses was loaded from `folder`."""
        for name, module in self.modules.items():
            for origin in module_origin(module):
                if self.folder != origin and self.folder not in origin.parents:
                    raise WrongChapter("%s was loaded from %s, not from %s" % (name, origin, self.folder))


def load_app(folder) -> LoadedApp:
    """Import the app in `folder` the way its run.py does, without serving it."""
    folder = Path(folder).resolve()
    loaded = LoadedApp(folder)
    _forget_app_modules()
    sys.path.insert(0, str(folder))
    no_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__ in the folder
    try:
        for name in APP_MODULES:
            if not (folder / (name.replace(".", "/") + ".py")).is_file():
                loaded.problems[name] = "file %s.py is missing" % name.replace(".", "/")
                continue
            try:
                importlib.import_module(name)
            except Exception as exc:
                loaded.problems[name] = "importing it failed: %s\n%s" % (
                    exc, "".join(traceback.format_exception_only(type(exc), exc)).strip())
                loaded.errors[name] = exc
        for name, module in sys.modules.items():
            if name.split(".")[0] in APP_PACKAGES and module is not None:
                loaded.modules[name] = module
        if "core.app" in loaded.modules and "api.be" in loaded.modules:
            try:
                loaded.app = loaded.modules["core.app"].app
                loaded.app.blueprint(loaded.modules["api.be"].bp)
            except Exception as exc:
                loaded.problems["run"] = "registering the blueprint failed: %r" % exc
                loaded.errors["run"] = exc
                loaded.app = None
    finally:
        sys.dont_write_bytecode = no_bytecode
        sys.path.remove(str(folder))
        _forget_app_modules()
    loaded.assert_from_folder()
    return loaded
