"""Carries the correlation id in ``message.options`` and sets it around each job."""

from contextvars import Token

import dramatiq

from shared import correlation

OPTION = "correlation_id"


class CorrelationIds(dramatiq.Middleware):
    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}

    def before_enqueue(self, broker, message, delay):
        if OPTION not in message.options:
            message.options[OPTION] = correlation.current_correlation_id() or correlation.new_correlation_id()

    def before_process_message(self, broker, message):
        # Worker threads are reused: each job sets its own id and restores the previous one.
        self._tokens[message.message_id] = correlation._current.set(message.options.get(OPTION))

    def after_process_message(self, broker, message, *, result=None, exception=None):
        self._restore(message)

    def after_skip_message(self, broker, message):
        self._restore(message)

    def _restore(self, message) -> None:
        token = self._tokens.pop(message.message_id, None)
        if token is not None:
            correlation._current.reset(token)
