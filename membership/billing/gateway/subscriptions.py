"""Subscriptions: read the current state, and the reader's self-service changes.

`fetch_subscription` returns the whole object as a plain dict because the sync
writes most of its fields and compares it, field for field, with the event's
snapshot (which has the same shape). The changes are named for what they mean;
the caller re-syncs afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from membership.billing.gateway.client import stripe_client
from membership.billing.gateway.errors import NotFound, translated, translating
from membership.billing.gateway.shapes import as_dict, id_of, metadata
from membership.money import stripe_currency


@dataclass(frozen=True)
class FirstItem:
    """The subscription's (single) item and the subscription's metadata."""

    item_id: str
    metadata: dict[str, str]


def fetch_subscription(subscription_id: str) -> dict[str, Any] | None:
    """The subscription now (discounts expanded: MRR is net of them); None when gone."""
    try:
        with translated():
            sub = stripe_client().v1.subscriptions.retrieve(
                subscription_id, params={"expand": ["discounts.source.coupon"]})
    except NotFound:
        return None
    return dict(sub.to_dict(recursive=True))


@translating
def first_item(subscription_id: str) -> FirstItem:
    data = stripe_client().v1.subscriptions.retrieve(subscription_id).to_dict(recursive=True)
    return FirstItem(str(data["items"]["data"][0]["id"]), metadata(data))


@translating
def cancel_at_period_end(subscription_id: str, feedback: str | None, comment: str | None) -> None:
    """Schedule the end of the subscription at its period's end, with the reader's reason."""
    details: dict[str, Any] = {"comment": comment or ""}
    if feedback:
        details["feedback"] = feedback
    params: dict[str, Any] = {"cancel_at_period_end": True, "cancellation_details": details}
    stripe_client().v1.subscriptions.update(subscription_id, params=params)  # type: ignore[arg-type]


@translating
def keep_renewing(subscription_id: str) -> None:
    """Undo a scheduled cancellation."""
    stripe_client().v1.subscriptions.update(subscription_id, params={"cancel_at_period_end": False})


@translating
def switch_price(subscription_id: str, item_id: str, price_id: str, *, invoice_now: bool,
                 metadata: dict[str, str], idempotency_key: str) -> None:
    """Move the item to another Price: prorated and charged at once (`invoice_now`), or
    from the next renewal without credit."""
    params: dict[str, Any] = {
        "items": [{"id": item_id, "price": price_id}],
        "proration_behavior": "always_invoice" if invoice_now else "none",
        "metadata": metadata}
    stripe_client().v1.subscriptions.update(subscription_id, params=params,  # type: ignore[arg-type]
                                            options={"idempotency_key": idempotency_key})


@translating
def set_amount(subscription_id: str, item_id: str, *, currency: str, product_id: str, unit_amount: int,
               interval: str, metadata: dict[str, str]) -> None:
    """Bill a pay-what-you-want item a new amount (inline price) from the next renewal."""
    params: dict[str, Any] = {
        "items": [{"id": item_id, "price_data": {
            "currency": stripe_currency(currency), "product": product_id, "unit_amount": unit_amount,
            "recurring": {"interval": interval}}}],
        "proration_behavior": "none",
        "metadata": metadata}
    stripe_client().v1.subscriptions.update(subscription_id, params=params)  # type: ignore[arg-type]


class Move(StrEnum):
    """What `move_to_price` found at Stripe, and so did (only MOVED changed anything)."""

    MOVED = "moved"
    ALREADY = "already"  # on the new price already: an earlier run whose webhook is not in yet
    ELSEWHERE = "elsewhere"  # on a third price (or several items): the reader changed plan meanwhile
    NOT_RENEWING = "not_renewing"  # gone, ended, ending, or collection paused
    SCHEDULED = "scheduled"  # a subscription schedule owns its next change (a deferred downgrade)


_RENEWING = ("active", "trialing", "past_due")


@translating
def move_to_price(subscription_id: str, from_price_id: str, to_price_id: str, *, idempotency_key: str,
                  metadata: dict[str, str]) -> Move:
    """From the next renewal bill `to_price_id` instead of `from_price_id` (no proration:
    the period already paid stays as paid), when Stripe still shows the subscription
    renewing on `from_price_id`; otherwise change nothing and say why.

    Stripe's current state is read first, so a repeat after the idempotency key expired
    (24 h) still makes no second change; the key covers two runs racing each other."""
    client = stripe_client()
    try:
        with translated():
            sub = as_dict(client.v1.subscriptions.retrieve(subscription_id))
    except NotFound:
        return Move.NOT_RENEWING
    if (sub.get("status") not in _RENEWING or sub.get("cancel_at_period_end") or sub.get("cancel_at")
            or sub.get("pause_collection")):
        return Move.NOT_RENEWING
    items = (sub.get("items") or {}).get("data") or []
    current = id_of(items[0].get("price")) if len(items) == 1 else None
    if current == to_price_id:
        return Move.ALREADY
    if current != from_price_id:
        return Move.ELSEWHERE
    if sub.get("schedule"):
        return Move.SCHEDULED
    params: dict[str, Any] = {"items": [{"id": str(items[0]["id"]), "price": to_price_id}],
                              "proration_behavior": "none", "metadata": metadata}
    client.v1.subscriptions.update(subscription_id, params=params,  # type: ignore[arg-type]
                                   options={"idempotency_key": idempotency_key})
    return Move.MOVED
