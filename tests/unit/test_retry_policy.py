import dramatiq
import pytest
from sqlalchemy.exc import OperationalError

from shared.errors import PermanentError, TransientError
from shared.jobs.retry_policy import SIGNIN_ALERT_BACKOFF, retry_on_schedule


def test_the_sign_in_schedule_is_five_attempts_two_four_eight_sixteen_seconds():
    assert SIGNIN_ALERT_BACKOFF.max_attempts == 5
    assert [SIGNIN_ALERT_BACKOFF.delay_ms(n) for n in range(4)] == [2000, 4000, 8000, 16000]


def test_a_retry_after_longer_than_the_schedule_wins():
    assert SIGNIN_ALERT_BACKOFF.delay_ms(0, retry_after_s=7) == 7000
    assert SIGNIN_ALERT_BACKOFF.delay_ms(3, retry_after_s=7) == 16000


@pytest.mark.parametrize(
    "error, delay",
    [(TransientError("503", retry_after=3), 3000), (OperationalError("SELECT 1", {}, OSError("down")), 2000)],
)
def test_transient_failures_become_a_scheduled_retry(error, delay):
    with pytest.raises(dramatiq.Retry) as raised:
        with retry_on_schedule(SIGNIN_ALERT_BACKOFF):
            raise error
    assert raised.value.delay == delay and raised.value.__cause__ is error


def test_a_permanent_failure_passes_through():
    with pytest.raises(PermanentError):
        with retry_on_schedule(SIGNIN_ALERT_BACKOFF):
            raise PermanentError("550")
