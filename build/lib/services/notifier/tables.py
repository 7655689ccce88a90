"""notifier's own data: the delivery log that makes "one event, one email" hold."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, UtcDateTime


class EmailDelivery(Base):
    __tablename__ = "email_deliveries"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), index=True)
    transport: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
