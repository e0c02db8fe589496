"""Local records of checkouts in flight, one-time gifts, comps and gift memberships."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from membership.db import Base, currency, intpk, optional_timestamp, str_enum, timestamp


class CheckoutStatus(StrEnum):
    OPEN = "open"
    COMPLETE = "complete"
    EXPIRED = "expired"
    FAILED = "failed"


class CheckoutSession(Base):
    """A Checkout Session we created, so a webhook can be tied back to what was offered."""

    __tablename__ = "checkout_sessions"

    id: Mapped[intpk]
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"), index=True)
    stripe_session_id: Mapped[str] = mapped_column(String(255), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    mode: Mapped[str] = mapped_column(String(32))
    price_id: Mapped[int | None] = mapped_column(ForeignKey("prices.id"))
    amount_minor: Mapped[int]
    fee_cover_minor: Mapped[int] = mapped_column(default=0)
    currency: Mapped[currency]
    status: Mapped[CheckoutStatus] = mapped_column(
        str_enum(CheckoutStatus), default=CheckoutStatus.OPEN
    )
    url: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[timestamp]
    completed_at: Mapped[optional_timestamp]


class TributeKind(StrEnum):
    NONE = "none"
    HONOR = "honor"
    MEMORY = "memory"


class Donation(Base):
    """A one-time gift; the payment row carries the money, this row the donor's wishes."""

    __tablename__ = "donations"

    id: Mapped[intpk]
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"), index=True)
    stripe_checkout_session_id: Mapped[str] = mapped_column(String(255), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    amount_minor: Mapped[int]
    currency: Mapped[currency]
    cover_fees: Mapped[bool] = mapped_column(default=False)
    fee_cover_minor: Mapped[int] = mapped_column(default=0)
    tribute_kind: Mapped[TributeKind] = mapped_column(str_enum(TributeKind), default=TributeKind.NONE)
    honoree_name: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str | None] = mapped_column(Text)
    anonymous: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(32), default="pending")
    created_at: Mapped[timestamp]
    paid_at: Mapped[optional_timestamp]


class ComplimentaryMembership(Base):
    """A membership staff grant without payment; entitlement until `expires_at`."""

    __tablename__ = "complimentary_memberships"

    id: Mapped[intpk]
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    granted_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[timestamp]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[optional_timestamp]
    created_at: Mapped[timestamp]


class GiftMembership(Base):
    """A membership bought once by one reader and redeemed by code by another.

    Only the code's SHA-256 is stored; the buyer sees the code once, in the mail.
    """

    __tablename__ = "gift_memberships"

    id: Mapped[intpk]
    purchaser_reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"), index=True)
    recipient_email: Mapped[str] = mapped_column(String(320))
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    # the page's language at purchase: the recipient's mail uses it until they have their own
    recipient_language: Mapped[str | None] = mapped_column(String(8))
    message: Mapped[str | None] = mapped_column(Text)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    months: Mapped[int]
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    amount_minor: Mapped[int]
    currency: Mapped[currency]
    status: Mapped[str] = mapped_column(String(32), default="pending_payment")
    paid_at: Mapped[optional_timestamp]
    delivered_at: Mapped[optional_timestamp]
    redeemed_by_reader_id: Mapped[int | None] = mapped_column(ForeignKey("readers.id"))
    redeemed_at: Mapped[optional_timestamp]
    expires_at: Mapped[optional_timestamp]
    created_at: Mapped[timestamp]
