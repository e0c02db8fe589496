"""Dunning and renewal reminders: invoice.payment_failed / payment_action_required /
upcoming. Money itself (invoice.paid) is the money module's.

A failed renewal makes one payment_failed notice per attempt (Stripe counts them);
invoice.upcoming has no invoice id, so its reminder is keyed by subscription + period.
"""

from __future__ import annotations

from typing import Any

from membership.billing.events import StripeEvent, handles
from membership.billing.gateway.settlement import fetch_invoice
from membership.billing.models import Subscription
from membership.billing.subscriptions import find, sync_subscription
from membership.enums import Interval
from membership.extensions import db
from membership.identity.models import Reader
from membership.mail.notices import record_notice


def subscription_of(invoice: dict[str, Any]) -> str | None:
    """Post-basil: the subscription sits under parent.subscription_details."""
    details = ((invoice.get("parent") or {}).get("subscription_details") or {})
    sub = details.get("subscription")
    if isinstance(sub, dict):
        sub = sub.get("id")
    return str(sub) if sub else None


def _local_subscription(stripe_sub_id: str, event: StripeEvent) -> Subscription | None:
    """Sync first: the failed payment usually changed the status (active -> past_due)."""
    return sync_subscription(stripe_sub_id, event) or find(stripe_sub_id)


def _reader(sub: Subscription) -> Reader | None:
    reader = db.session.get(Reader, sub.reader_id)
    return reader if reader is not None and reader.deleted_at is None else None


@handles("invoice.payment_failed", "invoice.payment_action_required")
def on_payment_failed(event: StripeEvent) -> None:
    if not event.object_id:
        return
    invoice = fetch_invoice(event.object_id)
    if invoice.subscription_id is None:
        return  # a one-off invoice: no dunning here
    sub = _local_subscription(invoice.subscription_id, event)
    if sub is None or invoice.status == "paid":
        return  # paid since: no reason to alarm the reader
    reader = _reader(sub)
    if reader is None:
        return
    attempts = invoice.attempt_count
    context = {
        "subscription_id": sub.id, "invoice_id": invoice.id, "amount_minor": invoice.amount_due,
        "currency": (invoice.currency or sub.currency).upper(), "attempt_count": attempts,
        "next_payment_attempt": invoice.next_payment_attempt,
    }
    record_notice("payment_failed", f"{invoice.id}:{attempts}", reader.email, context, reader_id=reader.id)


@handles("invoice.upcoming")
def on_upcoming(event: StripeEvent) -> None:
    """Yearly plans get a renewal notice (automatic-renewal laws); monthly ones do not."""
    stripe_sub = subscription_of(event.object)
    if stripe_sub is None:
        return
    sub = _local_subscription(stripe_sub, event)
    if sub is None or sub.interval is not Interval.YEAR or sub.cancel_at_period_end:
        return
    if sub.current_period_end is None:
        return
    reader = _reader(sub)
    if reader is None:
        return
    key = f"{sub.stripe_subscription_id}:{int(sub.current_period_end.timestamp())}"
    record_notice("renewal_notice", key, reader.email, {"subscription_id": sub.id}, reader_id=reader.id)
