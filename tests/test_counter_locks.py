"""Step 13 (counter-locks): a login counter is locked while it is read and
written, so attempts that arrive together are all counted. The race on
chapter 12 is in test_lab.py."""
import threading

import pytest

pytestmark = pytest.mark.since("counter-locks")


@pytest.mark.until("shared-counters")  # (then failures are counted only at the end: test_attempts_under_way.py)
def test_reservations_are_atomic_across_threads(chapter, counters, session_dir, clock, config):
    """Twenty attempts at the same moment, each with its own file handle (as
    separate workers have): exactly the free ones may go on."""
    barrier, results = threading.Barrier(20), []
    path = str(session_dir / ("login_account_" + "c" * 32))

    def attempt():
        barrier.wait()
        results.append(counters.reserve(path, clock.now))

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0] * config.LOGIN_FREE_FAILURES + [1] * (20 - config.LOGIN_FREE_FAILURES)


@pytest.mark.until("shared-counters")
def test_an_attempt_in_the_middle_of_another_waits_for_it(chapter, counters, session_dir, clock, config):
    """Another worker's attempt arrives while this one has read the counter and
    not yet written it: it waits for the lock, then sees this one's count."""
    from tutorial.lab import attempt_meets_an_attempt

    meeting = attempt_meets_an_attempt(counters, str(session_dir / ("login_account_" + "d" * 32)),
                                       clock.now, patience=0.3)
    assert not meeting.other_finished_meanwhile, meeting
    assert meeting.results == [0, 1], "the free attempt went to the first; the other must wait a second"
