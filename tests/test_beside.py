"""The tests that mostly wait (tests/beside.py) ran beside the suite, in a child pytest of their own: all of
them, and all passed. A failure here shows the child's own report of what failed and why."""
import re

import pytest

pytestmark = [pytest.mark.repository_only, pytest.mark.full_run_only]



def test_the_tests_run_beside_the_suite_all_passed(executed_beside, request):
    run = executed_beside
    output = run["output"]
    assert run["code"] == 0 and not re.search(r"^(FAILED|ERROR) ", output, re.M), output[-8000:]
    found = re.findall(r"(\d+) (passed|skipped|failed|errors?|deselected)", output.strip().splitlines()[-1])
    counts = {kind: int(n) for n, kind in found}
    moved = request.config.tutorial_beside
    assert moved and counts.get("passed", 0) + counts.get("skipped", 0) == len(moved), (len(moved), output[-2000:])
