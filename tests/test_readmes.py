"""What the READMEs show is what the app does.

Every ```console block of a chapter README is run for real: the chapter is
copied to a temporary folder and served from above it with
`python chapters/<chapter>/run.py`, as a learner does from the repository root.
Each command (curl, python -c, ls, cat) runs inside the chapter folder, and its
answer must equal the README's after masking token, time and port with the one
rule in tutorial/transcript.py. After an intended change, regenerate the answers
with `python -m tutorial.transcript --update` and review the git diff.
"""
import filecmp
import os

import pytest

from probes import APP_FILES, Probe
from tutorial.transcript import parse, run_readme

pytestmark = pytest.mark.repository_only


def test_chapter_readme_session_matches_the_app(chapter, tmp_path, repo_root):
    readme = chapter.path / "README.md"
    assert parse(readme.read_text(encoding="utf-8")), "%s shows no session to try" % readme
    work = tmp_path / "clone"
    work.mkdir()
    probe = Probe(tmp_path)
    result = run_readme(readme, chapter.path, work, env=probe.env)

    assert not result.differences, "\n\n".join(result.differences)
    # It really was this chapter: the server loaded its files from the copy,
    # and the copy is this chapter file for file.
    copy = work / chapter.path.relative_to(repo_root)
    probe.assert_ran(copy)
    for name in APP_FILES:
        assert filecmp.cmp(copy / name, chapter.path / name, shallow=False), name
    # Started from another folder, it still kept its sessions in its own temp/:
    # nothing appeared in the folder it was started from.
    assert os.listdir(work) == [chapter.path.relative_to(repo_root).parts[0]]
    # Ctrl-C stopped it cleanly.
    assert result.server_exit == 0, result.server_output
    assert "Traceback" not in result.server_output, result.server_output


def test_a_readme_answer_the_app_does_not_give_fails(tmp_path, repo_root):
    """Change one shown answer: the comparison must catch it."""
    from tutorial.transcript import Result

    chapter = repo_root / "chapters" / "05-logout"
    work = tmp_path / "clone"
    work.mkdir()
    result = run_readme(chapter / "README.md", chapter, work)
    assert not result.differences
    step = result.blocks[0].steps[-1]
    assert step.expected == '{"data":"退出失败","status":401}'
    step.expected = '{"data":"退出成功","status":0}'
    tampered = Result(result.readme, result.blocks, result.actual)
    assert len(tampered.differences) == 1 and "退出失败" in tampered.differences[0]
