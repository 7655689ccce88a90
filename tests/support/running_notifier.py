"""notifier's whole service in the test's process, built by its own bootstrap on the test's
RabbitMQ vhost and database: real consumers, real Dramatiq workers, a sender and clock of the
test's choosing."""

from services.migrations.migrate import upgrade_to_head
from services.notifier.bootstrap import bootstrap as bootstrap_notifier
from services.notifier.email.message import EmailSender
from services.notifier.settings import NotifierSettings
from shared.amqp.consumer import QueueConsumer
from shared.clock import Clock
from shared.db import build_engine, build_session_factory
from shared.jobs.ledger import JobLedger
from shared.runtime.service import Service
from shared.topology import NOTIFICATION_REQUESTED_KEY, NOTIFICATIONS_EXCHANGE, SCHEDULER_EXCHANGE
from tests.fakes.clock import FakeClock
from tests.support.events import publish_json
from tests.support.herald_process import free_port

#: How long a consumer may take to connect and declare its queues.
CONNECT_TIMEOUT_S = 15


class RunningNotifier:
    """The database is migrated at once; ``build`` bootstraps the service, ``start`` starts it
    (building it first unless ``build`` was called) and waits until every consumer is connected:
    a message published before its consumer has declared the exchange and queue would be lost."""

    def __init__(self, amqp_url: str, database_url: str, *, clock: Clock | None = None) -> None:
        self.amqp_url = amqp_url
        self.database_url = database_url
        #: The service's clock; None: the real one, as in production.
        self.clock = clock
        self.engine = build_engine(database_url)
        upgrade_to_head(self.engine)
        self.session_factory = build_session_factory(self.engine)
        #: For reading jobs; its clock stamps nothing.
        self.ledger = JobLedger(self.session_factory, FakeClock())
        self.service: Service | None = None
        self.email_sender: EmailSender | None = None

    def build(self, email_sender: EmailSender | None = None, **settings) -> Service:
        """Bootstrap notifier; ``settings`` are NotifierSettings fields beside the test's vhost,
        database and a free port. No ``email_sender``: the one the settings name."""
        self.email_sender = email_sender
        self.service = bootstrap_notifier(
            NotifierSettings(
                amqp_url=self.amqp_url, database_url=self.database_url, notifier_port=free_port(), **settings
            ),
            email_sender=email_sender,
            clock=self.clock,
        )
        return self.service

    def start(self, email_sender: EmailSender | None = None, **settings) -> "RunningNotifier":
        if self.service is None:
            self.build(email_sender, **settings)
        self.service.start()
        for consumer in self.service.intake:
            if isinstance(consumer, QueueConsumer):
                assert consumer.connected.wait(CONNECT_TIMEOUT_S), f"{consumer.name} did not connect"
        return self

    def component(self, name: str):
        """One of the service's components (a consumer, a worker pool, the HTTP server) by name."""
        return next(c for c in [*self.service.intake, *self.service.work] if c.name == name)

    def publish_request(self, body: bytes | dict) -> None:
        """A ``notification.requested`` event, as another service publishes it."""
        publish_json(self.amqp_url, NOTIFICATIONS_EXCHANGE, NOTIFICATION_REQUESTED_KEY, body)

    def publish_scheduled(self, routing_key: str, body: bytes | dict) -> None:
        """An event of the scheduler's (digests due, maintenance due)."""
        publish_json(self.amqp_url, SCHEDULER_EXCHANGE, routing_key, body)

    def job_status(self, job_id: str) -> str | None:
        job = self.ledger.get(job_id)
        return job.status if job else None

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
            self.service = None
        self.engine.dispose()

    def __enter__(self) -> "RunningNotifier":
        return self

    def __exit__(self, *_) -> None:
        self.stop()
