"""Status and kind vocabularies shared across domains.

Each mirrors Stripe's strings where Stripe defines the concept, so a value read from
Stripe is stored as it is and transitions are written in one place per domain.
"""

from __future__ import annotations

from enum import StrEnum


class Stream(StrEnum):
    """Revenue streams finance reports never mix (REVENUE.md)."""

    MEMBERSHIP = "membership"
    RECURRING_DONATION = "recurring_donation"
    ONE_TIME_DONATION = "one_time_donation"
    OTHER = "other"


class Interval(StrEnum):
    MONTH = "month"
    YEAR = "year"
    ONE_TIME = "one_time"


class SubscriptionStatus(StrEnum):
    """Stripe's eight subscription statuses."""

    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    UNPAID = "unpaid"
    PAUSED = "paused"


TERMINAL_SUBSCRIPTION_STATUSES = frozenset(
    {SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED}
)


class MrrMovement(StrEnum):
    NEW = "new"
    EXPANSION = "expansion"
    CONTRACTION = "contraction"
    CHURN_VOLUNTARY = "churn_voluntary"
    CHURN_DELINQUENT = "churn_delinquent"
    REACTIVATION = "reactivation"
    PAUSE = "pause"
    RESUME = "resume"
    FX = "fx"


class StaffRole(StrEnum):
    """What a staff member may do is decided by membership/staff/roles.py, not here."""

    ADMIN = "admin"
    FINANCE = "finance"
    EDITOR = "editor"
    SUPPORT = "support"
