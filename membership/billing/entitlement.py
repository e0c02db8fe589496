"""Who is a member right now: the one place every endpoint (and segment) asks.

A reader is a member at time t when any of these holds:
- a membership subscription is active or trialing;
- a membership subscription is past_due and went past due less than
  PAST_DUE_GRACE_DAYS ago (when Stripe has not told us since when, the end of the
  paid period is used as the start of the grace);
- a complimentary membership is not revoked and t is in [starts_at, expires_at);
- a redeemed gift membership has t in [redeemed_at, expires_at).
Recurring donations never make a member: they are gifts, not memberships.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, exists, func, or_, select, union

from membership.billing.models import ComplimentaryMembership, GiftMembership, Price, Subscription
from membership.db import utcnow
from membership.enums import Stream, SubscriptionStatus
from membership.extensions import db


@dataclass(frozen=True)
class Entitlement:
    active: bool
    source: str | None = None  # subscription | comp | gift
    until: datetime | None = None


def _grace() -> timedelta:
    return timedelta(days=current_app.config["SETTINGS"].past_due_grace_days)


def _subscription_clause(at: datetime):  # type: ignore[no-untyped-def]
    since = func.coalesce(Subscription.past_due_since, Subscription.current_period_end)
    return and_(Subscription.stream == Stream.MEMBERSHIP, or_(
        Subscription.status.in_([SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING]),
        and_(Subscription.status == SubscriptionStatus.PAST_DUE, since > at - _grace()),
    ))


def _comp_clause(at: datetime):  # type: ignore[no-untyped-def]
    return and_(ComplimentaryMembership.revoked_at.is_(None), ComplimentaryMembership.starts_at <= at,
                ComplimentaryMembership.expires_at > at)


def _gift_clause(at: datetime):  # type: ignore[no-untyped-def]
    return and_(GiftMembership.redeemed_at.is_not(None), GiftMembership.redeemed_at <= at,
                GiftMembership.expires_at > at)


def member_ids(at: datetime | None = None) -> Select[tuple[int]]:
    """SELECT of the ids of every member at `at` (for segments and reports)."""
    at = at or utcnow()
    return union(  # type: ignore[return-value]
        select(Subscription.reader_id).where(_subscription_clause(at)),
        select(ComplimentaryMembership.reader_id).where(_comp_clause(at)),
        select(GiftMembership.redeemed_by_reader_id).where(_gift_clause(at)),
    )


def paying_member(reader_id: SQLColumnExpression[int], at: datetime, plan_id: int | None = None) -> ColumnElement[bool]:
    """SQL: the reader (a correlated column) is a member through a membership subscription
    at `at`, on a price of `plan_id` when given (segments: paying members, one tier)."""
    query = select(Subscription.id).where(Subscription.reader_id == reader_id, _subscription_clause(at))
    if plan_id is not None:
        query = query.join(Price, Price.id == Subscription.price_id).where(Price.plan_id == plan_id)
    return exists(query)


def is_member_clause(reader_id: SQLColumnExpression[int], at: datetime) -> ColumnElement[bool]:
    """SQL: the reader (a correlated column) is a member at `at`, by any source. The same
    rule as `entitlement()` and `member_ids()`, as an EXISTS that never meets a NULL."""
    return or_(
        paying_member(reader_id, at),
        exists().where(ComplimentaryMembership.reader_id == reader_id, _comp_clause(at)),
        exists().where(GiftMembership.redeemed_by_reader_id == reader_id, _gift_clause(at)),
    )


def entitlement(reader_id: int, at: datetime | None = None) -> Entitlement:
    """The reader's membership at `at` and the source that lasts longest."""
    at = at or utcnow()
    sub = db.session.execute(select(Subscription.current_period_end).where(
        Subscription.reader_id == reader_id, _subscription_clause(at))
        .order_by(Subscription.current_period_end.desc().nulls_last()).limit(1)).first()
    if sub is not None:
        return Entitlement(True, "subscription", sub[0])
    comp = db.session.scalar(select(func.max(ComplimentaryMembership.expires_at)).where(
        ComplimentaryMembership.reader_id == reader_id, _comp_clause(at)))
    if comp is not None:
        return Entitlement(True, "comp", comp)
    gift = db.session.scalar(select(func.max(GiftMembership.expires_at)).where(
        GiftMembership.redeemed_by_reader_id == reader_id, _gift_clause(at)))
    if gift is not None:
        return Entitlement(True, "gift", gift)
    return Entitlement(False)


def is_member(reader_id: int, at: datetime | None = None) -> bool:
    return entitlement(reader_id, at).active
