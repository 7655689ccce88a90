"""Readiness checks of the dependencies every service has."""

import pika
from sqlalchemy import Engine

from shared.broker import with_connection_defaults
from shared.db import ping


def database_check(engine: Engine):
    return lambda: ping(engine)


def broker_check(amqp_url: str):
    def check() -> None:
        parameters = pika.URLParameters(with_connection_defaults(amqp_url))
        parameters.socket_timeout = 2
        parameters.connection_attempts = 1
        pika.BlockingConnection(parameters).close()

    return check


def consumer_check(consumer):
    def check() -> None:
        if not consumer.connected.is_set():
            raise RuntimeError(f"{consumer.name} is not consuming")

    return check
