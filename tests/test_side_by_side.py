"""Notebook 03 (chapters side by side) lists only the chapters whose answers differ from the row above, and says
that the chapters it leaves out answer as the row above them: 27-31 as 26, 33 and 34 as 32. Starting a server for
each would cost seconds, so here the notebook's own table code (its second code cell: cell(), attributes(),
COLUMNS and the loop that fills a row) runs in this process, against each chapter's app, and the rows are compared.
"""
import ast
import json
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

from support import Target, app_client
from tutorial.chapters import CHAPTERS, by_key
from tutorial.notebooks import NOTEBOOKS

pytestmark = pytest.mark.repository_only

NOTEBOOK = NOTEBOOKS / "03-chapters-side-by-side.ipynb"


def table_code():
    """The notebook's cell that fills the table, without its last statement (the Markdown it shows)."""
    cells = [c for c in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    source = "".join(cells[1]["source"])
    tree = ast.parse(source)
    assert isinstance(tree.body[-1], ast.Expr), "the cell ends with the table it shows"
    return compile(ast.Module(tree.body[:-1], []), str(NOTEBOOK), "exec")


class InProcess:
    """What the cell calls httpx for, sent to the chapters' apps in this process instead of their servers."""

    def __init__(self, clients):
        self.clients = clients  # port -> AppClient

    def _send(self, method, url, content=None, headers=None):
        parts = urlsplit(url)
        return self.clients[parts.port].request(method, parts.path, content=content, headers=headers)

    def post(self, url, content=None, headers=None):
        return self._send("POST", url, content, headers)

    def get(self, url, headers=None):
        return self._send("GET", url, None, headers)


def rows_of(slugs, tmp_path, monkeypatch):
    """{slug: the notebook's row} for each chapter, each app with a session folder of its own."""
    servers, clients = {}, {}
    for port, slug in enumerate(slugs, 8100):
        ch = by_key(slug)
        folder = tmp_path / slug
        folder.mkdir()
        clients[port] = app_client(Target(ch.slug, ch.number, ch.path), folder, monkeypatch)
        servers[slug] = SimpleNamespace(session_dir=folder,
                                        url=lambda endpoint, port=port: "http://127.0.0.1:%d/api/v1/be/%s" % (port, endpoint))
    namespace = {"servers": servers, "httpx": InProcess(clients), "Markdown": str}
    exec(table_code(), namespace)
    return namespace["rows"], namespace["COLUMNS"]


def test_the_chapters_the_notebook_leaves_out_answer_as_the_row_above(tmp_path, monkeypatch):
    shown = [by_key(name).slug for name in ("device-cookies", "logout-wins")]
    later = [ch.slug for ch in CHAPTERS if ch.number >= by_key("device-cookies").number]
    rows, columns = rows_of(later, tmp_path, monkeypatch)
    above = None
    for slug in later:
        above = slug if slug in shown else above
        assert rows[slug] == rows[above], "%s does not answer as %s: the notebook's table must list it" % (slug, above)
    differ = [c for c, x, y in zip(columns, rows[shown[0]], rows[shown[1]]) if x != y]
    assert differ == columns[2:3], "32 differs from 26 in the session folder only, as the notebook says"
    text = "".join("".join(c["source"]) for c in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"])
    assert "[32](../chapters/32-logout-wins/)" in text and "34（`final/` 和它完全相同）" in text
