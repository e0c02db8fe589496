"""Subscriptions and money, written by the same services the webhook path uses.

Nothing here decides what a subscription, payment, refund, dispute or payout means:
`subscriptions.upsert` writes the row and its MRR movement, `payments.record_invoice`
the payment and its journal group, `refunds.sync_refunds`, `disputes.sync_dispute` and
`payouts.sync_payout` the rest. Adoption only chooses *when* each change happened, so
the MRR history starts at each subscription's start, not at the adoption date.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from membership.billing import subscriptions
from membership.billing.adoption.summary import Summary
from membership.billing.customers import resolve_reader
from membership.billing.gateway.balance import balance_transaction
from membership.billing.gateway.shapes import id_of, metadata
from membership.billing.handlers import disputes, payments, payouts, refunds
from membership.billing.handlers.money_common import payment_for_charge
from membership.billing.handlers.payments import Context, Settled
from membership.billing.models import Payment, Subscription
from membership.enums import Stream

_ENDED = ("canceled", "incomplete_expired")


def adopt_subscription(data: dict[str, Any], now: datetime) -> Subscription:
    """Upsert with the history's own times: a subscription that has ended is first
    written as it was while it ran (its start), then as it ended (its end), so MRR shows
    both the new and the churn movement at their dates. A past-due one went past due
    when its current period started (the renewal that failed)."""
    local = subscriptions.find(data["id"])
    ended_at = subscriptions.ts(data.get("ended_at"))
    if local is None and data["status"] in _ENDED and ended_at is not None and _ran_before(data, ended_at):
        start = subscriptions.ts(data.get("start_date") or data["created"])
        assert start is not None
        subscriptions.upsert(_as_it_ran(data), start)
    if local is not None:  # known already (webhooks, an earlier run): what Stripe says now, as resync does
        at = now
    elif data["status"] in _ENDED:
        at = ended_at or subscriptions.ts(data.get("canceled_at")) or now
    elif data["status"] in ("past_due", "unpaid"):
        item = data["items"]["data"][0]
        at = subscriptions.ts(item.get("current_period_start")) or now
    else:
        at = now
    return subscriptions.upsert(data, at)


def _ran_before(data: dict[str, Any], ended_at: datetime) -> bool:
    """It counted in MRR at some point: it ended after its trial (if any) and was not
    an incomplete payment that expired."""
    if data["status"] == "incomplete_expired":
        return False
    trial_end = subscriptions.ts(data.get("trial_end"))
    return trial_end is None or trial_end < ended_at


def _as_it_ran(data: dict[str, Any]) -> dict[str, Any]:
    running = copy.deepcopy(data)
    running.update(status="active", cancel_at_period_end=False, cancel_at=None, canceled_at=None, ended_at=None,
                   cancellation_details={})
    return running


def adopt_invoice(invoice: dict[str, Any]) -> list[Payment]:
    """A paid invoice's payments (one per settled charge) and their journal groups."""
    if invoice.get("status") != "paid":
        return []
    return payments.record_invoice(invoice["id"])


def adopt_charge(charge: dict[str, Any], summary: Summary) -> Payment | None:
    """A succeeded charge no invoice paid for (a one-time gift through Checkout or a
    payment link): a payment in the stream its metadata names, else a one-time donation."""
    if charge.get("status") != "succeeded":
        return None
    existing = payment_for_charge(charge["id"])
    if existing is not None:
        return existing
    txn = charge.get("balance_transaction")
    if not isinstance(txn, dict):
        summary.could_not_map(f"charge {charge['id']}: no balance transaction yet")
        return None
    stream_name = metadata(charge).get("stream")
    stream = Stream(stream_name) if stream_name in {s.value for s in Stream} else Stream.ONE_TIME_DONATION
    reader = resolve_reader(id_of(charge.get("customer")), metadata(charge))
    settled = Settled(charge["id"], int(charge["created"]), id_of(charge.get("payment_intent")),
                      balance_transaction(txn))
    summary.note(f"charges without an invoice, booked as {stream.value}")
    return payments.record(settled, Context(reader=reader, stream=stream), [])


def adopt_refund(refund: dict[str, Any]) -> None:
    charge_id = id_of(refund.get("charge"))
    if charge_id:
        refunds.sync_refunds(charge_id)


def adopt_dispute(dispute: dict[str, Any]) -> None:
    disputes.sync_dispute(dispute["id"])


def adopt_payout(payout: dict[str, Any]) -> None:
    payouts.sync_payout(payout["id"])

