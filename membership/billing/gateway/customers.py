"""Stripe customers: created once per reader, read back for email sync and reader
resolution, and erased (personal data removed, the object kept) on request."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from membership.billing.gateway.client import stripe_client
from membership.billing.gateway.errors import NotFound, translated, translating

_ENDED = ("canceled", "incomplete_expired")


@dataclass(frozen=True)
class Customer:
    id: str
    email: str | None
    deleted: bool = False
    metadata: dict[str, str] = field(default_factory=dict)


@translating
def create_customer(email: str, name: str, reader_id: int, idempotency_key: str) -> str:
    """A new customer tagged with `metadata.reader_id`; returns its id."""
    customer = stripe_client().v1.customers.create(
        params={"email": email, "name": name, "metadata": {"reader_id": str(reader_id)}},
        options={"idempotency_key": idempotency_key})
    return str(customer.id)


def fetch_customer(customer_id: str) -> Customer | None:
    """The customer as Stripe has it now; None when Stripe does not know it.

    Read attribute by attribute (no full conversion): customer.updated is the webhook
    path's most common event.
    """
    try:
        with translated():
            obj = stripe_client().v1.customers.retrieve(customer_id)
    except NotFound:
        return None
    if getattr(obj, "deleted", False):
        return Customer(id=customer_id, email=None, deleted=True)
    raw = getattr(obj, "metadata", None)
    meta = {str(k): str(v) for k, v in raw.to_dict().items()} if raw else {}
    return Customer(id=str(obj.id), email=getattr(obj, "email", None), metadata=meta)


@translating
def erase_customer(customer_id: str, live_subscription_ids: Iterable[str]) -> None:
    """Cancel the named subscriptions that are still live at Stripe, then blank the
    customer's name, email, phone and description (the object stays, so refunds and
    disputes on past charges still resolve)."""
    client = stripe_client()
    for sub_id in live_subscription_ids:
        sub = client.v1.subscriptions.retrieve(sub_id)
        if sub.status not in _ENDED:
            client.v1.subscriptions.cancel(sub_id, params={"cancellation_details": {"comment": "erasure"}})
    client.v1.customers.update(customer_id, params={
        "name": "", "email": "", "phone": "", "description": "", "metadata": {"erased": "true"}})
