"""The double-entry journal, revenue recognition schedules, closed months and FX rates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from membership.db import Base, currency, intpk, optional_timestamp, str_enum, timestamp
from membership.enums import Stream


class Account(StrEnum):
    """The chart of accounts finance staff see in exports."""

    STRIPE_CLEARING = "stripe_clearing"
    BANK = "bank"
    PROCESSOR_FEES = "processor_fees"
    MEMBERSHIP_REVENUE = "membership_revenue"
    DEFERRED_REVENUE = "deferred_revenue"
    DONATION_REVENUE = "donation_revenue"
    OTHER_REVENUE = "other_revenue"
    REFUNDS = "refunds"
    CHARGEBACKS = "chargebacks"
    DISPUTE_FEES = "dispute_fees"


class JournalTransaction(Base):
    """A balanced group of ledger entries; `key` makes each money event post once.

    `period` is the first day of the month it posts to: the event's month, or the
    first open month when the event's month is closed.
    """

    __tablename__ = "journal_transactions"
    __table_args__ = (Index("ix_journal_transactions_period_kind", "period", "kind"),)  # cash summary, exports

    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    period: Mapped[date] = mapped_column(Date, index=True)
    memo: Mapped[str] = mapped_column(Text, default="")
    reader_id: Mapped[int | None] = mapped_column(ForeignKey("readers.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    created_at: Mapped[timestamp]


class LedgerEntry(Base):
    """One line of a journal transaction: debit positive, credit negative.

    A group balances when its lines sum to zero per currency; the journal service
    checks that before flushing and, on PostgreSQL, a deferred constraint trigger
    checks it again at commit so no code path can bypass it.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount_minor <> 0", name="amount_nonzero"),
        Index("ix_ledger_entries_transaction_account", "transaction_id", "account",  # cash summary
              postgresql_include=["amount_minor", "currency", "stream"]),
    )

    id: Mapped[intpk]
    transaction_id: Mapped[int] = mapped_column(ForeignKey("journal_transactions.id"), index=True)
    account: Mapped[Account] = mapped_column(str_enum(Account))
    amount_minor: Mapped[int]
    currency: Mapped[currency]
    stream: Mapped[Stream | None] = mapped_column(str_enum(Stream))


class RevenueSchedule(Base):
    """Membership revenue to recognise day by day over one invoice line's service period."""

    __tablename__ = "revenue_schedules"
    __table_args__ = (  # recognition not finished: the waterfall's live part, recognition's `_pending` (0009)
        Index("ix_revenue_schedules_pending", "payment_id",
              postgresql_include=["amount_minor", "reversed_minor", "recognized_minor"],
              postgresql_where=text("recognized_minor <> amount_minor - reversed_minor"),
              sqlite_where=text("recognized_minor <> amount_minor - reversed_minor")),
    )

    id: Mapped[intpk]
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    stream: Mapped[Stream] = mapped_column(str_enum(Stream))
    amount_minor: Mapped[int]
    currency: Mapped[currency]
    service_start: Mapped[datetime]
    service_end: Mapped[datetime]
    recognized_minor: Mapped[int] = mapped_column(default=0)
    recognized_through: Mapped[date | None] = mapped_column(Date)
    reversed_minor: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[timestamp]


class ClosedPeriod(Base):
    """A month finance has closed: later events post to the first open month."""

    __tablename__ = "closed_periods"

    id: Mapped[intpk]
    period: Mapped[date] = mapped_column(Date, unique=True)
    closed_by: Mapped[str] = mapped_column(String(320))
    closed_at: Mapped[timestamp]
    reopened_at: Mapped[optional_timestamp]


class FxRate(Base):
    """A stored conversion rate, so reports can state the rates they used."""

    __tablename__ = "fx_rates"
    __table_args__ = (UniqueConstraint("on_date", "currency", "base_currency"),)

    id: Mapped[intpk]
    on_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[currency]
    base_currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(Numeric(18, 8))
    source: Mapped[str] = mapped_column(String(64))
