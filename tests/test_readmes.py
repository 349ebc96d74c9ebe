"""What the READMEs show is what the app does.

Every ```console block of a chapter README is run for real: the chapter is
copied to a temporary folder and served from above it with
`python chapters/<chapter>/run.py`, as a learner does from the repository root.
Each command (curl, python -c, ls, cat) runs inside the chapter folder, and its
answer must equal the README's after masking token, time, port (and Retry-After seconds) with the one
rule in tutorial/transcript.py. After an intended change, regenerate the answers
with `python -m tutorial.transcript --update` and review the git diff.
"""
import pytest

from tutorial.chapters import LAST
from tutorial.transcript import Result, parse

pytestmark = pytest.mark.repository_only


def test_chapter_readme_session_matches_the_app(chapter, executed_readmes, repo_root):
    readme = chapter.path / "README.md"
    blocks = parse(readme.read_text(encoding="utf-8"))
    assert any(step.command.startswith("curl ") for b in blocks for step in b.steps), (
        "%s must show at least one curl request to the running chapter" % readme)
    slug, folder = chapter.id, chapter.path
    if slug == "final":  # the last chapter's README and code (test_layout.py): its session is run once, there
        assert [b.steps for b in blocks] == [b.steps for b in parse((LAST.path / "README.md").read_text("utf-8"))]
        slug, folder = LAST.slug, LAST.path
    run = executed_readmes[slug]
    assert "error" not in run, run.get("error")
    assert not run["differences"], "\n\n".join(run["differences"])
    # It really was this chapter: the server loaded its files from the copy
    # (the probe saw nothing else), and the copy is this chapter file for file.
    assert run["probe_error"] is None, run["probe_error"]
    assert run["copied_differently"] == []
    # Started from above the folder, it still kept its sessions in its own temp/:
    # nothing appeared in the folder it was started from.
    assert run["clone_entries"] == [folder.relative_to(repo_root).parts[0]]
    # Ctrl-C stopped it cleanly.
    assert run["server_exit"] == 0, run["server_output"]
    assert "Traceback" not in run["server_output"], run["server_output"]


def test_a_readme_answer_the_app_does_not_give_fails(executed_readmes, repo_root):
    """Change one shown answer: the comparison with what the app really
    answered (in the run above) must catch it."""
    readme = repo_root / "chapters" / "05-logout" / "README.md"
    blocks = parse(readme.read_text(encoding="utf-8"))
    actual = executed_readmes["05-logout"]["actual"]
    assert not Result(readme, blocks, actual).differences
    step = blocks[0].steps[-1]
    assert step.expected == '{"data":"退出失败","status":401}'
    step.expected = '{"data":"退出成功","status":0}'
    tampered = Result(readme, blocks, actual)
    assert len(tampered.differences) == 1 and "退出失败" in tampered.differences[0]


def test_only_the_sessions_that_log_in_at_once_pay_for_the_real_hash(repo_root):
    """What docs/testing.md says of the sessions' server: a hash of one iteration, but where curl sends logins at
    once (their answers depend on how long a hash takes: 503 from the hash queue, attempts under way)."""
    from tutorial.transcript import readmes, server_env

    real = sorted(name for name, (readme, _) in readmes().items()
                  if "MANAGER_PASSWORD_HASH" not in server_env(parse(readme.read_text(encoding="utf-8"))))
    assert real == ["23-failures-not-attempts", "24-attempts-under-way", "28-hash-queue"]
    assert server_env([], {"MANAGER_PASSWORD_HASH": "mine"})["MANAGER_PASSWORD_HASH"] == "mine"
    top = (repo_root / "docs" / "testing.md").read_text(encoding="utf-8")
    assert "hash takes one iteration (`MANAGER_PASSWORD_HASH`" in top and "(`curl --parallel`)" in top
