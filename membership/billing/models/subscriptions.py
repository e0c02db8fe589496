"""Subscriptions as Stripe last told us, and the append-only MRR movement history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from membership.db import Base, currency, intpk, optional_timestamp, str_enum, timestamp, utcnow
from membership.enums import Interval, MrrMovement, Stream, SubscriptionStatus


class Subscription(Base):
    """One Stripe subscription (membership or recurring gift), upserted from re-fetches.

    Period dates come from the subscription item (post-basil API). `mrr_minor` is a
    cache of what the latest MRR movement left (net of discounts), `discount_minor` the
    monthly discount that movement left; history lives in subscription_events.
    """

    __tablename__ = "subscriptions"

    id: Mapped[intpk]
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"), index=True)
    stripe_subscription_id: Mapped[str] = mapped_column(String(255), unique=True)
    price_id: Mapped[int | None] = mapped_column(ForeignKey("prices.id"))
    stripe_price_id: Mapped[str | None] = mapped_column(String(255))
    stream: Mapped[Stream] = mapped_column(str_enum(Stream))
    status: Mapped[SubscriptionStatus] = mapped_column(str_enum(SubscriptionStatus))
    quantity: Mapped[int] = mapped_column(default=1)
    unit_amount_minor: Mapped[int]
    currency: Mapped[currency]
    interval: Mapped[Interval] = mapped_column(str_enum(Interval))
    interval_count: Mapped[int] = mapped_column(default=1)
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    cancel_at: Mapped[optional_timestamp]
    current_period_start: Mapped[optional_timestamp]
    current_period_end: Mapped[optional_timestamp]
    trial_end: Mapped[optional_timestamp]
    canceled_at: Mapped[optional_timestamp]
    ended_at: Mapped[optional_timestamp]
    paused: Mapped[bool] = mapped_column(default=False)
    cancellation_reason: Mapped[str | None] = mapped_column(String(64))
    cancellation_feedback: Mapped[str | None] = mapped_column(Text)
    past_due_since: Mapped[optional_timestamp]
    first_paid_at: Mapped[optional_timestamp]
    mrr_minor: Mapped[int] = mapped_column(default=0)
    discount_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    stripe_created_at: Mapped[datetime]
    synced_at: Mapped[timestamp]
    created_at: Mapped[timestamp]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SubscriptionEvent(Base):
    """An MRR movement; MRR at any date is the sum of deltas up to that date.

    MRR is net of discounts; `discount_delta_minor` moves discount MRR the same way, so
    full-price MRR at a date is the sum of both (an intro offer ending is an expansion
    whose discount delta is negative).

    `dedupe_key` makes a movement exactly-once however often an event is reprocessed.
    """

    __tablename__ = "subscription_events"
    __table_args__ = (Index("ix_subscription_events_stream_occurred", "stream", "occurred_at"),)

    id: Mapped[intpk]
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"), index=True)
    kind: Mapped[MrrMovement] = mapped_column(str_enum(MrrMovement))
    stream: Mapped[Stream] = mapped_column(str_enum(Stream))
    mrr_delta_minor: Mapped[int]
    mrr_after_minor: Mapped[int]
    discount_delta_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    currency: Mapped[currency]
    occurred_at: Mapped[datetime]
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    stripe_event_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[timestamp]
    note: Mapped[str | None] = mapped_column(Text)
