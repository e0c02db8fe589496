"""Subscription state, upserted from what Stripe says now.

Events arrive late, twice and out of order, and their payloads are rendered in the
endpoint's API version, so the event only says *which* subscription to look at: we
take a per-subscription lock, re-fetch it from Stripe, and write that. Because every
writer fetches while holding the lock, the last writer always wrote the newest state
(an older state can never overwrite a newer one). Canceled is terminal: once stored,
nothing revives it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from membership.billing import discounts, mrr
from membership.billing.customers import resolve_reader
from membership.billing.events import RetryLater, StripeEvent
from membership.billing.gateway.customers import fetch_customer
from membership.billing.gateway.errors import InvalidRequest
from membership.billing.gateway.subscriptions import fetch_subscription
from membership.billing.models import Plan, Price, Subscription
from membership.db import utcnow
from membership.enums import TERMINAL_SUBSCRIPTION_STATUSES, Interval, Stream, SubscriptionStatus
from membership.extensions import db
from membership.identity.models import Reader
from membership.mail.notices import record_notice
from membership.unit_of_work import checkpoint

log = logging.getLogger(__name__)
_DUNNING = (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID)


def ts(value: Any) -> datetime | None:
    """A Stripe unix timestamp as an aware UTC datetime."""
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def event_time(event: StripeEvent | None) -> datetime:
    return ts(event.created) or utcnow() if event is not None else utcnow()


def lock_object(stripe_id: str) -> None:
    """Serialise every writer of one Stripe object for the rest of the transaction."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": stripe_id})


def sync_subscription(stripe_sub_id: str, event: StripeEvent | None = None) -> Subscription | None:
    """Lock, re-fetch, upsert. None when Stripe does not know the subscription. Flushes only.

    Which event *applies* a change decides when the change happened (MRR history is
    dated by it). So a subscription event whose snapshot no longer matches Stripe's
    current state leaves the row alone: the later event that carries the current state
    applies it at its own time, whichever order the two arrive in. Events that carry
    no subscription (invoice, checkout) only create a row not seen yet. Without an
    event (resync, replay by hand) the current state is applied now.
    """
    lock_object(stripe_sub_id)
    data = fetch_subscription(stripe_sub_id)
    if data is None:
        log.warning("subscription not found at Stripe", extra={"subscription": stripe_sub_id})
        return None
    if event is not None and not _applies(event, data):
        existing = find(stripe_sub_id)
        if existing is not None:
            return existing
    return upsert(data, event_time(event), event.id if event else None)


def _state(sub: dict[str, Any]) -> tuple[Any, ...]:
    """The parts of a subscription that move MRR or entitlement."""
    items = (sub.get("items") or {}).get("data") or [{}]
    price = items[0].get("price")
    price_id = price.get("id") if isinstance(price, dict) else price
    return (sub.get("status"), price_id, int(items[0].get("quantity") or 1), bool(sub.get("pause_collection")),
            bool(sub.get("cancel_at_period_end")), discounts.discount_ids(sub))


def _applies(event: StripeEvent, current: dict[str, Any]) -> bool:
    snapshot = event.object
    if snapshot.get("object") != "subscription" or snapshot.get("id") != current["id"]:
        return False
    return _state(snapshot) == _state(current)


def find(stripe_sub_id: str) -> Subscription | None:
    return db.session.scalar(select(Subscription).where(Subscription.stripe_subscription_id == stripe_sub_id)
                             .with_for_update())


def upsert(data: dict[str, Any], at: datetime, stripe_event_id: str | None = None) -> Subscription:
    """Write a freshly fetched subscription; MRR movement and notices follow the change."""
    local = find(data["id"])
    if local is not None and local.status in TERMINAL_SUBSCRIPTION_STATUSES:
        _fill_ending(local, data)
        return local
    reader = _reader_for(data)
    item = data["items"]["data"][0]
    price = item["price"]
    recurring = price.get("recurring") or {}
    local_price = db.session.scalar(select(Price).where(Price.stripe_price_id == price["id"]))
    if local is None:
        local = Subscription(stripe_subscription_id=data["id"], reader_id=reader.id, mrr_minor=0,
                             stripe_created_at=ts(data["created"]), status=SubscriptionStatus(data["status"]),
                             stream=_stream(local_price, data, price), unit_amount_minor=0,
                             currency=str(data["currency"]).upper(), interval=Interval.MONTH)
        db.session.add(local)
        was_status, was_paused, was_cape = None, False, False
    else:
        was_status, was_paused, was_cape = local.status, local.paused, local.cancel_at_period_end
    status = SubscriptionStatus(data["status"])
    details = data.get("cancellation_details") or {}
    local.reader_id = reader.id
    local.price_id = local_price.id if local_price else None
    local.stripe_price_id = price["id"]
    local.status = status
    local.quantity = int(item.get("quantity") or 1)
    local.unit_amount_minor = int(price.get("unit_amount") or 0)
    local.currency = str(price.get("currency") or data["currency"]).upper()
    local.interval = Interval.YEAR if recurring.get("interval") == "year" else Interval.MONTH
    local.interval_count = int(recurring.get("interval_count") or 1)
    local.cancel_at_period_end = bool(data.get("cancel_at_period_end"))
    local.cancel_at = ts(data.get("cancel_at"))
    local.current_period_start = ts(item.get("current_period_start"))
    local.current_period_end = ts(item.get("current_period_end"))
    local.trial_end = ts(data.get("trial_end"))
    local.canceled_at = ts(data.get("canceled_at"))
    local.ended_at = ts(data.get("ended_at"))
    local.paused = status is SubscriptionStatus.PAUSED or bool(data.get("pause_collection"))
    local.cancellation_reason = details.get("reason")
    local.cancellation_feedback = _feedback(details)
    if status in _DUNNING:
        local.past_due_since = local.past_due_since or at
    elif status not in TERMINAL_SUBSCRIPTION_STATUSES:
        local.past_due_since = None
    local.synced_at = utcnow()
    db.session.flush()
    full = mrr.monthly_minor(local.unit_amount_minor, local.quantity, str(recurring.get("interval") or "month"),
                             local.interval_count)
    mrr.apply_movement(local, full, at, discount_mrr=discounts.monthly_discount_minor(data, full),
                       was_paused=was_paused, was_status=was_status, stripe_event_id=stripe_event_id)
    _notify_cancellation(local, reader, was_status, was_cape)
    return local


def _fill_ending(local: Subscription, data: dict[str, Any]) -> None:
    """A stored cancellation is final; only details Stripe adds later are copied."""
    details = data.get("cancellation_details") or {}
    local.ended_at = local.ended_at or ts(data.get("ended_at"))
    local.cancellation_reason = local.cancellation_reason or details.get("reason")
    local.cancellation_feedback = local.cancellation_feedback or _feedback(details)
    local.synced_at = utcnow()


def _feedback(details: dict[str, Any]) -> str | None:
    parts = [str(details[k]) for k in ("feedback", "comment") if details.get(k)]
    return " | ".join(parts) or None


def _stream(local_price: Price | None, data: dict[str, Any], price: dict[str, Any]) -> Stream:
    """The plan's stream when the price is ours; else what the metadata says; else membership."""
    if local_price is not None:
        plan = db.session.get(Plan, local_price.plan_id)
        if plan is not None:
            return plan.stream
    for metadata in (data.get("metadata") or {}, price.get("metadata") or {}):
        value = metadata.get("stream")
        if value in (Stream.MEMBERSHIP.value, Stream.RECURRING_DONATION.value):
            return Stream(value)
    return Stream.MEMBERSHIP


def _reader_for(data: dict[str, Any]) -> Reader:
    """By customer id or the subscription's metadata; then the customer's metadata."""
    customer = data.get("customer")
    customer_id = customer if isinstance(customer, str) else (customer or {}).get("id")
    try:
        return resolve_reader(customer_id, data.get("metadata"))
    except RetryLater:
        if not customer_id:
            raise
    try:
        cus = fetch_customer(customer_id)
    except InvalidRequest:
        cus = None
    if cus is None:
        raise RetryLater(f"no reader yet for customer {customer_id!r}") from None
    return resolve_reader(customer_id, dict(cus.metadata))


def _notify_cancellation(sub: Subscription, reader: Reader, was_status: SubscriptionStatus | None,
                         was_cape: bool) -> None:
    """cancellation_confirmation when a cancel is scheduled or a voluntary cancel happens."""
    scheduled = sub.cancel_at_period_end and not was_cape
    voluntary = (sub.status is SubscriptionStatus.CANCELED and was_status is not SubscriptionStatus.CANCELED
                 and sub.cancellation_reason == "cancellation_requested" and not was_cape)
    if not (scheduled or voluntary) or reader.deleted_at is not None:
        return
    when = sub.cancel_at or sub.canceled_at or sub.current_period_end
    key = f"{sub.stripe_subscription_id}:{int(when.timestamp()) if when else 0}"
    record_notice("cancellation_confirmation", key, reader.email, {"subscription_id": sub.id}, reader_id=reader.id)


def resync_all(limit: int = 10_000) -> int:
    """Re-fetch every live subscription, one transaction each (drift repair). Commits."""
    ids = list(db.session.scalars(
        select(Subscription.stripe_subscription_id)
        .where(Subscription.status.not_in(list(TERMINAL_SUBSCRIPTION_STATUSES))).limit(limit)))
    db.session.rollback()
    synced = 0
    for stripe_id in ids:
        try:
            sync_subscription(stripe_id)
            checkpoint()  # one transaction per subscription: one failure keeps the others
            synced += 1
        except Exception:  # one bad subscription must not stop the nightly run
            db.session.rollback()
            log.exception("resync failed", extra={"subscription": stripe_id})
    return synced
