"""Proof of which chapter a server process ran (see probe/sitecustomize.py)."""
import sys
from pathlib import Path

from tutorial.chapters import CHAPTERS, FINAL_DIR

PROBE_DIR = Path(__file__).resolve().parent / "probe"
APP_FILES = ("run.py", "config.py", "core/app.py", "core/tool.py", "api/be.py")


class Probe:
    """Environment for a server process that records the Python files it opens."""

    def __init__(self, tmp_path):
        self.file = Path(tmp_path) / "opened-files.txt"
        self.env = {"PYTHONPATH": str(PROBE_DIR), "CHAPTER_PROBE": str(self.file)}

    def opened(self) -> set:
        if not self.file.exists():
            return set()
        return {Path(line) for line in self.file.read_text().splitlines() if line}

    def assert_ran(self, folder, copy_of=None):
        """The process imported the app from `folder` (a copy of chapter `copy_of`),
        and no chapter code from anywhere else."""
        folder = Path(folder).resolve()
        opened = {p.resolve() for p in self.opened()}
        assert opened, "the probe recorded nothing: was the server started with Probe.env?"
        missing = [f for f in APP_FILES if folder / f not in opened]
        assert not missing, "the server did not load %s from %s" % (missing, folder)
        others = [c.path for c in CHAPTERS] + [FINAL_DIR]
        system = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()]
        for path in opened:
            if folder in path.parents or any(s in path.parents for s in system):
                continue
            assert not any(o in path.parents for o in others), "the server also loaded %s" % path
            assert path.parent.name not in ("core", "api") and path.name not in ("config.py", "run.py"), (
                "the server loaded app code from outside %s: %s" % (folder, path))
