"""auth_events' own data: the sign-in history later features read."""

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, UtcDateTime


class SignInRecord(Base):
    __tablename__ = "signin_history"
    __table_args__ = (Index("ix_signin_history_user_occurred", "user_id", "occurred_at"),)

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ip_address: Mapped[str] = mapped_column(String(45))
    user_agent: Mapped[str] = mapped_column(String(1024))
    provider: Mapped[str] = mapped_column(String(64))
    received_via: Mapped[str] = mapped_column(String(8))  # "http" or "amqp"
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
