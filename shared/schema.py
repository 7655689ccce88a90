"""Every table Herald keeps, gathered for Alembic. Services own their tables; this only lists them."""

import services.auth_events.tables  # noqa: F401  (registers signin_history)
import services.notifier.tables  # noqa: F401  (registers email_deliveries, notifications, ...)
import services.scheduler.tables  # noqa: F401  (registers digest_schedules)
import shared.dead_letters  # noqa: F401
import shared.ledger  # noqa: F401
import shared.rate_limit  # noqa: F401
from shared.db import Base

metadata = Base.metadata
