"""Transactional notices (rows first, mail second) and the addresses we must not mail."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from membership.db import Base, intpk, optional_timestamp, str_enum, timestamp


class NoticeStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


class Notice(Base):
    """One transactional mail, unique per (kind, dedupe_key): at most once per event.

    The rendered copy and Message-ID are kept as evidence (renewal-law notices).
    """

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("kind", "dedupe_key"),
        Index("ix_notices_status_due", "status", "due_at"),
    )

    id: Mapped[intpk]
    reader_id: Mapped[int | None] = mapped_column(ForeignKey("readers.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(64))
    dedupe_key: Mapped[str] = mapped_column(String(255))
    context: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[NoticeStatus] = mapped_column(str_enum(NoticeStatus), default=NoticeStatus.PENDING)
    message_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    subject: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[timestamp]
    window_closes_at: Mapped[optional_timestamp]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[optional_timestamp]
    created_at: Mapped[timestamp]
    # A worker's lease on the row while it talks SMTP: a second delivery of the same
    # task skips it; a crashed worker's lease simply expires and the sweeper retries.
    claimed_until: Mapped[optional_timestamp]
    # When the sweeper may enqueue the row again (after a 4xx or a lost task).
    next_attempt_at: Mapped[optional_timestamp]


class SuppressionReason(StrEnum):
    HARD_BOUNCE = "hard_bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBE_ALL = "unsubscribe_all"
    MANUAL = "manual"


class Suppression(Base):
    """An address no mail goes to (receipts included for hard bounces and complaints)."""

    __tablename__ = "suppressions"

    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(String(320), unique=True)
    reason: Mapped[SuppressionReason] = mapped_column(str_enum(SuppressionReason))
    source: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[timestamp]


class BounceEvent(Base):
    """A bounce or complaint as reported; soft bounces are counted, not suppressed."""

    __tablename__ = "bounce_events"
    __table_args__ = (UniqueConstraint("email", "kind", "reported_at"),)

    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(String(320), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    status_code: Mapped[str | None] = mapped_column(String(16))
    diagnostic: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(255))
    reported_at: Mapped[datetime]
    created_at: Mapped[timestamp]
