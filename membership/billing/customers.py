"""Tying Stripe objects back to our readers.

The customer is created before Checkout with `metadata.reader_id`, so subscription
and invoice events that beat `checkout.session.completed` can still be resolved.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from membership.billing.events import RetryLater
from membership.extensions import db
from membership.identity.models import Reader


def resolve_reader(customer_id: str | None, metadata: dict[str, Any] | None = None) -> Reader:
    """Find the reader by Stripe customer id, else by `metadata.reader_id`.

    Raises RetryLater when neither is known yet: the event must not be dropped.
    """
    if customer_id:
        reader = db.session.scalar(select(Reader).where(Reader.stripe_customer_id == customer_id))
        if reader is not None:
            return reader
    raw_id = (metadata or {}).get("reader_id")
    if raw_id and str(raw_id).isdigit():
        reader = db.session.get(Reader, int(raw_id))
        if reader is not None:
            if customer_id and reader.stripe_customer_id is None:
                reader.stripe_customer_id = customer_id
            return reader
    raise RetryLater(f"no reader yet for customer {customer_id!r}")
