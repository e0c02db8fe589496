"""Newsletters, who subscribed to which, campaigns, and one delivery row per recipient."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from membership.db import Base, intpk, optional_timestamp, str_enum, timestamp


class Newsletter(Base):
    __tablename__ = "newsletters"

    id: Mapped[intpk]
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[timestamp]


class OptInStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


class NewsletterSubscription(Base):
    """A reader's opt-in to one newsletter; the confirmation click is the consent proof."""

    __tablename__ = "newsletter_subscriptions"
    __table_args__ = (UniqueConstraint("reader_id", "newsletter_id"),)

    id: Mapped[intpk]
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"), index=True)
    newsletter_id: Mapped[int] = mapped_column(ForeignKey("newsletters.id"), index=True)
    status: Mapped[OptInStatus] = mapped_column(str_enum(OptInStatus), default=OptInStatus.PENDING)
    source: Mapped[str] = mapped_column(String(64), default="")
    requested_at: Mapped[timestamp]
    confirmed_at: Mapped[optional_timestamp]
    confirm_ip: Mapped[str | None] = mapped_column(String(64))
    unsubscribed_at: Mapped[optional_timestamp]


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"


class Segment(StrEnum):
    ALL_CONFIRMED = "all_confirmed"
    PAYING_MEMBERS = "paying_members"
    DONORS = "donors"
    FREE_READERS = "free_readers"
    TIER = "tier"
    LABEL = "label"  # readers carrying `segment_label` (identity.ReaderLabel)


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[intpk]
    newsletter_id: Mapped[int] = mapped_column(ForeignKey("newsletters.id"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_html: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text, default="")
    segment: Mapped[Segment] = mapped_column(str_enum(Segment), default=Segment.ALL_CONFIRMED)
    segment_plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    segment_label: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[CampaignStatus] = mapped_column(
        str_enum(CampaignStatus), default=CampaignStatus.DRAFT
    )
    scheduled_at: Mapped[optional_timestamp]
    started_at: Mapped[optional_timestamp]
    finished_at: Mapped[optional_timestamp]
    created_at: Mapped[timestamp]


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class Delivery(Base):
    """One (campaign, reader) message: claimed, sent, marked sent right after the 250."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("campaign_id", "reader_id"),
        Index("ix_deliveries_campaign_status", "campaign_id", "status"),
    )

    id: Mapped[intpk]
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"))
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    message_id: Mapped[str | None] = mapped_column(String(255))
    claimed_at: Mapped[optional_timestamp]
    sent_at: Mapped[optional_timestamp]
    next_attempt_at: Mapped[optional_timestamp]
    last_error: Mapped[str | None] = mapped_column(Text)
