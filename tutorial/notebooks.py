"""Execute the notebooks, and keep what is committed equal to what a fresh run shows.

    python -m tutorial.notebooks             # execute each notebook, compare with the committed outputs
    python -m tutorial.notebooks --update    # execute and write the outputs into the notebooks

Outputs are stored after `tutorial.transcript.mask` (token, time, port, Retry-After seconds): the
same rule the READMEs use, so a reader on GitHub sees stable values and a
re-run gives no diff. Execution counts are renumbered, per-cell timing and the
kernel's version are dropped. A cell tagged `volatile-output` (a benchmark's
numbers) must run without error, but its output is not compared.

nbformat and nbclient are imported only when needed, and without
`rfc3987_syntax`: jsonschema loads it (if installed, as Jupyter's packages
install it) to check "iri" formats, which no notebook uses, and building its
grammar takes about three seconds every time.
"""
from __future__ import annotations

import argparse
import copy
import difflib
import os
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# An import of None fails at once, and jsonschema then skips that format check.
sys.modules.setdefault("rfc3987_syntax", None)

from tutorial.chapters import ROOT  # noqa: E402
from tutorial.transcript import PORT, README_PORT, mask  # noqa: E402

NOTEBOOKS = ROOT / "notebooks"
VOLATILE = "volatile-output"
TEXT_TYPES = ("text/plain", "text/markdown", "text/html")


def notebooks() -> list:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def read(path: Path):
    import nbformat

    return nbformat.read(str(path), as_version=4)


def execute(path: Path, timeout: int = 120, env: dict = None, cwd: Path = NOTEBOOKS, base_env: dict = None):
    """Run a notebook top to bottom in a fresh kernel, in the notebooks/ folder,
    as `Run All` in Jupyter does. Raises on the first failing cell. The kernel
    gets `base_env` (default: this process's environment) plus `env`."""
    from nbclient import NotebookClient

    nb = read(path)
    kernel_env = dict(base_env if base_env is not None else os.environ)
    kernel_env["PYTHONDONTWRITEBYTECODE"] = "1"  # imports write nothing into final/
    kernel_env.update(env or {})
    with tempfile.TemporaryDirectory(prefix="kernel-") as sockets:
        NotebookClient(nb, config=_kernel_config(sockets), timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(cwd)}}).execute(env=kernel_env)
    return nb


def _kernel_config(sockets: str):
    """How the tests' kernels are run. Where Unix sockets exist, the kernel talks over them (files in the folder
    `sockets`), not over TCP ports: Jupyter picks five free ports, frees them
    and lets the kernel bind them a moment later, and on a busy machine another
    program can take one in between (the kernel then dies before replying to
    kernel_info, jupyter_client issue 154)."""
    from traitlets.config import Config

    config = Config()
    # When a cell fails, the kernel is asked to shut down and its atexit handlers stop
    # its servers and remove their folders; a lab with six servers (several with four
    # workers) needs more than the default 5 s for that on a busy machine (SIGTERM comes
    # at half of it, and a SIGTERM skips atexit: the folders were left behind).
    config.KernelManager.shutdown_wait_time = 60.0
    if os.name != "nt":
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = os.path.join(sockets, "kernel")
    return config


def _texts(output) -> list:
    """The text of an output, as shown (stream text, text/plain, text/markdown...)."""
    texts = [output["text"]] if "text" in output else []
    texts += [output["data"][k] for k in TEXT_TYPES if k in output.get("data", {})]
    return ["".join(t) if isinstance(t, list) else t for t in texts]


def shown_ports(nb) -> dict:
    """Each server's port as the notebook shows it: the first to appear is 8000,
    the next 8001, and so on, so two servers never look like one."""
    ports = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for text in _texts(output):
                for found in PORT.finditer(text):
                    ports.setdefault(int(found.group()), README_PORT + len(ports))
    return ports


def _clean_output(output: dict, ports: dict) -> dict:
    out = copy.deepcopy(dict(output))
    out.pop("execution_count", None)
    if "text" in out:
        out["text"] = mask("".join(out["text"]) if isinstance(out["text"], list) else out["text"], ports)
    if "data" in out:
        data = dict(out["data"])
        for key in TEXT_TYPES:
            if key in data:
                value = data[key]
                data[key] = mask("".join(value) if isinstance(value, list) else value, ports)
        out["data"] = data
    out.setdefault("metadata", {}) if out.get("output_type") in ("display_data", "execute_result") else None
    return out


def normalise(nb):
    """What gets committed: masked outputs, counts 1..n, no timing, no versions."""
    import nbformat

    nb = copy.deepcopy(nb)
    ports = shown_ports(nb)
    count = 0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        cell.outputs = [nbformat.from_dict(_clean_output(o, ports)) for o in cell.outputs
                        if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
        for o in cell.outputs:
            if o.get("output_type") == "execute_result":
                o["execution_count"] = count
    nb.metadata = nbformat.from_dict({
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "pygments_lexer": "ipython3"},
    })
    return nb


def _comparable(nb) -> list:
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if VOLATILE in cell.metadata.get("tags", []):
            cells.append((cell.source, "(volatile output, not compared)"))
            continue
        text = []
        for o in cell.outputs:
            if "text" in o:
                text.append(o["text"])
            for key in TEXT_TYPES:
                if key in o.get("data", {}):
                    text.append(o["data"][key])
            if "image/png" in o.get("data", {}):
                text.append("<image/png>")
        cells.append((cell.source, "".join(text)))
    return cells


def differences(committed, fresh) -> list:
    """Where the committed notebook shows something a fresh run does not."""
    out = []
    a, b = _comparable(normalise(committed)), _comparable(normalise(fresh))
    if [s for s, _ in a] != [s for s, _ in b]:
        return ["the cells themselves differ"]
    for i, ((source, want), (_, got)) in enumerate(zip(a, b)):
        if want != got:
            diff = "\n".join(difflib.unified_diff(want.split("\n"), got.split("\n"),
                                                  "committed", "fresh run", lineterm=""))
            out.append("code cell %d:\n%s\n%s" % (i + 1, source, diff))
    return out


def write(nb, path: Path) -> None:
    import nbformat

    with open(path, "w", encoding="utf-8", newline="\n") as f:
        nbformat.write(nb, f)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="write fresh outputs into the notebooks")
    parser.add_argument("only", nargs="*", help="notebook paths (default: all)")
    args = parser.parse_args(argv)
    paths = [Path(p).resolve() for p in args.only] or notebooks()
    failed = 0
    for path in paths:
        started = time.monotonic()
        fresh = execute(path)
        took = time.monotonic() - started
        rel = path.relative_to(ROOT)
        if args.update:
            write(normalise(fresh), path)
            print("updated %s (%.1fs)" % (rel, took))
            continue
        diff = differences(read(path), fresh)
        if diff:
            failed += 1
            print("%s differs from a fresh run:\n%s" % (rel, "\n\n".join(diff)))
        else:
            print("ok %s (%.1fs)" % (rel, took))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
