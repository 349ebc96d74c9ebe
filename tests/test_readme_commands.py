"""The top-level README's commands: the quickstart, the Windows versions, the
article's session against final/, and the per-chapter commands."""
import re
import shlex
import sys
from pathlib import Path

import pytest

from tutorial.chapters import ROOT

pytestmark = pytest.mark.repository_only

README = (ROOT / "README.md").read_text(encoding="utf-8")


DOCS = ROOT / "docs"


def raw_blocks(language, text=README):
    return [b.strip("\n").split("\n") for b in re.findall(r"^```%s\n(.*?)^```" % language, text, re.S | re.M)]


def blocks(language, text=README):
    """The commands of each block: a line ending in ` \\` (POSIX) or ` ^` (cmd.exe) goes on on the next."""
    return [re.sub(r" [\\^]\n\s*", " ", "\n".join(b)).split("\n") for b in raw_blocks(language, text)]


def test_readme_has_exactly_two_quickstart_commands():
    quickstart = blocks("shell")[0]
    assert len(quickstart) == 2
    serve, test = quickstart
    assert serve.endswith("final/run.py") and test.endswith("-m pytest")
    assert serve.rsplit("&&", 1)[0] == test.rsplit("&&", 1)[0], "both start with the same install"
    assert "-r requirements.txt" in serve


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert blocks("shell")[0][1] in ci.splitlines(), ".ci/run must run exactly the README's test command"


def test_the_quickstart_is_on_the_first_screen_uncut():
    """Issue 21: at GitHub's column width a line of more than 80 characters is cut (the two quickstart commands
    were cut exactly where they differ). The quickstart comes first, every command line of the README's
    code blocks is at most 80 characters, and a bare URL never runs into the Chinese text after it."""
    first = README.index("```shell")
    assert README[:first].count("\n") <= 15, "the quickstart is within the first screen's lines"
    assert not re.search(r"^```", README[:first], re.M), "no other block comes before it"
    # (the article's session and its Windows curl lines below keep the article's one-line requests)
    for block in raw_blocks("shell") + raw_blocks("bat")[:1]:
        long = [line for line in block if len(line) > 80]
        assert long == [], "cut at GitHub's width: %s" % long
    assert blocks("shell")[0][0].endswith("final/run.py") and raw_blocks("shell")[0][0] == raw_blocks("shell")[0][2]
    bare = re.findall(r"(?<![<(])https?://[^\s<>()]*[\u3000-\u303f\uff00-\uffef]", README)
    assert bare == [], "an autolink swallows the punctuation after it: write <http://...>"


def to_cmd_exe(posix_line):
    """The README's rule for the Windows version of a quickstart line."""
    line = posix_line.replace("python3 -m venv", "py -m venv").replace(".venv/bin/", ".venv\\Scripts\\")
    return re.sub(r"(?<=\S)/(?=\S)", lambda m: "\\", line) if "final/run.py" in line else line


def test_windows_quickstart_is_the_same_commands():
    posix, windows = blocks("shell")[0], blocks("bat")[0]
    assert windows == [to_cmd_exe(line).replace("final/run.py", "final\\run.py") for line in posix]


def cmd_quote(arg):
    """Quote one argument for cmd.exe: inside double quotes, | < > & are text,
    and curl.exe reads \" as a double quote."""
    if re.search(r'[\s"|<>&^]', arg):
        return '"%s"' % arg.replace('"', '\\"')
    return arg


def test_windows_curl_lines_are_the_posix_ones_quoted_for_cmd():
    posix = [line[2:] for line in re.findall(r"^\$ curl .*", README, re.M)]
    windows = blocks("bat")[1]
    expected = []
    for line in posix:
        args = shlex.split(line)
        cmd = "curl.exe " + " ".join(cmd_quote(a) for a in args[1:])
        if cmd not in expected:
            expected.append(cmd)
    assert windows == expected


def test_readme_session_against_final(executed_readmes):
    """The article's session in the README, against a copy of final/ started
    with `python final/run.py` from (a copy of) the repository root."""
    run = executed_readmes["README.md"]
    assert "error" not in run, run.get("error")
    assert not run["differences"], "\n\n".join(run["differences"])
    assert run["probe_error"] is None, run["probe_error"]
    assert run["server_exit"] == 0, run["server_output"]


def test_readme_chapter_test_command_selects_that_chapter(pytester):
    line = blocks("shell")[1][1]
    args = shlex.split(line)
    assert args[:3] == [".venv/bin/python", "-m", "pytest"]
    result = pytester.runpytest_inprocess(str(ROOT / "tests"), *args[3:], "--collect-only", "-q")
    ids = [l for l in result.outlines if "::" in l]
    assert ids and all("[04-login" in i for i in ids), result.outlines[-20:]


def test_readme_jupyter_command_opens_the_notebooks_with_the_quickstart_environment():
    line = next(l for b in blocks("shell") for l in b if "jupyter lab" in l)
    assert line == ".venv/bin/jupyter lab notebooks/"
    from importlib.util import find_spec

    assert find_spec("jupyterlab") is not None, "requirements.txt must install JupyterLab"
    from tutorial.notebooks import notebooks

    listed = re.findall(r"\]\((notebooks/[^)]+\.ipynb)\)", README)
    assert sorted(listed) == sorted(p.relative_to(ROOT).as_posix() for p in notebooks())


def test_readme_check_command_is_the_chapters_one():
    line = next(l for b in blocks("shell", (DOCS / "check-your-code.md").read_text(encoding="utf-8"))
                for l in b if "--project" in l)
    chapter_03 = (ROOT / "chapters" / "03-clear-update-token" / "README.md").read_text(encoding="utf-8")
    assert line.replace(".venv/bin/python", "python") in chapter_03


@pytest.mark.parametrize("readme", ["README.md", "bench/README.md", "docs/check-your-code.md"])
def test_every_windows_command_is_a_posix_command_of_the_readme(readme):
    """Each `.venv\\Scripts\\...` command a README gives for Windows is one of
    its POSIX commands with Windows paths."""
    text = (ROOT / readme).read_text(encoding="utf-8")
    posix = {l for b in re.findall(r"^```shell\n(.*?)^```", text, re.S | re.M) for l in b.strip("\n").split("\n")}
    windows = re.findall(r"`(\.venv\\Scripts\\[^`（]+)`", text) + [
        l for b in re.findall(r"^```bat\n(.*?)^```", text, re.S | re.M) for l in b.split("\n") if l.startswith(".venv")]
    windows = [w for w in windows if w not in (".venv\\Scripts\\activate", ".venv\\Scripts\\Activate.ps1")]  # below
    assert len(windows) >= (3 if readme == "README.md" else 1)
    for line in windows:
        back = line.replace(".venv\\Scripts\\", ".venv/bin/").replace("%USERPROFILE%\\", "~/").replace("\\", "/")
        assert back in posix, "%r is not the Windows form of a command %s shows" % (line, readme)


def test_readme_run_one_chapter_command_is_how_the_tests_start_chapters():
    from tutorial.server import ChapterServer

    line = blocks("shell")[1][0]
    assert line == ".venv/bin/python chapters/04-login/run.py"
    # the README sessions start every chapter exactly so, from above its folder
    assert ChapterServer(ROOT / "chapters" / "04-login", cwd=ROOT).command[1] == "chapters/04-login/run.py"


def test_readme_activation_commands_exist_in_a_virtual_environment():
    import os

    assert "`source .venv/bin/activate`" in README and "`.venv\\Scripts\\activate`" in README
    trouble = (DOCS / "troubleshooting.md").read_text(encoding="utf-8")
    assert "`.venv\\Scripts\\Activate.ps1`" in trouble  # PowerShell's, in "when something goes wrong"
    if sys.prefix == sys.base_prefix:
        pytest.skip("not running in a virtual environment")
    scripts = "Scripts" if os.name == "nt" else "bin"
    assert (Path(sys.prefix) / scripts / ("activate.bat" if os.name == "nt" else "activate")).is_file()
    assert (Path(sys.prefix) / scripts / "Activate.ps1").is_file()  # venv makes it on every system


def test_readme_what_is_where_lists_real_folders():
    page = (DOCS / "testing.md").read_text(encoding="utf-8")
    section = page.split("## 仓库里有什么 / What is where", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `([\w./-]+)` \|", section, re.M)
    assert len(listed) >= 5
    for path in listed:
        assert (ROOT / path).exists(), path
