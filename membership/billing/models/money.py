"""Money that moved: settled payments, refunds, disputes, and payouts to the bank.

Every row mirrors a Stripe object with its balance transaction, so the cash report
ties to Stripe to the cent. Payments are never edited by refunds or disputes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from membership.db import Base, currency, intpk, optional_timestamp, str_enum, timestamp, utcnow
from membership.enums import Stream


class Payment(Base):
    """One settled charge (invoice payment or gift) with gross, fee and net."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("gross_minor - fee_minor = net_minor", name="net_is_gross_less_fee"),
        Index("ix_payments_stream_paid_at", "stream", "paid_at"),  # donor and waterfall reports
        Index("ix_payments_subscription_period_end", "subscription_id", "service_period_end"),  # renewals
    )

    id: Mapped[intpk]
    reader_id: Mapped[int | None] = mapped_column(ForeignKey("readers.id"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"))
    stripe_charge_id: Mapped[str] = mapped_column(String(255), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(255), index=True)
    balance_transaction_id: Mapped[str] = mapped_column(String(255), unique=True)
    stream: Mapped[Stream] = mapped_column(str_enum(Stream))
    billing_reason: Mapped[str | None] = mapped_column(String(64))
    gross_minor: Mapped[int]
    fee_minor: Mapped[int]
    net_minor: Mapped[int]
    currency: Mapped[currency]
    benefit_value_minor: Mapped[int] = mapped_column(default=0)
    service_period_start: Mapped[optional_timestamp]
    service_period_end: Mapped[optional_timestamp]
    paid_at: Mapped[datetime]
    created_at: Mapped[timestamp]


class Refund(Base):
    """A refund of part or all of a payment; its own balance transaction once it settles."""

    __tablename__ = "refunds"

    id: Mapped[intpk]
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    stripe_refund_id: Mapped[str] = mapped_column(String(255), unique=True)
    balance_transaction_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    amount_minor: Mapped[int]
    currency: Mapped[currency]
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(64))
    failure_reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[timestamp]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Dispute(Base):
    """A chargeback: funds withdrawn (amount + fee), maybe reinstated, then won or lost."""

    __tablename__ = "disputes"

    id: Mapped[intpk]
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    stripe_dispute_id: Mapped[str] = mapped_column(String(255), unique=True)
    amount_minor: Mapped[int]
    fee_minor: Mapped[int] = mapped_column(default=0)
    currency: Mapped[currency]
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(64))
    funds_withdrawn_at: Mapped[optional_timestamp]
    funds_reinstated_at: Mapped[optional_timestamp]
    closed_at: Mapped[optional_timestamp]
    created_at: Mapped[timestamp]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Payout(Base):
    """A transfer from Stripe to the bank; reconciled when its lines sum to its amount."""

    __tablename__ = "payouts"

    id: Mapped[intpk]
    stripe_payout_id: Mapped[str] = mapped_column(String(255), unique=True)
    amount_minor: Mapped[int]
    currency: Mapped[currency]
    status: Mapped[str] = mapped_column(String(32))
    arrival_date: Mapped[optional_timestamp]
    reconciled_at: Mapped[optional_timestamp]
    lines_net_minor: Mapped[int | None]
    mismatch_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[timestamp]


class PayoutLine(Base):
    """One balance transaction paid out in a payout, with the stream it belongs to."""

    __tablename__ = "payout_lines"

    id: Mapped[intpk]
    payout_id: Mapped[int] = mapped_column(ForeignKey("payouts.id"), index=True)
    balance_transaction_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    reporting_category: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str | None] = mapped_column(String(255))
    stream: Mapped[Stream | None] = mapped_column(str_enum(Stream))
    amount_minor: Mapped[int]
    fee_minor: Mapped[int]
    net_minor: Mapped[int]
    currency: Mapped[currency]
