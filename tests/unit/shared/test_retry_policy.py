import dramatiq
import pytest
from sqlalchemy.exc import OperationalError

from shared.errors import PermanentError, TransientError
from shared.jobs.retry_policy import retry_on_schedule, scheduled_delay_ms
from shared.topology import SEND_SIGNIN_ALERT

SIGNIN_ALERT_BACKOFF = SEND_SIGNIN_ALERT.backoff


def test_the_sign_in_schedule_is_five_attempts_two_four_eight_sixteen_seconds():
    assert SIGNIN_ALERT_BACKOFF.max_attempts == 5
    assert [scheduled_delay_ms(SIGNIN_ALERT_BACKOFF, n) for n in range(4)] == [2000, 4000, 8000, 16000]


def test_a_retry_after_longer_than_the_schedule_wins():
    assert scheduled_delay_ms(SIGNIN_ALERT_BACKOFF, 0, retry_after_s=7) == 7000
    assert scheduled_delay_ms(SIGNIN_ALERT_BACKOFF, 3, retry_after_s=7) == 16000


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
