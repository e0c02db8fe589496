"""The entitlement answer other systems get: member, tier, until and why.

Membership itself is decided in one place, billing/entitlement.py; this module only
explains its verdict for the site: which tier (the plan's code) and which reason
(`active`, `trial`, `grace` for past due within the grace period, `comp`, `gift`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from membership.billing.entitlement import entitlement
from membership.billing.models import ComplimentaryMembership, GiftMembership, Plan, Price, Subscription
from membership.db import utcnow
from membership.enums import Stream, SubscriptionStatus
from membership.extensions import db
from membership.identity.models import Reader

_REASON = {SubscriptionStatus.ACTIVE: "active", SubscriptionStatus.TRIALING: "trial"}


@dataclass(frozen=True)
class Answer:
    member: bool
    tier: str | None = None
    until: datetime | None = None
    reason: str | None = None


def reader_by_email(email: str) -> Reader | None:
    reader = db.session.scalar(select(Reader).where(Reader.email == email.strip().lower()))
    return reader if reader is not None and reader.deleted_at is None else None


def live_reader(reader_id: int) -> Reader | None:
    reader = db.session.get(Reader, reader_id)
    return reader if reader is not None and reader.deleted_at is None else None


def answer(reader_id: int, at: datetime | None = None) -> Answer:
    at = at or utcnow()
    verdict = entitlement(reader_id, at)
    if not verdict.active:
        return Answer(False)
    if verdict.source == "subscription":
        tier, reason = _subscription_detail(reader_id)
        return Answer(True, tier, verdict.until, reason)
    if verdict.source == "comp":
        plan_id = db.session.scalar(select(ComplimentaryMembership.plan_id).where(
            ComplimentaryMembership.reader_id == reader_id, ComplimentaryMembership.revoked_at.is_(None),
            ComplimentaryMembership.starts_at <= at, ComplimentaryMembership.expires_at == verdict.until).limit(1))
        return Answer(True, _plan_code(plan_id), verdict.until, "comp")
    plan_id = db.session.scalar(select(GiftMembership.plan_id).where(
        GiftMembership.redeemed_by_reader_id == reader_id, GiftMembership.expires_at == verdict.until).limit(1))
    return Answer(True, _plan_code(plan_id), verdict.until, "gift")


def _subscription_detail(reader_id: int) -> tuple[str | None, str]:
    """The best live membership subscription: active before trialing before past due
    (entitlement() already decided a past-due one is within the grace period)."""
    rows = db.session.execute(select(Subscription.status, Plan.code)
                              .outerjoin(Price, Price.id == Subscription.price_id)
                              .outerjoin(Plan, Plan.id == Price.plan_id)
                              .where(Subscription.reader_id == reader_id, Subscription.stream == Stream.MEMBERSHIP,
                                     Subscription.status.in_([*_REASON, SubscriptionStatus.PAST_DUE]))
                              .order_by(Subscription.current_period_end.desc().nulls_last())).all()
    for wanted in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE):
        for status, code in rows:
            if status == wanted:
                return code, _REASON.get(status, "grace")
    return None, "active"


def _plan_code(plan_id: int | None) -> str | None:
    return None if plan_id is None else db.session.scalar(select(Plan.code).where(Plan.id == plan_id))


def tier_of_subscription(subscription: Subscription) -> str | None:
    """The plan code of a subscription's price (webhook payloads)."""
    if subscription.price_id is None:
        return None
    return db.session.scalar(select(Plan.code).join(Price, Price.plan_id == Plan.id)
                             .where(Price.id == subscription.price_id))
