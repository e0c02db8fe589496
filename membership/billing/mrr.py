"""MRR movements: the append-only history that makes MRR at any past date a sum.

Definitions (REVENUE.md): price x quantity normalised to a month; counted while the
subscription is active, and while past_due within the dunning window (default 30
days, `SETTINGS.extra["dunning_window_days"]`); after that it is delinquent churn.
Voluntary cancellation is churn when the paid period ends (Stripe's `deleted` at
period end). Paused is zero MRR with its own pause/resume movements. A reader who
had paid before in the same stream comes back as a reactivation, not as new.

Each movement is computed from the change of the subscription's cached `mrr_minor`,
under the subscription's row lock, so reprocessing an event writes nothing new.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from membership.billing.models import Subscription, SubscriptionEvent
from membership.enums import MrrMovement, Stream, SubscriptionStatus
from membership.extensions import db

DEFAULT_DUNNING_WINDOW_DAYS = 30
_MONTHS_PER_INTERVAL = {"month": Decimal(1), "year": Decimal(12), "week": Decimal(12) / Decimal(52),
                        "day": Decimal(12) / Decimal(365)}
_COUNTING = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)
_ENDED = (SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED)


def dunning_window() -> timedelta:
    days = current_app.config["SETTINGS"].extra.get("dunning_window_days", DEFAULT_DUNNING_WINDOW_DAYS)
    return timedelta(days=int(days))


def monthly_minor(unit_amount_minor: int, quantity: int, interval: str, interval_count: int = 1) -> int:
    """A recurring price as a monthly amount, rounded half up to the minor unit."""
    months = _MONTHS_PER_INTERVAL[interval] * max(1, interval_count)
    value = Decimal(unit_amount_minor) * quantity / months
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def target_mrr(sub: Subscription, full_mrr: int, at: datetime) -> int:
    """What this subscription contributes to MRR at `at`, given its full monthly amount."""
    if sub.paused or sub.status not in _COUNTING:
        return 0
    if sub.status is SubscriptionStatus.PAST_DUE and sub.past_due_since is not None \
            and at >= sub.past_due_since + dunning_window():
        return 0
    return full_mrr


def apply_movement(sub: Subscription, full_mrr: int, at: datetime, *, discount_mrr: int = 0,
                   was_paused: bool = False, was_status: SubscriptionStatus | None = None,
                   stripe_event_id: str | None = None) -> SubscriptionEvent | None:
    """Record the movement from the cached MRR to the target, if any. Flushes only.

    `full_mrr` is the full-price monthly amount and `discount_mrr` the monthly discount
    within it (billing/discounts.py); the target is net of it. A change of the discount
    alone that leaves the net unchanged writes no movement (it would need a price and a
    discount change of exactly the same size at once).
    """
    target = target_mrr(sub, full_mrr - discount_mrr, at)
    discount_after = discount_mrr if target else 0
    before = sub.mrr_minor
    if target == before:
        return None
    kind = _classify(sub, before, target, was_paused, was_status)
    occurred = _occurred_at(sub, kind, at)
    seq = db.session.scalar(select(func.count()).select_from(SubscriptionEvent)
                            .where(SubscriptionEvent.subscription_id == sub.id)) or 0
    movement = SubscriptionEvent(
        subscription_id=sub.id, reader_id=sub.reader_id, kind=kind, stream=sub.stream,
        mrr_delta_minor=target - before, mrr_after_minor=target, currency=sub.currency,
        discount_delta_minor=discount_after - sub.discount_minor,
        occurred_at=occurred, dedupe_key=f"{sub.stripe_subscription_id}:{seq + 1}:{kind.value}",
        stripe_event_id=stripe_event_id, note=f"status {sub.status.value}",
    )
    db.session.add(movement)
    sub.mrr_minor = target
    sub.discount_minor = discount_after
    db.session.flush()
    return movement


def _classify(sub: Subscription, before: int, after: int, was_paused: bool,
              was_status: SubscriptionStatus | None) -> MrrMovement:
    if before == 0:
        if was_paused or was_status is SubscriptionStatus.PAUSED:
            return MrrMovement.RESUME
        return MrrMovement.REACTIVATION if _paid_before(sub) else MrrMovement.NEW
    if after == 0:
        if sub.paused or sub.status is SubscriptionStatus.PAUSED:
            return MrrMovement.PAUSE
        return MrrMovement.CHURN_DELINQUENT if _delinquent(sub, was_status) else MrrMovement.CHURN_VOLUNTARY
    return MrrMovement.EXPANSION if after > before else MrrMovement.CONTRACTION


def _delinquent(sub: Subscription, was_status: SubscriptionStatus | None) -> bool:
    if sub.status in (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID):
        return True
    if sub.status in _ENDED:
        return sub.cancellation_reason == "payment_failed" or was_status in (
            SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID)
    return False


def _paid_before(sub: Subscription) -> bool:
    """Any earlier positive movement for this reader in this stream: a returning reader."""
    earlier = db.session.scalar(
        select(func.count()).select_from(SubscriptionEvent).where(
            SubscriptionEvent.reader_id == sub.reader_id, SubscriptionEvent.stream == sub.stream,
            SubscriptionEvent.mrr_delta_minor > 0)
    )
    return bool(earlier)


def _occurred_at(sub: Subscription, kind: MrrMovement, at: datetime) -> datetime:
    """Business time of the movement, not processing time: events can arrive days late."""
    if kind is MrrMovement.NEW:
        start = sub.stripe_created_at
        if sub.trial_end is not None and sub.trial_end > start:
            start = sub.trial_end
        return min(start, at)
    if kind is MrrMovement.CHURN_VOLUNTARY:
        return sub.ended_at or at
    if kind is MrrMovement.CHURN_DELINQUENT:
        end = sub.ended_at if sub.status in _ENDED and sub.ended_at is not None else at
        if sub.past_due_since is not None:
            return min(end, sub.past_due_since + dunning_window())
        return end
    return at


def mrr_at(at: datetime, stream: Stream) -> dict[str, int]:
    """MRR per currency at a moment (net of discounts): one SQL sum over the movement history."""
    return _sum_at(SubscriptionEvent.mrr_delta_minor, at, stream)


def discount_mrr_at(at: datetime, stream: Stream) -> dict[str, int]:
    """Discount MRR per currency at a moment; full-price MRR is this plus `mrr_at`."""
    return _sum_at(SubscriptionEvent.discount_delta_minor, at, stream)


def _sum_at(delta: Any, at: datetime, stream: Stream) -> dict[str, int]:
    rows = db.session.execute(
        select(SubscriptionEvent.currency, func.sum(delta))
        .where(SubscriptionEvent.stream == stream, SubscriptionEvent.occurred_at <= at)
        .group_by(SubscriptionEvent.currency)
    )
    return {currency: int(total) for currency, total in rows if total}


def mark_delinquent_churn(now: datetime) -> int:
    """Past-due subscriptions beyond the dunning window leave MRR. Flushes only."""
    cutoff = now - dunning_window()
    subs = db.session.scalars(
        select(Subscription).where(
            Subscription.status == SubscriptionStatus.PAST_DUE, Subscription.mrr_minor > 0,
            Subscription.past_due_since <= cutoff,
        ).with_for_update(skip_locked=True)
    ).all()
    moved = 0
    for sub in subs:
        if apply_movement(sub, sub.mrr_minor, now, was_status=SubscriptionStatus.PAST_DUE) is not None:
            moved += 1
    return moved
