"""What readers can buy or give: plans (tiers, donation plans) and their prices."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from membership.db import Base, currency, intpk, str_enum, timestamp
from membership.enums import Interval, Stream


class PlanKind(StrEnum):
    MEMBERSHIP = "membership"
    RECURRING_DONATION = "recurring_donation"
    ONE_TIME_DONATION = "one_time_donation"
    GIFT_MEMBERSHIP = "gift_membership"


class Plan(Base):
    """A membership tier or a giving plan; `stream` decides where its money is reported."""

    __tablename__ = "plans"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[PlanKind] = mapped_column(str_enum(PlanKind))
    stream: Mapped[Stream] = mapped_column(str_enum(Stream))
    rank: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    stripe_product_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[timestamp]


class Price(Base):
    """One price of a plan in one currency and interval.

    `amount_minor` is None for pay-what-you-want prices, bounded by min/max.
    `benefit_value_minor` is the fair-market value of what the payer gets back per
    payment (IRS Pub. 1771), so receipts can state the deductible part.
    """

    __tablename__ = "prices"
    __table_args__ = (
        UniqueConstraint("plan_id", "currency", "interval", "amount_minor"),
        CheckConstraint("amount_minor IS NULL OR amount_minor > 0", name="amount_positive"),
        CheckConstraint("min_amount_minor >= 0", name="min_nonnegative"),
    )

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    currency: Mapped[currency]
    interval: Mapped[Interval] = mapped_column(str_enum(Interval))
    amount_minor: Mapped[int | None]
    min_amount_minor: Mapped[int] = mapped_column(default=0)
    max_amount_minor: Mapped[int | None]
    benefit_value_minor: Mapped[int] = mapped_column(default=0)
    trial_days: Mapped[int] = mapped_column(default=0)
    stripe_price_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[timestamp]
