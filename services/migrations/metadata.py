"""Every table Herald keeps, gathered for Alembic. Services and the platform own their tables;
this only lists them (which is why it lives here, above the services, and not in shared/)."""

import services.auth_events.tables  # noqa: F401  (registers signin_history)
import services.notifier.tables  # noqa: F401  (registers email_deliveries, notifications, ...)
import services.scheduler.tables  # noqa: F401  (registers digest_schedules)
import shared.jobs.dead_letters  # noqa: F401
import shared.jobs.ledger  # noqa: F401
import shared.jobs.rate_limit  # noqa: F401
from shared.db import Base

metadata = Base.metadata
