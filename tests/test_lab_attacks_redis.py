"""The security lab's attacks on the login counters (sections 12, 14 and 15 of
notebooks/04-security-lab.ipynb) once more with the counters in Redis, on the
chapters before each fix. A file of its own: these need a redis-server, the
rest of test_lab_attacks.py does not."""
import pytest

from test_attempts_under_way import checks  # noqa: F401 (a fixture the tests below use)
from test_lab_attacks import _guesses_at_once, _right_passwords_at_once, _the_owner_while_another_address_guesses, before
from test_redis_store import redis_stores, store  # noqa: F401 (the Redis fixtures)
from test_throttle import THROTTLED

pytestmark = pytest.mark.repository_only


@pytest.fixture
def redis_client(client, store, empty_redis):
    """`client`, with the app's sessions and login counters in the run's Redis (test_redis_store.py's `store`)."""
    return client


@pytest.mark.since("shared-counters")
@pytest.mark.until(before("failures-not-attempts"))
def test_right_passwords_at_the_same_moment_are_refused_with_redis_before_the_fix(chapter, redis_client, clock):
    answers = _right_passwords_at_once(redis_client)
    assert set(answers) == {(200, 0), (429, 429)} and answers[200, 0] + answers[429, 429] == 16, answers


@pytest.mark.since("failures-not-attempts")
@pytest.mark.until(before("redis-under-way"))
def test_guesses_sent_at_once_are_all_checked_with_redis_before_the_fix(chapter, redis_client, clock, checks):
    """Chapter 24's limit is in the file store only: with Redis, all 16 are checked at once."""
    assert _guesses_at_once(redis_client, checks) == ([(200, 400)] * 16, 16)


@pytest.mark.since("shared-counters")
@pytest.mark.until(before("device-cookies"))
def test_a_guesser_elsewhere_keeps_the_owner_out_with_redis_before_the_fix(chapter, redis_client, config, clock):
    assert _the_owner_while_another_address_guesses(redis_client, config) == THROTTLED
