"""Checkout Sessions: open one for a purchase, and read one back after its events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from membership.billing.gateway.client import stripe_client
from membership.billing.gateway.errors import translating
from membership.billing.gateway.shapes import as_dict, currency, id_of, metadata
from membership.money import stripe_currency


@dataclass(frozen=True)
class CatalogPrice:
    """A Price that exists at Stripe."""

    price_id: str


@dataclass(frozen=True)
class InlinePrice:
    """An amount the reader chose, on the plan's Product (recurring when `interval`)."""

    currency: str
    product_id: str
    unit_amount: int
    interval: str | None = None


@dataclass(frozen=True)
class CheckoutRequest:
    customer_id: str
    reader_id: int
    item: CatalogPrice | InlinePrice
    metadata: dict[str, str]  # also copied to the subscription or payment intent
    success_url: str
    cancel_url: str
    recurring: bool
    donation: bool = False  # the pay button says "Donate"
    trial_days: int = 0  # a free trial before the first charge (subscriptions only)
    promotion_code_id: str | None = None  # promo_...: the discount shown to the reader before Checkout


@dataclass(frozen=True)
class OpenedSession:
    id: str
    mode: str
    url: str


@dataclass(frozen=True)
class CheckoutSession:
    """What the handlers read of a session once Stripe reports on it."""

    id: str
    mode: str | None
    payment_status: str | None
    customer_id: str | None
    client_reference_id: str | None
    subscription_id: str | None
    payment_intent_id: str | None
    metadata: dict[str, str]
    amount_total: int
    currency: str | None  # upper case
    status: str | None = None  # open | complete | expired
    amount_discount: int = 0


def _line_item(item: CatalogPrice | InlinePrice) -> dict[str, Any]:
    if isinstance(item, CatalogPrice):
        return {"price": item.price_id, "quantity": 1}
    price_data: dict[str, Any] = {"currency": stripe_currency(item.currency), "product": item.product_id,
                                  "unit_amount": item.unit_amount}
    if item.interval:
        price_data["recurring"] = {"interval": item.interval}
    return {"price_data": price_data, "quantity": 1}


def _params(req: CheckoutRequest) -> dict[str, Any]:
    params: dict[str, Any] = {"customer": req.customer_id, "client_reference_id": str(req.reader_id),
                              "metadata": req.metadata, "line_items": [_line_item(req.item)],
                              "success_url": req.success_url, "cancel_url": req.cancel_url}
    if req.recurring:
        subscription_data: dict[str, Any] = {"metadata": req.metadata}
        if req.trial_days:
            subscription_data["trial_period_days"] = req.trial_days
        params.update(mode="subscription", subscription_data=subscription_data)
    else:
        params.update(mode="payment", payment_intent_data={"metadata": req.metadata})
        if req.donation:
            params["submit_type"] = "donate"
    if req.promotion_code_id:
        params["discounts"] = [{"promotion_code": req.promotion_code_id}]
    return params


@translating
def open_checkout_session(req: CheckoutRequest, idempotency_key: str) -> OpenedSession:
    """Create the hosted Checkout page (the same key replays the same session)."""
    session = stripe_client().v1.checkout.sessions.create(
        params=_params(req), options={"idempotency_key": idempotency_key})  # type: ignore[arg-type]
    return OpenedSession(str(session.id), str(session.mode), str(session.url or ""))


@translating
def fetch_checkout_session(session_id: str) -> CheckoutSession:
    data = as_dict(stripe_client().v1.checkout.sessions.retrieve(session_id))
    return CheckoutSession(
        id=str(data["id"]), mode=data.get("mode"), payment_status=data.get("payment_status"),
        customer_id=id_of(data.get("customer")), client_reference_id=data.get("client_reference_id"),
        subscription_id=id_of(data.get("subscription")), payment_intent_id=id_of(data.get("payment_intent")),
        metadata=metadata(data), amount_total=int(data.get("amount_total") or 0),
        currency=currency(data.get("currency")), status=data.get("status"),
        amount_discount=int((data.get("total_details") or {}).get("amount_discount") or 0))
