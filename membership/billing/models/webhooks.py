"""The webhook inbox: every Stripe event stored once before anything acts on it."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from membership.db import Base, intpk, optional_timestamp, str_enum, timestamp


class WebhookStatus(StrEnum):
    RECEIVED = "received"
    PROCESSING = "processing"
    PROCESSED = "processed"
    FAILED = "failed"
    DEAD = "dead"


class WebhookEvent(Base):
    """An event exactly as Stripe signed it; the unique id makes delivery idempotent."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_status_next", "status", "next_attempt_at"),)

    id: Mapped[intpk]
    stripe_event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(128))
    api_version: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(255))
    stripe_created: Mapped[int]
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[WebhookStatus] = mapped_column(
        str_enum(WebhookStatus), default=WebhookStatus.RECEIVED
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[timestamp]
    next_attempt_at: Mapped[optional_timestamp]
    processed_at: Mapped[optional_timestamp]
